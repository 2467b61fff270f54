"""Validation of incoming feedback, shared by every entry point.

The API, the CSV importer and the survey form all hand raw mappings to
`feedback.services.feedback_ingest_many`, which validates them here, so a
rule holds the same way wherever feedback comes from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta

from django.core.validators import ProhibitNullCharactersValidator
from django.utils import timezone
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from cvx_site.inputs import json_problem
from feedback.choices import RESERVED_SOURCES, SURVEY_SOURCES, FeedbackKind, IdentityKind, SurveyPurpose
from feedback.scores import CES_RANGE, CSAT_RANGE, NPS_RANGE, VES_RANGE
from feedback.sentiment import COMMENT_MAX_CHARS
from journeys.selectors import touchpoint_not_live_reason

METADATA_MAX_KEYS = 50
METADATA_MAX_CHARS = 10_000
# Fields whose JSON has a size of its own to respect (text fields have max_length).
_JSON_MAX_CHARS = {"metadata": METADATA_MAX_CHARS}
# Clocks of integrations drift; a response from a little in the future is
# accepted, one from tomorrow is a bug upstream.
FUTURE_TOLERANCE = timedelta(minutes=10)
_PHONE_JUNK = re.compile(r"[\s().\-/]")
# The scores an item may carry; one of them or a comment makes a response.
SCORE_FIELDS = ("nps", "csat", "ces", "ves")
# The answer to a follow-up belongs to its case, which is live even when the
# touchpoint's journey has since been switched off: it is taken there too.
_FOLLOW_UP_SOURCE = SURVEY_SOURCES[SurveyPurpose.FOLLOW_UP]


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


class _FastTextMixin:
    """Text fields without DRF's per-field NUL and surrogate validators:
    FeedbackInSerializer checks every string of an item for those first,
    once (cvx_site.inputs), before any field can echo the text in an error."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        checked_already = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
        self.validators = [v for v in self.validators if not isinstance(v, checked_already)]


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
            kind: normalise_identity(kind, attrs[kind]) for kind in IdentityKind.values if attrs.get(kind, "").strip()
        }
        if not identities:
            raise serializers.ValidationError(
                "Identify the customer by at least one of external_id, email, phone or social."
            )
        return {"identities": identities, "name": attrs.get("name", "").strip()}


def _sentence(problem: str) -> str:
    return problem[0].upper() + problem[1:] + "."


class FeedbackInSerializer(serializers.Serializer):
    """One response as integrations send it (the public contract: README, API).

    `context["touchpoints"]` maps slug -> Touchpoint for the whole batch, so a
    thousand items cost one touchpoint query, not a thousand.
    `context["trusted"]` (CVX's own survey path only) allows the sources in
    RESERVED_SOURCES, which every other caller is refused.
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
    ves = serializers.IntegerField(
        min_value=VES_RANGE[0],
        max_value=VES_RANGE[1],
        required=False,
        allow_null=True,
        error_messages={
            key: f"The VES (Value Enhancement Score) is a whole number from {VES_RANGE[0]} to {VES_RANGE[1]}."
            for key in ("invalid", "min_value", "max_value", "max_string_length")
        },
    )
    comment = CharField(max_length=COMMENT_MAX_CHARS, required=False, allow_blank=True, default="")
    metadata = serializers.DictField(required=False, default=dict)

    def to_internal_value(self, data):
        # Every field's raw value, nested ones included, must be storable JSON
        # before any field reads it: DRF's messages echo the input, and a
        # reply with an unpaired surrogate in it cannot even be encoded.
        if isinstance(data, Mapping):
            problems = {
                name: [_sentence(problem)]
                for name in self.fields
                if name in data
                if (problem := json_problem(data[name], max_chars=_JSON_MAX_CHARS.get(name))) is not None
            }
            if problems:
                raise serializers.ValidationError(problems)
        return super().to_internal_value(data)

    def validate_source(self, value: str) -> str:
        if value.lower() in RESERVED_SOURCES and not self.context.get("trusted"):
            raise serializers.ValidationError(
                f"{value!r} is reserved for the answers to CVX's own surveys; use another source."
            )
        return value

    def validate_touchpoint(self, slug: str):
        touchpoint = self.context["touchpoints"].get(slug)
        if touchpoint is None:
            raise serializers.ValidationError(f"Unknown touchpoint {slug!r}.")
        # A draft journey takes no feedback. Trusted items are checked in
        # validate(), where their source says whether they answer a follow-up.
        if not self.context.get("trusted") and (reason := touchpoint_not_live_reason(touchpoint)):
            raise serializers.ValidationError(reason)
        return touchpoint

    def validate_occurred_at(self, value):
        if value is not None and value > timezone.now() + FUTURE_TOLERANCE:
            raise serializers.ValidationError("Cannot be in the future.")
        return value

    def validate_metadata(self, value: dict) -> dict:
        # Its content was checked with the rest of the item (to_internal_value).
        if len(value) > METADATA_MAX_KEYS:
            raise serializers.ValidationError(f"At most {METADATA_MAX_KEYS} keys; got {len(value)}.")
        return value

    def validate(self, attrs: dict) -> dict:
        if all(attrs.get(score) is None for score in SCORE_FIELDS) and not attrs.get("comment"):
            raise serializers.ValidationError(
                {"non_field_errors": [f"Give at least one score ({', '.join(SCORE_FIELDS)}) or a comment."]}
            )
        if self.context.get("trusted") and attrs["source"].lower() != _FOLLOW_UP_SOURCE:
            if reason := touchpoint_not_live_reason(attrs["touchpoint"]):
                raise serializers.ValidationError({"touchpoint": [reason]})
        return attrs
