"""Validation of incoming feedback, shared by every entry point.

The API, the CSV importer and the survey form all hand raw mappings to
`feedback.services.feedback_ingest_many`, which validates them here, so a
rule holds the same way wherever feedback comes from.
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from feedback.choices import FeedbackKind, IdentityKind
from feedback.scores import CES_RANGE, CSAT_RANGE, NPS_RANGE
from feedback.sentiment import COMMENT_MAX_CHARS

METADATA_MAX_KEYS = 50
METADATA_MAX_CHARS = 10_000
# Clocks of integrations drift; a response from a little in the future is
# accepted, one from tomorrow is a bug upstream.
FUTURE_TOLERANCE = timedelta(minutes=10)
_PHONE_JUNK = re.compile(r"[\s().\-/]")


def normalise_identity(kind: str, value: str) -> str:
    """The stored form of an identity, so `A@X.com` and `a@x.com` match."""
    value = value.strip()
    if kind == IdentityKind.EMAIL:
        return value.lower()
    if kind == IdentityKind.PHONE:
        return _PHONE_JUNK.sub("", value)
    if kind == IdentityKind.SOCIAL:
        return value.lstrip("@").lower()
    return value


class _SurrogateCheck(ProhibitSurrogateCharactersValidator):
    """DRF's check with its message, by one regex search instead of a Python
    loop over every character: that loop was a sixth of the time spent
    validating a batch of comments."""

    _surrogate = re.compile("[\ud800-\udfff]")

    def __call__(self, value):
        found = self._surrogate.search(str(value))
        if found:
            raise serializers.ValidationError(self.message.format(code_point=ord(found.group())), code=self.code)


class _FastTextMixin:
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [_SurrogateCheck() if isinstance(v, ProhibitSurrogateCharactersValidator) else v
                           for v in self.validators]


class CharField(_FastTextMixin, serializers.CharField):
    pass


class SlugField(_FastTextMixin, serializers.SlugField):
    pass


class EmailField(_FastTextMixin, serializers.EmailField):
    pass


class CustomerInSerializer(serializers.Serializer):
    external_id = CharField(max_length=200, required=False, allow_blank=True)
    email = EmailField(max_length=254, required=False, allow_blank=True)
    phone = CharField(max_length=40, required=False, allow_blank=True)
    social = CharField(max_length=100, required=False, allow_blank=True)
    name = CharField(max_length=200, required=False, allow_blank=True)

    def validate_phone(self, value: str) -> str:
        normalised = normalise_identity(IdentityKind.PHONE, value)
        if normalised and not re.fullmatch(r"\+?\d{6,20}", normalised):
            raise serializers.ValidationError("Enter a phone number of 6 to 20 digits, optionally starting with +.")
        return value

    def validate(self, attrs: dict) -> dict:
        identities = {
            kind: normalise_identity(kind, attrs[kind])
            for kind in IdentityKind.values
            if attrs.get(kind, "").strip()
        }
        if not identities:
            raise serializers.ValidationError(
                "Identify the customer by at least one of external_id, email, phone or social."
            )
        return {"identities": identities, "name": attrs.get("name", "").strip()}


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


class FeedbackInSerializer(serializers.Serializer):
    """One response as integrations send it (DESIGN's public contract).

    `context["touchpoints"]` maps slug -> Touchpoint for the whole batch, so a
    thousand items cost one touchpoint query, not a thousand.
    """

    touchpoint = CharField(max_length=80)
    customer = CustomerInSerializer(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=FeedbackKind.choices, default=FeedbackKind.DIRECT)
    source = SlugField(max_length=40)
    external_id = CharField(max_length=200)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    nps = serializers.IntegerField(min_value=NPS_RANGE[0], max_value=NPS_RANGE[1], required=False, allow_null=True)
    csat = serializers.IntegerField(min_value=CSAT_RANGE[0], max_value=CSAT_RANGE[1], required=False, allow_null=True)
    ces = serializers.IntegerField(min_value=CES_RANGE[0], max_value=CES_RANGE[1], required=False, allow_null=True)
    comment = CharField(max_length=COMMENT_MAX_CHARS, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=dict)

    def validate_touchpoint(self, slug: str):
        touchpoint = self.context["touchpoints"].get(slug)
        if touchpoint is None:
            raise serializers.ValidationError(f"Unknown touchpoint {slug!r}.")
        return touchpoint

    def validate_occurred_at(self, value):
        if value is not None and value > timezone.now() + FUTURE_TOLERANCE:
            raise serializers.ValidationError("Cannot be in the future.")
        return value

    def validate_metadata(self, value: dict) -> dict:
        import json

        if len(value) > METADATA_MAX_KEYS or len(json.dumps(value, default=str)) > METADATA_MAX_CHARS:
            raise serializers.ValidationError(
                f"At most {METADATA_MAX_KEYS} keys and {METADATA_MAX_CHARS} characters of JSON."
            )
        if _has_nul(value):  # PostgreSQL's jsonb refuses \u0000: a 400 here, not a 500 at the insert
            raise serializers.ValidationError("Null characters are not allowed.")
        return value

    def validate(self, attrs: dict) -> dict:
        if all(attrs.get(score) is None for score in ("nps", "csat", "ces")) and not attrs.get("comment"):
            raise serializers.ValidationError(
                {"non_field_errors": ["Give at least one score (nps, csat, ces) or a comment."]}
            )
        return attrs
