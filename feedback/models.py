from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from feedback.choices import (
    CsatBand,
    FeedbackKind,
    IdentityKind,
    Intent,
    NpsCategory,
    SentimentLabel,
    SurveyLanguage,
    SurveyPurpose,
    SurveyRequestStatus,
)
from feedback.scores import CES_RANGE, CSAT_RANGE, NPS_RANGE, VES_RANGE
from journeys.models import Touchpoint


class Customer(models.Model):
    """One person across channels; found by any of their identities."""

    name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    erased_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When their personal data was erased on request (feedback.privacy); empty: never.",
    )
    language = models.CharField(
        max_length=2,
        choices=SurveyLanguage.choices,
        blank=True,
        help_text="The language CVX surveys them in when a request names none; "
        "empty: the browser's on the survey page, English in emails.",
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.name or f"Customer {self.pk}"


class CustomerIdentity(models.Model):
    """An email, phone, external id or social handle; each belongs to one customer."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=254, help_text="Normalised: lower-case email, +digits phone.")

    class Meta:
        ordering = ["kind", "value"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="identity_unique")]
        verbose_name_plural = "customer identities"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


def _in_range(field: str, bounds: tuple[int, int]) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": bounds[0], f"{field}__lte": bounds[1]})


class FeedbackResponse(models.Model):
    """One piece of customer feedback at one touchpoint. Written only by
    `feedback.services`; never changed after it is stored, except its text
    reading (sentiment, intents, explanation, lexicon version), which
    `feedback.lexicon.responses_rescore_batch` may redo with a newer lexicon,
    and erasure (`feedback.privacy`)."""

    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.PROTECT, related_name="responses")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="responses")
    kind = models.CharField(max_length=10, choices=FeedbackKind.choices, default=FeedbackKind.DIRECT)
    source = models.CharField(max_length=40, help_text="Where it came from: survey, social, chat, ops...")
    external_id = models.CharField(max_length=200, help_text="The idempotency key, unique per source.")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now, editable=False)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    ces = models.PositiveSmallIntegerField(null=True, blank=True)
    ves = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Value Enhancement Score: after this, I am better able to ... (1-5)."
    )
    comment = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    nps_category = models.CharField(max_length=10, choices=NpsCategory.choices, null=True, blank=True)
    csat_band = models.CharField(max_length=12, choices=CsatBand.choices, null=True, blank=True)
    sentiment = models.FloatField(null=True, blank=True, help_text="VADER compound, -1 to 1.")
    sentiment_label = models.CharField(max_length=8, choices=SentimentLabel.choices, null=True, blank=True)
    intents = models.JSONField(
        default=list, blank=True, help_text="What the comment is about: a sorted list of Intent values (feedback.text)."
    )
    explanation = models.JSONField(
        default=list,
        blank=True,
        help_text="The terms that drove the label and intents: [term as written, effect] pairs, where the "
        "effect is a sentiment label or an intent.",
    )
    lexicon_version = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text="The CX lexicon that scored the comment; empty: no comment, or scored before the CX layer.",
    )
    content_hash = models.CharField(max_length=64, editable=False, help_text="Tells a replay from a conflict.")
    invitation = models.OneToOneField(
        "SurveyInvitation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="answer",
        help_text="The invitation this response answers; one answer per invitation.",
    )
    topics = models.ManyToManyField("Topic", through="ResponseTopic", blank=True, related_name="responses")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        permissions = [("view_all_feedback", "Can see the feedback of every team")]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="feedback_source_external_id_unique"),
            models.CheckConstraint(condition=_in_range("nps", NPS_RANGE), name="feedback_nps_range"),
            models.CheckConstraint(condition=_in_range("csat", CSAT_RANGE), name="feedback_csat_range"),
            models.CheckConstraint(condition=_in_range("ces", CES_RANGE), name="feedback_ces_range"),
            models.CheckConstraint(condition=_in_range("ves", VES_RANGE), name="feedback_ves_range"),
            models.CheckConstraint(
                condition=Q(nps__isnull=False)
                | Q(csat__isnull=False)
                | Q(ces__isnull=False)
                | Q(ves__isnull=False)
                | ~Q(comment=""),
                name="feedback_has_score_or_comment",
            ),
            models.CheckConstraint(
                condition=Q(sentiment__isnull=True) | Q(sentiment__gte=-1, sentiment__lte=1),
                name="feedback_sentiment_range",
            ),
        ]
        indexes = [
            models.Index(fields=["touchpoint", "occurred_at"]),
            models.Index(fields=["customer", "occurred_at"]),
            models.Index(fields=["received_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    def reasons(self) -> str:
        """Why the comment got its label and intents, in one line: "negative
        because: hung up on, never called back; churn_risk: cancel my
        contract". Empty without a scored comment."""
        if self.sentiment_label is None:
            return ""
        from feedback.text import Analysis  # the engine loads NLTK: only when asked

        explanation = tuple((str(term), str(effect)) for term, effect in self.explanation or ())
        return Analysis(
            self.sentiment or 0.0, self.sentiment_label, tuple(self.intents or ()), explanation, self.lexicon_version
        ).reasons()


class ContactRule(models.Model):
    """How often a customer may be surveyed. The active rule with the lowest
    id applies; without one, nothing limits surveys."""

    name = models.CharField(max_length=120, default="Default")
    active = models.BooleanField(default=True)
    max_surveys = models.PositiveSmallIntegerField(
        default=2, help_text="At most this many invitations (follow-ups included) per customer..."
    )
    period_days = models.PositiveSmallIntegerField(default=30, help_text="...in this many days.")
    no_survey_while_case_open = models.BooleanField(
        default=True, help_text="No ordinary survey while the customer has an open case (follow-ups still go)."
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(max_surveys__gte=1, period_days__gte=1), name="contact_rule_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name}: at most {self.max_surveys} in {self.period_days} days"


class SurveyInvitation(models.Model):
    """An invitation to answer a short survey through a signed, single-use,
    expiring link. Created and answered only by `feedback.services`."""

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invitations")
    touchpoint = models.ForeignKey(
        Touchpoint, on_delete=models.PROTECT, related_name="invitations", help_text="Where the answer is recorded."
    )
    purpose = models.CharField(max_length=10, choices=SurveyPurpose.choices, default=SurveyPurpose.SURVEY)
    email = models.EmailField()
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(
        max_length=2,
        choices=SurveyLanguage.choices,
        blank=True,
        help_text="The language of the emails and the survey page; "
        "empty: the browser's on the page, English in the emails.",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "created_at"]), models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"Invitation {self.pk} ({self.get_purpose_display()})"


class SurveyDefinition(models.Model):
    """The survey CVX sends after an interaction at one touchpoint: which
    questions it asks; their words per language are its SurveyWording rows.
    Edited in the admin; read by `feedback.surveys`."""

    touchpoint = models.OneToOneField(Touchpoint, on_delete=models.CASCADE, related_name="survey_definition")
    active = models.BooleanField(default=True, help_text="Inactive: survey requests for the touchpoint are refused.")
    ask_nps = models.BooleanField("ask NPS", default=True, help_text="How likely to recommend (0-10).")
    ask_csat = models.BooleanField("ask CSAT", default=False, help_text="How satisfied (1-5).")
    ask_ces = models.BooleanField("ask CES", default=False, help_text="How easy (1-7, 7 = least effort).")
    ask_ves = models.BooleanField("ask VES", default=False, help_text="Better able to ... (1-5).")
    ask_comment = models.BooleanField(default=True, help_text="A free comment (optional for the customer).")
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["touchpoint__name"]

    def __str__(self) -> str:
        return f"Survey at {self.touchpoint}"


class SurveyWording(models.Model):
    """A survey definition's words in one language. Only the questions the
    definition asks need words (`feedback.surveys.definitions` checks it)."""

    definition = models.ForeignKey(SurveyDefinition, on_delete=models.CASCADE, related_name="wordings")
    language = models.CharField(max_length=2, choices=SurveyLanguage.choices)
    title = models.CharField(max_length=120, help_text="The page's heading and the email's subject.")
    intro = models.CharField(max_length=300, blank=True, help_text="One line under the heading and in the email.")
    nps_question = models.CharField("NPS question", max_length=300, blank=True)
    csat_question = models.CharField("CSAT question", max_length=300, blank=True)
    ces_question = models.CharField("CES question", max_length=300, blank=True)
    ves_question = models.CharField("VES question", max_length=300, blank=True)
    comment_question = models.CharField(max_length=300, blank=True)
    thank_you = models.CharField(
        max_length=500, blank=True, help_text="Shown after the answer is sent; empty: the standard thanks."
    )

    class Meta:
        ordering = ["definition", "language"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "language"], name="survey_wording_one_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.definition} ({self.get_language_display()})"


class SurveyRequest(models.Model):
    """An integration asked CVX to survey a customer after one interaction
    (`feedback.surveys.requests`): queued with its invitation, or suppressed
    with the contact rule that held it back. One per interaction id."""

    interaction_id = models.CharField(max_length=200, unique=True, help_text="The idempotency key.")
    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.PROTECT, related_name="survey_requests")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="survey_requests")
    language = models.CharField(max_length=2, choices=SurveyLanguage.choices)
    status = models.CharField(max_length=10, choices=SurveyRequestStatus.choices)
    rule = models.CharField(max_length=30, blank=True, help_text="The contact rule that suppressed it.")
    reason = models.CharField(max_length=300, blank=True)
    invitation = models.OneToOneField(
        SurveyInvitation, on_delete=models.PROTECT, null=True, blank=True, related_name="survey_request"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "created_at"])]

    def __str__(self) -> str:
        return f"Survey request {self.interaction_id} ({self.status})"


