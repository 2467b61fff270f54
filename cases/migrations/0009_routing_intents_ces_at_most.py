"""Routing rules gain `intents_any` and `ces_at_most`, lose `ces_at_least`.

CES is 1–7 with 7 = least effort, so "CES at least N" routed easy
experiences. No "at most" bound means the same thing, except N = 1 (any CES
score at all), which is "CES at most 7" and carries over as such. Any other
such rule is switched off with a note rather than rewritten: dropping the
condition would widen the rule and flood the queues, and turning it into an
"at most" bound would silently route the opposite feedback. An admin reads
the note, sets the condition they meant and switches the rule back on.
"""

import re

import django.core.validators
from django.core.exceptions import ValidationError
from django.db import migrations, models
from django.utils.deconstruct import deconstructible


# Frozen copy of journeys.validators.ChoiceListValidator as this migration was
# written; it deconstructs to the same path, so the state matches the models.
@deconstructible(path="journeys.validators.ChoiceListValidator")
class ChoiceListValidator:
    """A JSON list whose items all come from `allowed`."""

    def __init__(self, allowed: list[str]) -> None:
        self.allowed = list(allowed)

    def __call__(self, value) -> None:
        if not isinstance(value, list) or any(item not in self.allowed for item in value):
            raise ValidationError("Choose from: %(allowed)s.", params={"allowed": ", ".join(self.allowed)})

    def __eq__(self, other) -> bool:
        return isinstance(other, ChoiceListValidator) and other.allowed == self.allowed


_MARK = re.compile(r"\[was ces_at_least=(\d)\]")


def _note(n: int) -> str:
    return (
        f"Switched off when “CES at least” was removed [was ces_at_least={n}]: this rule matched effort "
        f"scores of {n} or more, the easy experiences (7 = least effort). High effort is a low score: set "
        "“CES at most”, try it with the preview, then switch the rule on again."
    )


def ces_at_least_to_at_most(apps, schema_editor):
    RoutingRule = apps.get_model("cases", "RoutingRule")
    for rule in RoutingRule.objects.filter(ces_at_least__isnull=False):
        if rule.ces_at_least <= 1:
            rule.ces_at_most = 7  # "any CES score", the same either way
        else:
            rule.active = False
            rule.notes = f"{rule.notes}\n\n{_note(rule.ces_at_least)}".strip()
        rule.save(update_fields=["ces_at_most", "active", "notes"])


def ces_at_most_back(apps, schema_editor):
    RoutingRule = apps.get_model("cases", "RoutingRule")
    for rule in RoutingRule.objects.filter(ces_at_most=7):
        rule.ces_at_least = 1
        rule.save(update_fields=["ces_at_least"])
    for rule in RoutingRule.objects.filter(notes__contains="[was ces_at_least="):
        n = int(_MARK.search(rule.notes).group(1))
        rule.ces_at_least, rule.active = n, True
        rule.notes = rule.notes.replace(_note(n), "").strip()
        rule.save(update_fields=["ces_at_least", "active", "notes"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_audit_append_only_and_schedules"),
    ]

    operations = [
        migrations.AddField(
            model_name="routingrule",
            name="ces_at_most",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Effort scores at or below this match (1–7, 7 = least effort: high effort is a low score).",
                null=True,
                validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(7)],
            ),
        ),
        migrations.AddField(
            model_name="routingrule",
            name="intents_any",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="The comment shows any one of these intents (as the CX text layer read it).",
                validators=[
                    ChoiceListValidator(["complaint", "churn_risk", "high_effort", "compliance_risk", "praise"])
                ],
            ),
        ),
        migrations.AddField(
            model_name="routingrule",
            name="notes",
            field=models.TextField(blank=True, help_text="For admins: why the rule exists, what changed it."),
        ),
        migrations.AlterField(
            model_name="routingrule",
            name="strategy",
            field=models.CharField(
                choices=[
                    ("default_owner", "Touchpoint's default owner"),
                    ("round_robin", "Round-robin over active team members"),
                    ("least_loaded", "Member with the fewest open cases"),
                    ("team_lead", "The team's lead"),
                ],
                default="default_owner",
                max_length=20,
            ),
        ),
        migrations.RunPython(ces_at_least_to_at_most, ces_at_most_back),
        migrations.RemoveField(
            model_name="routingrule",
            name="ces_at_least",
        ),
    ]
