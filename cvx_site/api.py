"""API plumbing shared by every app: error mapping, base permissions and the
error replies every operation documents."""

from __future__ import annotations

from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import exception_handler as drf_exception_handler

from cvx_site.errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, plus DomainError -> its status with a JSON body, and a
    form body with more fields or files than Django reads -> a JSON 400
    (Django would answer its HTML page)."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return Response({"detail": str(exc), "code": "too_many_fields"}, status=400)
    return drf_exception_handler(exc, context)


class ReadAnyWriteWithModelPerms(permissions.DjangoModelPermissions):
    """Any authenticated caller reads; writes need the model's add/change/delete perms."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": [],
        "HEAD": [],
        "OPTIONS": [],
    }


# A viewset's `lookup_value_regex`: any one path segment reaches the view, so
# a malformed id or slug (`/cases/0.5/`) is the API's JSON 404 and not
# Django's HTML page (the router's default leaves out dots).
ANY_SEGMENT = "[^/]+"


class Router(SimpleRouter):
    """Every app's router: a viewset's lookup matches ANY_SEGMENT unless the
    viewset sets its own `lookup_value_regex`."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        if not hasattr(viewset, "lookup_value_regex"):
            viewset = type(viewset.__name__, (viewset,), {"lookup_value_regex": ANY_SEGMENT})
        return super().get_lookup_regex(viewset, lookup_prefix)


_DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail"],
}
# DRF's validation errors: field name -> messages (nested for nested input), or
# `non_field_errors`; a DomainError without a field gives `detail` and `code`.
_FIELD_ERRORS = {
    "type": "object",
    "additionalProperties": True,
    "description": "Field name -> list of messages; `non_field_errors` for the whole input.",
}
_ERRORS = {
    400: ("Invalid input: field-level messages.", _FIELD_ERRORS),
    401: ("Not authenticated.", _DETAIL),
    403: ("Authenticated, but not allowed to do this.", _DETAIL),
    404: ("Not found, or not one the caller may see; or a page or cursor that does not exist.", _DETAIL),
    415: ("A request body in a media type the operation does not read.", _DETAIL),
    429: ("Throttled: too many requests; see Retry-After.", _DETAIL),
}


class ErrorsDocumentedSchema(AutoSchema):
    """drf-spectacular's schema plus the error replies the API promises (docs/architecture.md), so
    clients (and the schemathesis contract test) may rely on them: 401 and
    429 everywhere, 400 where there is input, 415 where there is a body, 403
    on writes, 404 where the path names an object or the list is paged. 409
    is declared by the views that can give it."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        params = {p["name"]: p["in"] for p in operation.get("parameters", [])}
        codes = {401, 429}
        if "query" in params.values():
            codes.add(400)
        if "requestBody" in operation:
            codes |= {400, 415}
        if method.upper() not in ("GET", "HEAD", "OPTIONS"):
            codes.add(403)
        if "path" in params.values() or {"page", "cursor"} & params.keys():
            codes.add(404)
        for code in sorted(codes):
            description, schema = _ERRORS[code]
            operation["responses"].setdefault(
                str(code), {"content": {"application/json": {"schema": schema}}, "description": description}
            )
        return operation
