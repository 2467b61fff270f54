from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site itself: no models, only its system checks."""

    name = "cvx_site"
    verbose_name = "CVX site"

    def ready(self) -> None:
        from django.core import checks

        from cvx_site.checks import TAG, check_console_email

        checks.register(check_console_email, TAG)
