from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from spm import views

admin.site.site_header = "SPM Dashboard administration"
admin.site.site_title = "SPM Dashboard admin"
admin.site.index_title = "Portfolio data"

urlpatterns = [
    path("", include("portfolio.urls")),
    path("products/", include("products.urls")),
    path("lifecycle/", include("lifecycle.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]

handler403 = "spm.views.permission_denied"
handler404 = "spm.views.page_not_found"
handler500 = "spm.views.server_error"
