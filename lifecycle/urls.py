from django.urls import path

from lifecycle import views

app_name = "lifecycle"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/move/<slug:slug>/", views.move, name="move"),
]
