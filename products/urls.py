from django.urls import path

from products import views

app_name = "products"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("<slug:slug>/", views.product_detail, name="detail"),
    path("<slug:slug>/edit/", views.product_edit, name="edit"),
    path("<slug:slug>/history/", views.product_history, name="history"),
    path("<slug:slug>/measurements/", views.measurement_create, name="measurement-create"),
]
