from django.apps import AppConfig


class SpmConfig(AppConfig):
    """The site itself: no models, only the wiring that belongs to no domain app (security logging)."""

    name = "spm"
    verbose_name = "SPM Dashboard"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from spm.middleware import log_failed_login

        user_login_failed.connect(log_failed_login, dispatch_uid="spm-log-failed-login")
