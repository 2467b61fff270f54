from rest_framework import serializers

from cases import handling, policy
from cases.choices import ContactChannel, OpportunityKind
from cases.models import Case, CaseEvent
from cases.services.transitions import NOTE_MAX_CHARS


class CaseSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    touchpoint = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    journey = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    root_cause = serializers.StringRelatedField(read_only=True, allow_null=True)
    breached = serializers.BooleanField(source="is_breached", read_only=True)
    opportunity_kind = serializers.ChoiceField(
        choices=OpportunityKind.choices,
        allow_blank=True,
        read_only=True,
        help_text="An opportunity's kind; empty for a complaint.",
    )
    actions = serializers.SerializerMethodField(help_text="What the caller may do to the case now.")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "kind",
            "opportunity_kind",
            "amount",
            "status",
            "outcome",
            "priority",
            "owner",
            "team",
            "customer",
            "touchpoint",
            "journey",
            "feedback",
            "first_contact_due",
            "resolve_due",
            "due_at",
            "breached",
            "first_contact_at",
            "resolved_at",
            "closed_at",
            "root_cause",
            "resolution_summary",
            "created_at",
            "updated_at",
            "actions",
        ]
        read_only_fields = fields

    def get_actions(self, case: Case) -> list[str]:
        request = self.context["request"]
        member = case.team_id in self.context["member_team_ids"]
        return policy.allowed_actions(request.user, case, member=member)


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = ["seq", "kind", "actor", "at", "changes", "note", "data", "prev_hash", "hash"]
        read_only_fields = fields

    def get_actor(self, event: CaseEvent) -> str:
        return event.actor.get_username() if event.actor_id else "system"


def _taken_by(name: str, what: str) -> str:
    """`what` the parameter `name` is, and which actions of the state table
    take it (and require it)."""
    takes = [a for a in policy.ACTIONS if any(p.name == name for p in policy.TRANSITIONS[a].params)]
    return f"{what}: " + ", ".join(f"{a} (required)" if policy.param(a, name).required else a for a in takes) + "."


def handling_minutes_field(help_text: str) -> serializers.DecimalField:
    """A contact's handling time as entered; its bounds are the service's to check (cases.handling)."""
    return serializers.DecimalField(
        max_digits=None, decimal_places=None, required=False, allow_null=True, help_text=help_text
    )


class TransitionSerializer(serializers.Serializer):
    """One of people's actions and its parameters (cases.policy.TRANSITIONS)."""

    action = serializers.ChoiceField(choices=policy.ACTIONS)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=NOTE_MAX_CHARS,
        help_text=_taken_by("note", "The note, reason or summary"),
    )
    owner = serializers.IntegerField(required=False, help_text=_taken_by("owner", "The new owner's user id"))
    root_cause = serializers.IntegerField(required=False, help_text=_taken_by("root_cause", "The root cause's id"))
    channel = serializers.ChoiceField(
        choices=ContactChannel.choices, required=False, help_text=_taken_by("channel", "How the customer was reached")
    )
    unreachable = serializers.BooleanField(
        required=False,
        help_text=_taken_by(
            "unreachable", "True: the customer could not be reached (resolve without a contact; counted apart)"
        ),
    )
    handling_minutes = handling_minutes_field(_taken_by("handling_minutes", handling.ENTERED_HELP))
    # Any text: the service says what is wrong with it (cases.services.transitions.parse_amount).
    amount = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=40,
        help_text=_taken_by("amount", "What the opportunity brought in, a number at least 0 with at most 2 decimals"),
    )
    opened = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_taken_by(
            "opened", "The signed time the case page's form was opened, from which the handling time is measured"
        ),
    )
