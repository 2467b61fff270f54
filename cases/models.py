from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.choices import (
    OPEN_STATUSES,
    AssignmentStrategy,
    CaseKind,
    CaseOutcome,
    CaseStatus,
    EventKind,
    NotificationKind,
    OpportunityKind,
    Priority,
    RoutingOutcome,
)
from cases.numbers import case_number
from feedback.choices import FeedbackKind, Intent
from feedback.models import Customer, FeedbackResponse, SurveyInvitation
from feedback.scores import CES_RANGE, CSAT_RANGE, NPS_RANGE, band_text
from journeys.choices import Channel
from journeys.models import MAX_SLA_HOURS, Journey, Team, Touchpoint
from journeys.validators import ChoiceListValidator

_OPEN = Q(status__in=OPEN_STATUSES)
# An opportunity's amount won: up to 9,999,999,999.99 in the account's currency.
AMOUNT_DIGITS, AMOUNT_PLACES = 12, 2
# A case due within this is flagged "due soon" in the queues.
DUE_SOON = timedelta(hours=4)


class RootCause(models.Model):
    """Why the customer was unhappy, as found when the case was resolved."""

    name = models.CharField(max_length=120)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["parent__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="root_cause_unique_in_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=Q(parent__isnull=True), name="root_cause_unique_top_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.parent.name} › {self.name}" if self.parent_id else self.name

    def clean(self) -> None:
        node, seen = self.parent, {self.pk}
        while node is not None:
            if node.pk in seen:
                raise ValidationError({"parent": "A root cause cannot be its own ancestor."})
            seen.add(node.pk)
            node = node.parent


class RoutingRule(models.Model):
    """An ordered rule: the first active rule that matches a response opens a
    case. Empty filters match everything; every condition set must hold."""

    name = models.CharField(max_length=160)
    position = models.PositiveIntegerField(
        default=0, help_text="Rules are tried in this order, lowest first; no two rules share a position."
    )
    active = models.BooleanField(default=True)
    # Filters: empty means any.
    journeys = models.ManyToManyField(Journey, blank=True, related_name="routing_rules")
    touchpoints = models.ManyToManyField(Touchpoint, blank=True, related_name="routing_rules")
    channels = models.JSONField(default=list, blank=True, validators=[ChoiceListValidator(Channel.values)])
    kinds = models.JSONField(default=list, blank=True, validators=[ChoiceListValidator(FeedbackKind.values)])
    # Conditions: each one that is set must hold.
    nps_at_most = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(NPS_RANGE[1])])
    nps_at_least = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(NPS_RANGE[1])],
        help_text="NPS scores at or above this match (e.g. 9 for promoters).",
    )
    csat_at_most = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(CSAT_RANGE[0]), MaxValueValidator(CSAT_RANGE[1])]
    )
    ces_at_most = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(CES_RANGE[0]), MaxValueValidator(CES_RANGE[1])],
        help_text=f"Effort scores at or below this match ({band_text('ces')}, {CES_RANGE[1]} = least effort: "
        "high effort is a low score).",
    )
    sentiment_at_most = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(-1), MaxValueValidator(1)],
        help_text="VADER compound, -1 to 1; e.g. -0.5 for strongly negative comments.",
    )
    intents_any = models.JSONField(
        default=list,
        blank=True,
        validators=[ChoiceListValidator(Intent.values)],
        help_text="The comment shows any one of these intents (as the CX text layer read it).",
    )
    keywords = models.TextField(
        blank=True, help_text="One per line or comma-separated; any one in the comment matches."
    )
    # Actions.
    opens = models.CharField(
        max_length=12,
        choices=CaseKind.choices,
        default=CaseKind.COMPLAINT,
        help_text="What a matching response opens: a complaint to win the customer back, or an opportunity "
        "(a promoter to ask for a referral, a review or more business).",
    )
    opportunity_kind = models.CharField(
        max_length=10, choices=OpportunityKind.choices, blank=True, help_text="Rules that open opportunities only."
    )
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text="Empty: the touchpoint's team.",
    )
    strategy = models.CharField(
        max_length=20, choices=AssignmentStrategy.choices, default=AssignmentStrategy.DEFAULT_OWNER
    )
    first_contact_sla_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_HOURS)],
        help_text="Empty: the touchpoint's.",
    )
    resolution_sla_hours = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_SLA_HOURS)],
        help_text="Empty: the touchpoint's.",
    )
    round_robin_cursor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    notes = models.TextField(blank=True, help_text="For admins: why the rule exists, what changed it.")

    class Meta:
        ordering = ["position", "id"]
        # The order decides which rule routes a response: it may not be ambiguous.
        constraints = [
            models.UniqueConstraint(fields=["position"], name="routing_rule_position_unique"),
            models.CheckConstraint(
                condition=Q(opens=CaseKind.COMPLAINT, opportunity_kind="")
                | (Q(opens=CaseKind.OPPORTUNITY) & ~Q(opportunity_kind="")),
                name="routing_rule_opportunity_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.replace("\n", ",").split(",") if k.strip()]

    def clean(self) -> None:
        if (
            self.first_contact_sla_hours
            and self.resolution_sla_hours
            and (self.resolution_sla_hours < self.first_contact_sla_hours)
        ):
            raise ValidationError({"resolution_sla_hours": "Resolution cannot be due before first contact."})
        if self.opens == CaseKind.OPPORTUNITY and not self.opportunity_kind:
            raise ValidationError({"opportunity_kind": "Choose the kind of opportunity this rule opens."})
        if self.opens == CaseKind.OPPORTUNITY and self.nps_at_least is None and not self.intents_any:
            raise ValidationError(
                {
                    "nps_at_least": "A rule that opens opportunities needs a condition that says who is a promoter: "
                    "an NPS at least (e.g. 9), or intents (e.g. praise)."
                }
            )
        if self.opens != CaseKind.OPPORTUNITY and self.opportunity_kind:
            raise ValidationError(
                {"opportunity_kind": "Only a rule that opens opportunities has an opportunity kind: leave it empty."}
            )
        if self.nps_at_least is not None and self.nps_at_most is not None and self.nps_at_least > self.nps_at_most:
            raise ValidationError({"nps_at_least": "No NPS score is both at least this and at most the other bound."})


class Case(models.Model):
    """A customer to win back. Changed only by `cases.services`."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    feedback = models.OneToOneField(
        FeedbackResponse,
        on_delete=models.PROTECT,
        related_name="opened_case",
        help_text="The response that opened the case.",
    )
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.PROTECT, related_name="cases")
    journey = models.ForeignKey(Journey, on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="cases")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="owned_cases"
    )
    kind = models.CharField(max_length=12, choices=CaseKind.choices, default=CaseKind.COMPLAINT)
    opportunity_kind = models.CharField(
        max_length=10, choices=OpportunityKind.choices, blank=True, help_text="Opportunities only."
    )
    # What an opportunity won brought in (optional, set when it is won).
    amount = models.DecimalField(max_digits=AMOUNT_DIGITS, decimal_places=AMOUNT_PLACES, null=True, blank=True)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    outcome = models.CharField(max_length=15, choices=CaseOutcome.choices, null=True, blank=True)
    rule = models.ForeignKey(RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="cases")
    root_cause = models.ForeignKey(RootCause, on_delete=models.PROTECT, null=True, blank=True, related_name="cases")
    resolution_summary = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_contact_due = models.DateTimeField()
    resolve_due = models.DateTimeField()
    # The due time that matters next: first contact until it happens, then
    # resolution. The queues sort by it, so it is stored and indexed.
    due_at = models.DateTimeField()
    first_contact_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    first_contact_breached_at = models.DateTimeField(null=True, blank=True)
    resolution_breached_at = models.DateTimeField(null=True, blank=True)
    contact_count = models.PositiveIntegerField(default=0)
    # Resolved without reaching the customer (the agent said so): neither
    # first-contact resolution nor SLA met in the loop metrics.
    unreachable = models.BooleanField(default=False)
    # Head of the audit chain, moved under the case's row lock with each event.
    audit_seq = models.PositiveIntegerField(default=0, editable=False)
    audit_head = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["due_at", "id"]
        permissions = [
            ("act_on_all_cases", "Can see and act on the cases of every team"),
            ("view_all_cases", "Can see the cases and loop metrics of every team"),
        ]
        indexes = [
            models.Index(fields=["owner", "due_at", "id"], condition=_OPEN, name="case_open_owner_due"),
            models.Index(fields=["team", "due_at", "id"], condition=_OPEN, name="case_open_team_due"),
            models.Index(fields=["due_at", "id"], condition=_OPEN, name="case_open_due"),
            models.Index(fields=["team", "due_at", "id"], name="case_team_due"),
            models.Index(fields=["customer", "status"], name="case_customer_status"),
            models.Index(fields=["touchpoint", "created_at"], name="case_touchpoint_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="case_amount_not_negative"
            ),
            # Only opportunities have an opportunity kind (and every one has one) and an amount.
            models.CheckConstraint(
                condition=Q(kind=CaseKind.COMPLAINT, opportunity_kind="", amount__isnull=True)
                | (Q(kind=CaseKind.OPPORTUNITY) & ~Q(opportunity_kind="")),
                name="case_opportunity_fields",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def number(self) -> str:
        return case_number(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def due_soon(self) -> bool:
        return self.is_open and timezone.now() <= self.due_at <= timezone.now() + DUE_SOON

    @property
    def is_breached(self) -> bool:
        if self.kind != CaseKind.COMPLAINT:
            return False  # an opportunity has due times to sort by, and no SLA (cases.selectors.breached)
        overdue = self.is_open and self.due_at < timezone.now()
        return overdue or bool(self.first_contact_breached_at or self.resolution_breached_at)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(f"{self.model._meta.verbose_name_plural} are append-only.")

    def delete(self):
        raise PermissionError(f"{self.model._meta.verbose_name_plural} are append-only.")


class AppendOnlyModel(models.Model):
    """Rows that are written once and never changed or removed: refused here,
    by a trigger on PostgreSQL, and by the app role's privileges when the
    app runs as its own role (cvx_site.db_roles reads APPEND_ONLY)."""

    APPEND_ONLY = True

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise PermissionError(f"{self._meta.verbose_name_plural} are append-only: a row cannot be saved over.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.verbose_name_plural} are append-only: a row cannot be deleted.")


class CaseEvent(AppendOnlyModel):
    """One entry of a case's audit trail. Append-only: each event holds the
    hash of the previous one and of its own canonical content (cases.audit)."""

    # No index of its own: the unique (case, seq) index serves every lookup by
    # case, and one index fewer is written with every event.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", db_index=False)
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the system.",
    )
    at = models.DateTimeField()
    changes = models.JSONField(default=dict, blank=True, help_text="field: [before, after]")
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    # How `hash` was made (cases.audit.chain): 1, plain SHA-256 (events from
    # before keyed hashing); 2, HMAC-SHA256 with CVX_AUDIT_KEY, and the
    # opening event states every tracked field.
    version = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq_unique")]
        indexes = [models.Index(fields=["at", "id"]), models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.kind}"


class AuditCheckpoint(AppendOnlyModel):
    """A signed statement of the whole audit trail at one moment, after
    Certificate Transparency's signed tree heads: how many cases and events
    there were, a root over every case's head (and the state of its row),
    and an HMAC with CVX_AUDIT_KEY over all of it and the previous
    checkpoint's signature. `export_checkpoints` copies them out of the
    database; cases.audit.checkpoints explains the fields."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField()
    case_count = models.PositiveIntegerField()
    event_count = models.PositiveBigIntegerField()
    max_event_id = models.PositiveBigIntegerField()
    legacy_max_event_id = models.PositiveBigIntegerField(
        help_text="The highest id of an unkeyed (version 1) event; none may come after it."
    )
    root = models.CharField(max_length=64)
    prev = models.CharField(max_length=64, help_text="The previous checkpoint's signature.")
    key_id = models.CharField(max_length=16, help_text="Which CVX_AUDIT_KEY signed it (not the key).")
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"checkpoint #{self.number}"


class AuditCheckpointHead(AppendOnlyModel):
    """A case's head as a checkpoint saw it, stored when it changed since the
    previous checkpoint: the heads of checkpoint N are, per case, the latest
    of these at or before N. `case_id` is a plain number so that a case that
    vanished is still named."""

    checkpoint = models.ForeignKey(AuditCheckpoint, on_delete=models.PROTECT, related_name="heads")
    case_id = models.PositiveBigIntegerField()
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)
    state = models.CharField(max_length=32, help_text="Digest of the case row's tracked fields.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "case_id"], name="checkpoint_head_unique")]
        indexes = [models.Index(fields=["case_id", "checkpoint"], name="checkpoint_head_case")]

    def __str__(self) -> str:
        return f"case {self.case_id} at event #{self.seq} (checkpoint {self.checkpoint_id})"


class VerificationRun(models.Model):
    """One verification of the audit trail in the background (django-q2),
    with its progress and its result, for the audit page."""

    class Kind(models.TextChoices):
        FULL = "full", "Full"
        INCREMENTAL = "incremental", "Since the last good checkpoint"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        PASSED = "passed", "Passed"
        FAILED = "failed", "Breaks found"
        ERROR = "error", "Did not finish"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    # Set while queued or running; the unique constraint lets one run at a time.
    active = models.BooleanField(default=True, null=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: the schedule.",
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last progress saved.")
    claimed_until = models.DateTimeField(null=True, blank=True, help_text="A task works on it until then.")
    finished_at = models.DateTimeField(null=True, blank=True)
    checkpoint = models.ForeignKey(
        AuditCheckpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The checkpoint the run verified the trail against.",
    )
    baseline = models.ForeignKey(
        AuditCheckpoint,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Incremental runs: the last good checkpoint they started from.",
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    cursor = models.PositiveBigIntegerField(default=0, help_text="Full runs: the last case id verified.")
    events_checked = models.PositiveBigIntegerField(default=0)
    legacy_events = models.PositiveBigIntegerField(default=0)
    break_count = models.PositiveIntegerField(default=0)
    breaks = models.JSONField(default=list, blank=True, help_text="The first breaks found (at most 1,000).")
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["active"], name="one_active_verification_run")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} verification #{self.pk}: {self.get_status_display()}"

    @property
    def percent(self) -> int:
        return 100 if not self.active else min(100, int(100 * self.done / self.total)) if self.total else 0


class RoutedResponse(models.Model):
    """That a response was routed, and how. Its primary key is the response,
    so the database itself lets a response be routed only once."""

    response = models.OneToOneField(
        FeedbackResponse, on_delete=models.PROTECT, primary_key=True, related_name="routing"
    )
    outcome = models.CharField(max_length=10, choices=RoutingOutcome.choices)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="responses")
    rule = models.ForeignKey(RoutingRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    routed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.response_id}: {self.outcome}"


class Notification(models.Model):
    """What one person is told of one event: shown in the app (the bell) and
    emailed when the person's preference for its kind says so. Unique per
    (event, user): the row is the claim, so however often and wherever the
    task runs, each event reaches each person once, and at most one email.
    Written by cases.notifications only."""

    event = models.ForeignKey(CaseEvent, on_delete=models.PROTECT, related_name="notifications")
    # Empty only on emails sent before notifications were per person.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=NotificationKind.choices, blank=True)
    # The address the email went to, or would have; empty: the person has none.
    recipient = models.EmailField(blank=True)
    subject = models.CharField(max_length=200)
    claimed_at = models.DateTimeField(default=timezone.now)
    # Emailed then; empty: not emailed (the person chose not to, or has no address).
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="notification_once_per_user")]
        indexes = [
            models.Index(fields=["user", "id"], name="notification_user_id"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_user_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} (event {self.event_id})"


class NotificationPreference(models.Model):
    """Which kinds of notification a person does not want by email (in the
    app they always come). Kinds not listed are emailed, so a new kind is
    on for everyone. Written by cases.notifications.services only."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="notification_preference"
    )
    # The kinds (NotificationKind values) are checked by the service that writes them.
    email_off = models.JSONField(default=list, blank=True)
    # The weekly digest (cases.digest), sent to team leads and CX admins: on unless they opt out.
    weekly_digest = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"notification preferences of {self.user_id}"


class WeeklyDigest(models.Model):
    """One person's weekly digest of one week (its Monday): inserted before
    the digest is built, its unique (user, week) constraint is the claim, so
    however often and wherever the task runs, each person gets each week's
    digest once. Written by cases.digest only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_digests")
    week = models.DateField(help_text="The Monday of the week the digest covers.")
    recipient = models.EmailField()
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="weekly_digest_once_per_user_week")]

    def __str__(self) -> str:
        return f"digest of week {self.week} for {self.user_id}"


class FollowUp(models.Model):
    """The follow-up survey of a resolved case: cases owns the link from the
    invitation (in feedback) to the case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="follow_ups")
    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.PROTECT, related_name="follow_up")
    answer = models.OneToOneField(
        FeedbackResponse, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_up_of"
    )
    recovered = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Follow-up of {self.case}"


class SavedFilter(models.Model):
    """A person's named queue view: which queue and the filters of its query
    string. Changed only by cases.services.saved_filters."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_filters")
    name = models.CharField(max_length=80)
    queue = models.CharField(max_length=20)
    query = models.CharField(max_length=1000, blank=True, help_text="The filters, as a URL query string.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user", "name"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_filter_user_name_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"


# Case messaging's tables live with their package; Django finds them here.
from cases.messaging.models import Message, ReplyTemplate, UnmatchedEmail  # noqa: E402, F401

# Webhooks and chat alerts (cases.webhooks), the same way.
from cases.webhooks.models import ChatChannel, Delivery, DeliveryAttempt, Webhook  # noqa: E402, F401