class ScoreCounters(models.Model):
    """The integer counters every score figure is computed from (see
    `feedback.analytics`), and those figures. Integer columns on purpose: their SUM is a
    bigint, read as int, where a SUM of bigints would come back as Decimal."""

    responses = models.PositiveIntegerField(default=0)
    nps_responses = models.PositiveIntegerField(default=0)
    promoters = models.PositiveIntegerField(default=0)
    detractors = models.PositiveIntegerField(default=0)
    csat_responses = models.PositiveIntegerField(default=0)
    csat_satisfied = models.PositiveIntegerField(default=0)
    ces_responses = models.PositiveIntegerField(default=0)
    ces_sum = models.PositiveIntegerField(default=0)
    ces_low_effort = models.PositiveIntegerField(default=0)
    ves_responses = models.PositiveIntegerField(default=0)
    ves_sum = models.PositiveIntegerField(default=0)
    ves_enhanced = models.PositiveIntegerField(default=0)
    negative = models.PositiveIntegerField(default=0)
    # The figures of the counters above (`feedback.analytics.FIGURES`, by
    # `figures_of`), written with them: a read whose rows are whole buckets
    # computes none. Empty where the counters have no answers.
    nps = models.FloatField(null=True)
    csat_pct = models.FloatField(null=True)
    ces_mean = models.FloatField(null=True)
    ces_low_effort_pct = models.FloatField(null=True)
    ves = models.FloatField(null=True)
    ves_enhanced_pct = models.FloatField(null=True)
    nps_margin = models.FloatField(null=True)
    csat_margin = models.FloatField(null=True)
    ces_low_effort_margin = models.FloatField(null=True)
    ves_enhanced_margin = models.FloatField(null=True)

    class Meta:
        abstract = True


