"""One base class for domain errors, mapped once to HTTP status codes.

Services raise these; the API's exception handler and the page views turn
them into responses, so no caller translates errors on its own.
"""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses. `status` is the HTTP code it maps to."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        if self.field:
            return {self.field: [self.message]}
        return {"detail": self.message, "code": self.code}


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    """The target's current state forbids the request (e.g. a case transition)."""

    status = 409
    code = "conflict"
