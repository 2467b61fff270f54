"""System checks of the cases app."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error


def check_audit_key(app_configs, **kwargs) -> list[Error]:
    """In production the audit trail's key must come from the environment:
    the development fallback derives from DJANGO_SECRET_KEY, which lives
    beside the app and changes for other reasons."""
    if settings.DEBUG or settings.CVX_AUDIT_KEY_SET:
        return []
    return [
        Error(
            "CVX_AUDIT_KEY is not set: the audit trail's hashes and checkpoints would be keyed with a fallback "
            "derived from DJANGO_SECRET_KEY.",
            hint="Set CVX_AUDIT_KEY to a random secret of at least 32 characters that is not stored in the database "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))') and keep a copy for verifying.",
            id="cases.E001",
        )
    ]
