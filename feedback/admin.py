"""Feedback is read-only in the admin: it gets in only through the ingestion
service (API, CSV import, survey form), so nothing here writes a response.
Customers, feedback and invitations show each user only what the feedback
selectors give them. The CX lexicon's rows are edited here, through the
services of `feedback.lexicon`, with the engine's validators on the forms."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from cvx_site.admin import ReadOnlyAdmin, ScopedAdmin, ScopedChoicesMixin
from feedback import lexicon
from feedback.models import (
    ContactRule,
    Customer,
    CustomerIdentity,
    FeedbackResponse,
    ImportMapping,
    IntentPhrase,
    LexiconChange,
    LexiconTerm,
    SurveyDefinition,
    SurveyInvitation,
    SurveyWording,
    Topic,
)
from feedback.selectors import customers_visible_to, feedback_visible_to, invitations_visible_to
from feedback.surveys import definitions
from feedback.text import validate_term
from feedback.themes import validate_topic_phrases


class IdentityInline(ScopedChoicesMixin, admin.TabularInline):
    model = CustomerIdentity
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ScopedAdmin, admin.ModelAdmin):
    visible_to = staticmethod(customers_visible_to)
    list_display = ["__str__", "created_at"]
    search_fields = ["name", "identities__value"]
    inlines = [IdentityInline]


@admin.register(FeedbackResponse)
class FeedbackResponseAdmin(ScopedAdmin, ReadOnlyAdmin):
    visible_to = staticmethod(feedback_visible_to)
    list_display = [
        "__str__",
        "touchpoint",
        "kind",
        "nps",
        "csat",
        "ces",
        "ves",
        "sentiment_label",
        "intent_list",
        "occurred_at",
    ]
    list_filter = [
        "kind",
        "nps_category",
        "csat_band",
        "sentiment_label",
        "touchpoint__channel",
        "touchpoint__stage__journey",
    ]
    search_fields = ["external_id", "comment", "customer__identities__value"]
    list_select_related = ["touchpoint", "customer"]
    date_hierarchy = "occurred_at"
    readonly_fields = ["why", "topic_list"]
    exclude = ["explanation"]

    @admin.display(description="intents")
    def intent_list(self, obj: FeedbackResponse) -> str:
        return ", ".join(obj.intents or ()) or "–"

    @admin.display(description="why (sentiment and intents)")
    def why(self, obj: FeedbackResponse) -> str:
        return obj.reasons() or "–"

    @admin.display(description="topics")
    def topic_list(self, obj: FeedbackResponse) -> str:
        return ", ".join(obj.topics.values_list("name", flat=True)) or "–"


@admin.register(ContactRule)
class ContactRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "max_surveys", "period_days", "no_survey_while_case_open"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(ScopedAdmin, ReadOnlyAdmin):
    visible_to = staticmethod(invitations_visible_to)
    list_display = ["__str__", "customer", "touchpoint", "created_at", "sent_at", "answered_at", "expires_at"]
    list_filter = ["purpose"]
    list_select_related = ["customer", "touchpoint"]


# --- surveys sent per touchpoint (feedback.surveys) ---------------------------------------


class SurveyDefinitionForm(forms.ModelForm):
    class Meta:
        model = SurveyDefinition
        fields = ["touchpoint", "active", "ask_nps", "ask_csat", "ask_ces", "ask_ves", "ask_comment"]

    def clean(self):
        data = super().clean()
        asks = {f"ask_{q}": bool(data.get(f"ask_{q}")) for q in definitions.QUESTIONS}
        if problem := definitions.definition_problem(SurveyDefinition(**asks)):
            raise ValidationError(problem)
        return data


class SurveyWordingFormSet(forms.BaseInlineFormSet):
    """Each row words every question the definition asks; English is there."""

    def clean(self):
        super().clean()
        languages = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            language = form.cleaned_data.get("language", "")
            languages.append(language)
            for field, message in definitions.wording_problems(self.instance, language, form.cleaned_data).items():
                form.add_error(field, message)
        if problem := definitions.languages_problem(languages):
            raise ValidationError(problem)


class SurveyWordingInline(admin.StackedInline):
    model = SurveyWording
    formset = SurveyWordingFormSet
    extra = 0
    min_num = 1
    fields = [
        "language",
        "title",
        "intro",
        ("nps_question", "csat_question"),
        ("ces_question", "ves_question"),
        "comment_question",
        "thank_you",
    ]


@admin.register(ImportMapping)
class ImportMappingAdmin(admin.ModelAdmin):
    """How `manage.py import_feedback --mapping NAME` reads a survey tool's
    export (README, "Importing a CSV file"); checked by the model's clean()."""

    list_display = ["name", "preset", "header_rows", "date_format", "time_zone", "updated_at"]
    list_filter = ["preset"]
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(SurveyDefinition)
class SurveyDefinitionAdmin(admin.ModelAdmin):
    """What CVX asks after an interaction at a touchpoint, per language
    (README, "Sending surveys"); a survey request names the touchpoint."""

    form = SurveyDefinitionForm
    inlines = [SurveyWordingInline]
    list_display = ["touchpoint", "active", "ask_nps", "ask_csat", "ask_ces", "ask_ves", "ask_comment", "updated_at"]
    list_filter = ["active"]
    list_select_related = ["touchpoint"]
    autocomplete_fields = ["touchpoint"]

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)


