"""System checks of the site's own configuration (tag `cvx`)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error
from django.core.mail.backends.console import EmailBackend as ConsoleBackend
from django.utils.module_loading import import_string

TAG = "cvx"


def check_console_email(app_configs=None, **kwargs) -> list[CheckMessage]:
    """cvx.E001: with DJANGO_DEBUG off, emails would be written to the console
    (or a file, which subclasses it) instead of being sent, unless
    CVX_ALLOW_CONSOLE_EMAIL says that is meant. The console is the worker's
    log, and emails carry customer addresses and single-use links."""
    if settings.DEBUG or settings.CVX_ALLOW_CONSOLE_EMAIL:
        return []
    if not issubclass(import_string(settings.EMAIL_BACKEND), ConsoleBackend):
        return []
    return [
        Error(
            "DJANGO_DEBUG is off but emails are written to the console, not sent (DJANGO_EMAIL_HOST is empty): "
            "customers get no survey links, and the worker's log would hold what the emails carry.",
            hint=(
                "Set DJANGO_EMAIL_HOST (and DJANGO_EMAIL_HOST_USER / DJANGO_EMAIL_HOST_PASSWORD) to send email, "
                "or CVX_ALLOW_CONSOLE_EMAIL=true where no email should go out (addresses and links are then "
                "masked in the output)."
            ),
            id="cvx.E001",
        )
    ]
