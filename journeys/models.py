from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from journeys.choices import Channel, JourneyState, StageSide, ValueDimension
from journeys.validators import ChoiceListValidator

# A year is the longest SLA anyone should configure; longer is a typo.
MAX_SLA_HOURS = 24 * 365
# The Value Enhancement Score's statement unless a touchpoint words it for itself.
DEFAULT_VES_QUESTION = "After this, I am better able to get what I need from your products and services."


class Team(models.Model):
    """A frontline team that owns touchpoints and works their cases."""

    name = models.CharField(max_length=120, unique=True)
    slug = models.SlugField(max_length=80, unique=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Journey(models.Model):
    """A customer journey, as it is today (current) or as designed (future)."""

    name = models.CharField(max_length=160)
    slug = models.SlugField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=JourneyState.choices, default=JourneyState.CURRENT)
    based_on = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="future_versions",
        help_text="The current-state journey this future-state design was copied from.",
    )
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0, help_text="Order in lists; lower first.")

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        state = self.get_state_display().lower()
        # A draft named by the copy action already says "future state".
        return self.name if state in self.name.lower() else f"{self.name} ({state})"


class Stage(models.Model):
    """A step of a journey, e.g. Discover, Purchase, Get help."""

    journey = models.ForeignKey(Journey, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(max_length=120)
    position = models.PositiveIntegerField(default=0)
    pain_points = models.TextField(blank=True, help_text="What goes wrong for customers at this stage.")
    moments_of_truth = models.TextField(
        blank=True, help_text="The moments at this stage that make or break the customer's trust."
    )

    class Meta:
        ordering = ["journey", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["journey", "name"], name="stage_name_unique_in_journey"),
        ]

    def __str__(self) -> str:
        return f"{self.journey.name} › {self.name}"


class Touchpoint(models.Model):
    """A place where the customer meets the business, owned by a team."""

    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="touchpoints")
    name = models.CharField(max_length=160)
    slug = models.SlugField(max_length=80, unique=True, help_text="Integrations name the touchpoint by this.")
    position = models.PositiveIntegerField(default=0)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    side = models.CharField(
        "front or back stage",
        max_length=5,
        choices=StageSide.choices,
        default=StageSide.FRONT,
        help_text="Front stage: the customer sees it. Back stage: a process or policy behind it.",
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="touchpoints")
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="default_touchpoints",
        help_text="Receives this touchpoint's cases by default; must be a member of the team.",
    )
    value_dimensions = models.JSONField(
        default=list,
        blank=True,
        validators=[ChoiceListValidator(ValueDimension.values)],
        help_text="Which kinds of value this touchpoint mainly serves.",
    )
    listening_post = models.BooleanField(default=True, help_text="Collects customer feedback.")
    asks_ves = models.BooleanField(
        "asks VES",
        default=False,
        help_text="CVX's own surveys here (ordinary and follow-up) also ask the Value Enhancement Score question.",
    )
    ves_question = models.CharField(
        "VES question",
        max_length=200,
        default=DEFAULT_VES_QUESTION,
        help_text="The statement customers rate from 1 (strongly disagree) to 5 (strongly agree).",
    )
    first_contact_sla_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_HOURS)]
    )
    resolution_sla_hours = models.PositiveIntegerField(
        default=72, validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_HOURS)]
    )

    class Meta:
        ordering = ["stage__journey", "stage__position", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(first_contact_sla_hours__gte=1) & Q(resolution_sla_hours__gte=1),
                name="touchpoint_sla_hours_positive",
            ),
        ]
        indexes = [models.Index(fields=["channel"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_channel_display()})"

    @property
    def journey(self) -> Journey:
        return self.stage.journey

    def clean(self) -> None:
        errors = {}
        if self.default_owner_id and self.team_id:
            if not self.team.members.filter(pk=self.default_owner_id).exists():
                errors["default_owner"] = f"{self.default_owner} is not a member of the team {self.team}."
        if (
            self.first_contact_sla_hours
            and self.resolution_sla_hours
            and self.resolution_sla_hours < self.first_contact_sla_hours
        ):
            errors["resolution_sla_hours"] = "Resolution cannot be due before first contact."
        if errors:
            raise ValidationError(errors)