# --- the CX lexicon ---------------------------------------------------------------------

LEXICON_HELP = (
    "Rows add to or override the built-in CX lexicon (feedback/text/defaults.py), matched by their "
    "words; an inactive row switches its entry off, the built-in one included. A change scores the "
    "next comment in every process; stored responses keep their scores until "
    "`manage.py rescore_feedback --since DATE`."
)


def _field_errors(form: forms.Form, exc: ValidationError, present: set[str]) -> None:
    """The engine's ValidationError, under the form fields it names."""
    for name, errors in exc.error_dict.items():
        if name in present:
            form.add_error(name, errors)


class LexiconTermForm(forms.ModelForm):
    class Meta:
        model = LexiconTerm
        fields = ["term", "valence", "note", "active"]

    def clean(self):
        cleaned = super().clean()
        present = {name for name in ("term", "valence") if cleaned.get(name) is not None}
        try:
            cleaned["term"], cleaned["valence"] = validate_term(
                cleaned.get("term") or "word", cleaned.get("valence") or 0.0
            )
        except ValidationError as exc:
            _field_errors(self, exc, present)
        return cleaned


class IntentPhraseForm(forms.ModelForm):
    class Meta:
        model = IntentPhrase
        fields = ["intent", "phrase", "negatable", "note", "active"]

    def clean(self):
        cleaned = super().clean()
        present = {name for name in ("intent", "phrase") if cleaned.get(name)}
        try:
            cleaned["intent"], cleaned["phrase"] = lexicon.validate_intent_phrase(
                cleaned.get("intent") or "complaint", cleaned.get("phrase") or "word"
            )
        except ValidationError as exc:
            _field_errors(self, exc, present)
        return cleaned


class LexiconAdmin(admin.ModelAdmin):
    """Saves and deletes through the `feedback.lexicon` services, which log
    each change and tell every process to reload."""

    change_list_template = "admin/feedback/lexicon_change_list.html"
    search_fields: list[str] = []

    def changelist_view(self, request, extra_context=None):
        extra = {"lexicon_help": LEXICON_HELP, "builtin_url": reverse("admin:feedback_lexicon_builtin")}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def delete_queryset(self, request, queryset):
        for row in queryset:
            self.delete_model(request, row)


