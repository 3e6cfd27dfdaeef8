from django.urls import path

from lifecycle.analytics import views as analytics
from lifecycle.board import views as board
from lifecycle.work import views as work

app_name = "lifecycle"

urlpatterns = [
    path("board/", board.board, name="board"),
    path("board/move/<slug:slug>/", board.move, name="move"),
    path("analytics/", analytics.analytics, name="analytics"),
    path("products/<slug:slug>/move/", work.product_move, name="product-move"),
    path("products/<slug:slug>/work/", work.work, name="work"),
    path("products/<slug:slug>/work/<slug:kind>/add/", work.work_add, name="work-add"),
    path("products/<slug:slug>/work/<slug:kind>/<int:pk>/edit/", work.work_edit, name="work-edit"),
    path("products/<slug:slug>/work/<slug:kind>/<int:pk>/delete/", work.work_delete, name="work-delete"),
]
