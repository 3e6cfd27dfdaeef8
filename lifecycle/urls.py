from django.urls import path

from lifecycle import views

app_name = "lifecycle"

urlpatterns = [
    path("board/", views.board, name="board"),
    path("board/move/<slug:slug>/", views.move, name="move"),
    path("analytics/", views.analytics, name="analytics"),
    path("products/<slug:slug>/move/", views.product_move, name="product-move"),
    path("products/<slug:slug>/work/", views.work, name="work"),
    path("products/<slug:slug>/work/<slug:kind>/add/", views.work_add, name="work-add"),
    path("products/<slug:slug>/work/<slug:kind>/<int:pk>/edit/", views.work_edit, name="work-edit"),
    path("products/<slug:slug>/work/<slug:kind>/<int:pk>/delete/", views.work_delete, name="work-delete"),
]