class DailyScore(ScoreCounters):
    """The score counters of one touchpoint's responses on one UTC day (by
    `occurred_at`): the summary dashboards read instead of the raw table.
    Derived data, written only by `feedback.summaries` and rebuilt from
    FeedbackResponse at will (`manage.py refresh_scores`)."""

    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="daily_scores")
    day = models.DateField(help_text="UTC date of the responses' occurred_at.")

    class Meta:
        ordering = ["-day", "touchpoint"]
        constraints = [models.UniqueConstraint(fields=["touchpoint", "day"], name="daily_score_unique")]
        indexes = [models.Index(fields=["day", "touchpoint"], name="daily_score_day_touchpoint")]

    def __str__(self) -> str:
        return f"{self.touchpoint_id} on {self.day}: {self.responses} responses"


class WeeklyScore(ScoreCounters):
    """The sum of one touchpoint's DailyScore rows of one UTC week (Monday to
    Sunday), so weekly and overall figures read a seventh of the rows.
    Written with the daily rows, in the same transaction, only by
    `feedback.summaries`; rebuilt with them by `manage.py refresh_scores`."""

    touchpoint = models.ForeignKey(Touchpoint, on_delete=models.CASCADE, related_name="weekly_scores")
    week = models.DateField(help_text="The Monday (UTC) the week starts on.")

    class Meta:
        ordering = ["-week", "touchpoint"]
        constraints = [models.UniqueConstraint(fields=["touchpoint", "week"], name="weekly_score_unique")]
        indexes = [models.Index(fields=["week", "touchpoint"], name="weekly_score_week_touchpoint")]

    def __str__(self) -> str:
        return f"{self.touchpoint_id} in the week of {self.week}: {self.responses} responses"


# --- the CX lexicon a CX admin tunes (feedback.lexicon) -------------------------------


