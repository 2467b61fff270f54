"""The client's address: one rule for everything that counts per address
(the survey page's rate limit, login lockouts; DRF's throttles follow the
same NUM_PROXIES setting)."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle


def client_ip(request) -> str:
    """REMOTE_ADDR; behind a proxy (DJANGO_BEHIND_PROXY sets DRF's
    NUM_PROXIES) the address the proxy saw, read from X-Forwarded-For as DRF
    reads it. A client can send any X-Forwarded-For: only a configured proxy
    count makes that header worth believing."""
    if not api_settings.NUM_PROXIES:
        return request.META.get("REMOTE_ADDR", "")
    return BaseThrottle().get_ident(request)
