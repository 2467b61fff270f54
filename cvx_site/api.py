"""API plumbing shared by every app: error mapping and base permissions."""

from __future__ import annotations

from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from cvx_site.errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, plus DomainError -> its status with a JSON body."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    return drf_exception_handler(exc, context)


class ReadAnyWriteWithModelPerms(permissions.DjangoModelPermissions):
    """Any authenticated caller reads; writes need the model's add/change/delete perms."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
    }
