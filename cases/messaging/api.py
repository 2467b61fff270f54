"""The API of case messaging: the message serializers (used by the
`messages` action of cases.api.views.CaseViewSet) and the inbound endpoint."""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from rest_framework import serializers

from cases.api.serializers import handling_minutes_field
from cases.handling import ENTERED_HELP
from cases.messaging.inbound import inbound_email_receive
from cases.messaging.models import BODY_MAX_CHARS, SUBJECT_MAX_CHARS, Message
from cvx_site.inputs import MAX_ID

SECRET_HEADER = "X-CVX-Inbound-Secret"


class MessageInSerializer(serializers.Serializer):
    """`subject` and `body`, or `template` (its rendering fills what is left empty)."""

    subject = serializers.CharField(
        required=False, allow_blank=True, max_length=SUBJECT_MAX_CHARS, trim_whitespace=True
    )
    body = serializers.CharField(required=False, allow_blank=True, max_length=BODY_MAX_CHARS, trim_whitespace=True)
    template = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=MAX_ID)
    handling_minutes = handling_minutes_field(f"{ENTERED_HELP}.")


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Message
        fields = (
            "id",
            "direction",
            "author",
            "created_at",
            "to_email",
            "from_email",
            "subject",
            "body",
            "status",
            "error",
            "sent_at",
            "content_hash",
        )
        read_only_fields = fields


def _read_limited(request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` bytes (read no further)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return None
    raw = request.read(limit + 1)
    return None if len(raw) > limit else raw


@csrf_exempt
@require_POST
def inbound_email(request):
    """POST a raw RFC 822 email with the shared secret in X-CVX-Inbound-Secret:
    201 attached to its case, 200 a duplicate of a stored one, 202 kept as
    unmatched (no valid reply token); 401 without the header, 403 with a
    wrong one (or none configured), 413 past CVX_INBOUND_MAX_BYTES."""
    given = request.headers.get(SECRET_HEADER)
    if not given:
        return JsonResponse({"detail": f"Send the shared secret in {SECRET_HEADER}."}, status=401)
    expected = settings.CVX_INBOUND_SECRET
    if not expected or not constant_time_compare(given, expected):
        return JsonResponse({"detail": "The inbound secret is wrong."}, status=403)
    raw = _read_limited(request, settings.CVX_INBOUND_MAX_BYTES)
    if raw is None:
        return JsonResponse({"detail": f"An email may be at most {settings.CVX_INBOUND_MAX_BYTES} bytes."}, status=413)
    if not raw.strip():
        return JsonResponse({"detail": "The body must be a raw RFC 822 email."}, status=400)
    result = inbound_email_receive(raw)
    if result.status == "unmatched":
        return JsonResponse({"status": "unmatched", "reason": result.reason}, status=202)
    body = {"status": result.status, "case": result.message.case.number, "message": result.message.pk}
    return JsonResponse(body, status=201 if result.status == "attached" else 200)