class LexiconTerm(models.Model):
    """A word or phrase with a sentiment valence, on top of VADER's lexicon.
    Written only by `feedback.lexicon`; `term` is stored normalised."""

    term = models.CharField(
        max_length=100,
        unique=True,
        help_text="Words matched token by token, lowercase; {number}, {duration}... stand for one word of a "
        "kind and ... for a gap of a few words. Not a regular expression.",
    )
    valence = models.FloatField(help_text="From -4 (most negative) to 4 (most positive), as in VADER's lexicon.")
    note = models.CharField(max_length=300, blank=True, help_text="Why this entry exists, for the next admin.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["term"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valence__gte=-4, valence__lte=4),
                name="lexicon_term_valence_range",
                violation_error_message="The valence must be from -4 to 4.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.term} ({self.valence:+g})"


class IntentPhrase(models.Model):
    """A phrase that signals an intent ("port my number" -> churn risk).
    Written only by `feedback.lexicon`; `phrase` is stored normalised."""

    intent = models.CharField(max_length=20, choices=Intent.choices)
    phrase = models.CharField(
        max_length=100,
        help_text="Words matched token by token, lowercase; {number}, {duration}... stand for one word of a "
        "kind and ... for a gap of a few words. Not a regular expression.",
    )
    negatable = models.BooleanField(
        default=True, help_text="A negation just before it cancels the intent (“I don't want to cancel”)."
    )
    note = models.CharField(max_length=300, blank=True, help_text="Why this entry exists, for the next admin.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["intent", "phrase"]
        constraints = [models.UniqueConstraint(fields=["intent", "phrase"], name="intent_phrase_unique")]

    def __str__(self) -> str:
        return f"{self.get_intent_display()}: {self.phrase}"


class LexiconChange(models.Model):
    """Who changed which lexicon entry, from what to what: one row per change,
    appended by `feedback.lexicon` in the change's transaction. The newest
    row's `token` is the lexicon's version stamp that every process compares
    with its cached lexicon."""

    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True, help_text="The actor's username when it was made.")
    action = models.CharField(max_length=40, help_text="Dotted: lexicon.term.created, lexicon.phrase.deleted...")
    subject = models.CharField(max_length=200, help_text="The entry, as it reads.")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    token = models.CharField(max_length=32, editable=False, help_text="Random; new with every change.")

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.subject}"


class Topic(models.Model):
    """Something customers talk about ("Billing", "Engineer visits"), named by
    the phrases that mention it. Each new response is tagged with the topics
    whose phrases its comment contains (ResponseTopic). Written only by
    `feedback.lexicon`; `phrases` are stored normalised."""

    name = models.CharField(max_length=80, unique=True)
    phrases = models.JSONField(
        default=list, help_text="Words matched token by token, as lexicon phrases are: any one in a comment tags it."
    )
    touchpoints = models.ManyToManyField(
        Touchpoint, blank=True, related_name="topics", help_text="Only feedback at these touchpoints; none: all."
    )
    active = models.BooleanField(default=True, help_text="Inactive: tags no new response; past tags stay.")
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ResponseTopic(models.Model):
    """A response is about a topic. A table of its own rather than a JSON
    list on the response, so topic figures (volume, share negative, trend)
    are one indexed join and a GROUP BY on either database."""

    response = models.ForeignKey(FeedbackResponse, on_delete=models.CASCADE, related_name="topic_links")
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="response_links")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["topic", "response"], name="response_topic_unique")]
        indexes = [models.Index(fields=["response"], name="response_topic_response")]

    def __str__(self) -> str:
        return f"{self.response_id} is about {self.topic_id}"


class ImportMapping(models.Model):
    """How `manage.py import_feedback --mapping NAME` reads a survey tool's
    CSV export (feedback.imports): a preset, column pairs (CVX field ->
    source column) overriding it, the date format and time zone of the
    export's dates, and how many header rows come before the data."""

    name = models.SlugField(max_length=80, unique=True, help_text="Given to --mapping.")
    preset = models.CharField(
        max_length=20,
        blank=True,
        choices=[("qualtrics", "Qualtrics"), ("surveymonkey", "SurveyMonkey"), ("typeform", "Typeform")],
        help_text="Header layout, date format and default columns; the pairs below override it.",
    )
    columns = models.JSONField(
        default=dict,
        blank=True,
        help_text='CVX field -> source column, e.g. {"nps": "Q3", "comment": "Q4_TEXT", "email": "RecipientEmail"}.',
    )
    date_format = models.CharField(
        max_length=60,
        blank=True,
        help_text="strptime format of occurred_at, e.g. %m/%d/%Y %I:%M:%S %p; blank: the preset's.",
    )
    time_zone = models.CharField(
        max_length=60, blank=True, help_text="Of the export's dates, e.g. Europe/Berlin; blank: UTC."
    )
    header_rows = models.PositiveSmallIntegerField(
        default=1, help_text="Rows of header before the first response (1-10)."
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from feedback import imports

        errors = {}
        checks = [
            ("columns", lambda: imports.check_columns(self.columns)),
            ("date_format", lambda: self.date_format and imports.check_date_format(self.date_format)),
            ("time_zone", lambda: self.time_zone and imports.check_time_zone(self.time_zone)),
        ]
        for name, check in checks:
            try:
                check()
            except imports.LayoutError as exc:
                errors[name] = str(exc)
        if not 1 <= (self.header_rows or 0) <= imports.MAX_HEADER_ROWS:
            errors["header_rows"] = f"From 1 to {imports.MAX_HEADER_ROWS}."
        if errors:
            raise ValidationError(errors)