@admin.register(LexiconTerm)
class LexiconTermAdmin(LexiconAdmin):
    form = LexiconTermForm
    list_display = ["term", "valence", "active", "note", "updated_at"]
    list_filter = ["active"]
    search_fields = ["term", "note"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = lexicon.lexicon_term_save(
            actor=request.user,
            term=data["term"],
            valence=data["valence"],
            note=data["note"],
            active=data["active"],
            term_id=obj.pk if change else None,
        )
        obj.pk, obj.term, obj.valence = saved.pk, saved.term, saved.valence

    def delete_model(self, request, obj):
        lexicon.lexicon_term_delete(actor=request.user, term_id=obj.pk)

    def get_urls(self):
        builtin = path("builtin/", self.admin_site.admin_view(self.builtin_view), name="feedback_lexicon_builtin")
        return [builtin, *super().get_urls()]

    def builtin_view(self, request):
        """The built-in terms and phrases, read-only, searchable (`q`)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "")[:100]
        terms, phrases = lexicon.builtin_entries(query)
        context = {
            **self.admin_site.each_context(request),
            "title": "Built-in CX lexicon",
            "query": query,
            "terms": terms,
            "phrases": phrases,
            "opts": self.model._meta,
            "lexicon_help": LEXICON_HELP,
        }
        return TemplateResponse(request, "admin/feedback/lexicon_builtin.html", context)


@admin.register(IntentPhrase)
class IntentPhraseAdmin(LexiconAdmin):
    form = IntentPhraseForm
    list_display = ["phrase", "intent", "negatable", "active", "note", "updated_at"]
    list_filter = ["intent", "active", "negatable"]
    search_fields = ["phrase", "note"]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = lexicon.intent_phrase_save(
            actor=request.user,
            intent=data["intent"],
            phrase=data["phrase"],
            negatable=data["negatable"],
            note=data["note"],
            active=data["active"],
            phrase_id=obj.pk if change else None,
        )
        obj.pk, obj.intent, obj.phrase = saved.pk, saved.intent, saved.phrase

    def delete_model(self, request, obj):
        lexicon.intent_phrase_delete(actor=request.user, phrase_id=obj.pk)


@admin.register(LexiconChange)
class LexiconChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "actor_name", "action", "subject"]
    list_filter = ["action"]
    search_fields = ["subject", "actor_name"]
    date_hierarchy = "at"


# --- topics ------------------------------------------------------------------------------


class TopicForm(forms.ModelForm):
    phrases = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="One phrase per line, matched word by word as lexicon phrases are (“billing error”, "
        "“charged ... twice”, “{number} days without {service}”); any one in a comment tags it. "
        "Not regular expressions.",
    )

    class Meta:
        model = Topic
        fields = ["name", "phrases", "touchpoints", "active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["phrases"] = "\n".join(self.instance.phrases)

    def clean_phrases(self):
        try:
            return validate_topic_phrases(self.cleaned_data["phrases"].splitlines())
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["phrases"]) from None


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    """Topics tag new responses from the next one on (every process);
    `manage.py rescore_feedback --since DATE --topics` tags stored ones."""

    form = TopicForm
    list_display = ["name", "phrase_list", "active", "updated_at"]
    list_filter = ["active"]
    search_fields = ["name"]
    filter_horizontal = ["touchpoints"]

    @admin.display(description="phrases")
    def phrase_list(self, obj: Topic) -> str:
        return "; ".join(obj.phrases)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = lexicon.topic_save(
            actor=request.user,
            name=data["name"],
            phrases=data["phrases"],
            touchpoint_ids=[t.pk for t in data["touchpoints"]],
            active=data["active"],
            topic_id=obj.pk if change else None,
        )
        obj.pk, obj.name = saved.pk, saved.name

    def save_related(self, request, form, formsets, change):
        pass  # topic_save wrote the touchpoints, logged with the rest

    def delete_model(self, request, obj):
        lexicon.topic_delete(actor=request.user, topic_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for row in queryset:
            self.delete_model(request, row)
