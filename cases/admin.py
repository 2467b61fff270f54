"""Routing rules and root causes are configured here. Cases and their events
are read-only: a case changes only through cases.services, and each user
sees only those the case selectors give them."""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from cases import people_admin, routing_preview  # noqa: F401 (people_admin registers the user admin)
from cases.choices import CaseKind, RoutingOutcome
from cases.messaging.selectors import unmatched_emails_visible_to
from cases.models import (
    Case,
    CaseEvent,
    NotificationPreference,
    ReplyTemplate,
    RootCause,
    RoutedResponse,
    RoutingRule,
    UnmatchedEmail,
)
from cases.rule_wording import rule_in_words, rules_never_firing
from cases.selectors import case_events_visible_to, cases_visible_to
from cases.services.routing import routing_rule_move
from cases.webhooks import admin as webhooks_admin  # noqa: F401 (registers webhooks and chat channels)
from cvx_site.admin import ReadOnlyAdmin, ScopedAdmin
from cvx_site.errors import DomainError
from feedback.choices import FeedbackKind, Intent
from feedback.selectors import feedback_visible_to
from journeys.choices import Channel


class RoutingRuleForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        choices=Channel.choices, widget=forms.CheckboxSelectMultiple, required=False, help_text="Empty: any channel."
    )
    kinds = forms.MultipleChoiceField(
        choices=FeedbackKind.choices, widget=forms.CheckboxSelectMultiple, required=False, help_text="Empty: any kind."
    )
    intents_any = forms.MultipleChoiceField(
        choices=Intent.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Intents, any of",
        help_text="The comment shows any one of these (the CX text layer's reading). Empty: no condition.",
    )

    opens = forms.ChoiceField(
        choices=CaseKind.choices,
        required=False,
        initial=CaseKind.COMPLAINT,
        help_text=RoutingRule._meta.get_field("opens").help_text,
    )

    class Meta:
        model = RoutingRule
        fields = "__all__"

    def clean_opens(self) -> str:
        # Left out (a form from before opportunities): a complaint, as every rule then opened.
        return self.cleaned_data.get("opens") or CaseKind.COMPLAINT


class RulePreviewForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=routing_preview.PREVIEW_MAX_DAYS, initial=30, label="Last N days")


# The windows of the changelist's counts, in days.
RULE_COUNT_DAYS = (7, 30)


def _routed_count(since, **where) -> Coalesce:
    """How many responses routing recorded against the rule since then (its
    RoutedResponse rows): a correlated count, so the changelist stays one query."""
    rows = (
        RoutedResponse.objects.filter(rule=OuterRef("pk"), routed_at__gte=since, **where)
        .order_by()
        .values("rule")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


class RoutingRuleChangeList(ChangeList):
    """Marks each listed rule that can never fire (`never_fires_behind`), from
    every rule in routing order, whatever the page, search or filter shows."""

    def get_results(self, request):
        super().get_results(request)
        everything = RoutingRule.objects.order_by("position", "pk").prefetch_related("journeys", "touchpoints")
        shadowed = rules_never_firing(everything)
        for rule in self.result_list:
            rule.never_fires_behind = shadowed.get(rule.pk)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    """The changelist reads each rule in words (cases.rule_wording), with its
    routing counts and a flag on rules an earlier one always takes first.
    Positions are unique and change only by the up/down buttons, through
    cases.services.routing.routing_rule_move."""

    form = RoutingRuleForm
    list_display = [
        "position",
        "order_buttons",
        "name",
        "conditions",
        "active",
        "matched_7",
        "opened_7",
        "matched_30",
        "opened_30",
        "overlap",
    ]
    list_display_links = ["name"]
    list_editable = ["active"]
    list_filter = ["active", "opens", "priority", "strategy"]
    ordering = ["position", "id"]
    search_fields = ["name", "keywords"]
    filter_horizontal = ["journeys", "touchpoints"]
    fieldsets = [
        (None, {"fields": ["name", "position", "active"]}),
        ("Which feedback (empty filters match all)", {"fields": ["journeys", "touchpoints", "channels", "kinds"]}),
        (
            "Conditions (each one set must hold)",
            {
                "fields": [
                    "nps_at_most",
                    "nps_at_least",
                    "csat_at_most",
                    "ces_at_most",
                    "sentiment_at_most",
                    "intents_any",
                    "keywords",
                ]
            },
        ),
        (
            "Then open a case with",
            {
                "fields": [
                    "opens",
                    "opportunity_kind",
                    "priority",
                    "team",
                    "strategy",
                    "first_contact_sla_hours",
                    "resolution_sla_hours",
                ]
            },
        ),
        (None, {"fields": ["notes"]}),
    ]

    def get_queryset(self, request):
        now = timezone.now()
        counts = {}
        for days in RULE_COUNT_DAYS:
            since = now - timedelta(days=days)
            counts[f"matched_{days}_n"] = _routed_count(since)
            counts[f"opened_{days}_n"] = _routed_count(since, outcome=RoutingOutcome.OPENED)
        return super().get_queryset(request).prefetch_related("journeys", "touchpoints").annotate(**counts)

    def get_changelist(self, request, **kwargs):
        return RoutingRuleChangeList

    def get_readonly_fields(self, request, obj=None):
        # An existing rule's place changes only by moving it (a unique position, swapped atomically).
        return ["position"] if obj is not None else []

    def get_changeform_initial_data(self, request):
        last = RoutingRule.objects.order_by("-position").values_list("position", flat=True).first()
        return {"position": 0 if last is None else last + 1, **super().get_changeform_initial_data(request)}

    @admin.display(description="conditions → action")
    def conditions(self, rule: RoutingRule) -> str:
        return rule_in_words(rule)

    @admin.display(description="matched, 7 days", ordering="matched_7_n")
    def matched_7(self, rule: RoutingRule) -> int:
        return rule.matched_7_n

    @admin.display(description="opened, 7 days", ordering="opened_7_n")
    def opened_7(self, rule: RoutingRule) -> int:
        return rule.opened_7_n

    @admin.display(description="matched, 30 days", ordering="matched_30_n")
    def matched_30(self, rule: RoutingRule) -> int:
        return rule.matched_30_n

    @admin.display(description="opened, 30 days", ordering="opened_30_n")
    def opened_30(self, rule: RoutingRule) -> int:
        return rule.opened_30_n

    @admin.display(description="overlap")
    def overlap(self, rule: RoutingRule) -> str:
        earlier = getattr(rule, "never_fires_behind", None)
        if earlier is None:
            return ""
        return format_html(
            '<strong class="rule-never-fires">Never fires:</strong> “{}” (position {}) always matches first.',
            earlier,
            earlier.position,
        )

    @admin.display(description="move")
    def order_buttons(self, rule: RoutingRule) -> str:
        # Buttons of the changelist's own form (it carries the CSRF token), posting where the rule was seen.
        return format_html(
            '<button type="submit" formmethod="post" formaction="{}" name="position" value="{}" '
            'title="Try earlier" aria-label="Move “{}” up">▲</button> '
            '<button type="submit" formmethod="post" formaction="{}" name="position" value="{}" '
            'title="Try later" aria-label="Move “{}” down">▼</button>',
            reverse("admin:cases_routingrule_move", args=[rule.pk, "up"]),
            rule.position,
            rule,
            reverse("admin:cases_routingrule_move", args=[rule.pk, "down"]),
            rule.position,
            rule,
        )

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/", self.admin_site.admin_view(self.preview_view), name="cases_routingrule_preview"
        )
        move = path(
            "<int:rule_id>/move/<str:direction>/",
            self.admin_site.admin_view(self.move_view),
            name="cases_routingrule_move",
        )
        return [preview, move, *super().get_urls()]

    def move_view(self, request, rule_id, direction):
        """POST `position` (where the admin saw the rule): moves it one place
        through the service; whatever it refuses is the message shown."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        seen = request.POST.get("position", "")
        try:
            if not seen.isdigit() or len(seen) > 9:
                raise DomainError("The position you saw is missing or not a number: reload the list.")
            rule = routing_rule_move(actor=request.user, rule_id=rule_id, direction=direction, seen_position=int(seen))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"“{rule}” is now at position {rule.position}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:cases_routingrule_changelist"))

    def preview_view(self, request, object_id):
        """The dry run of one rule (cases.routing_preview): GET ?days=N, 30
        when not given; a bad N is shown as the form's error."""
        rule = self.get_object(request, object_id)
        if rule is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, rule):
            raise PermissionDenied
        form = RulePreviewForm(request.GET if "days" in request.GET else {"days": 30})
        preview = None
        if form.is_valid():
            preview = routing_preview.routing_rule_preview(
                rule=rule,
                days=form.cleaned_data["days"],
                max_rows=routing_preview.PREVIEW_MAX_ROWS,
                examples_from=feedback_visible_to(request.user),
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": rule,
            "title": f"Dry run of “{rule}”",
            "form": form,
            "preview": preview,
        }
        return TemplateResponse(request, "admin/cases/routingrule/preview.html", context)


@admin.register(RootCause)
class RootCauseAdmin(admin.ModelAdmin):
    list_display = ["__str__", "active"]
    list_filter = ["active", "parent"]
    search_fields = ["name", "parent__name"]


@admin.register(Case)
class CaseAdmin(ScopedAdmin, ReadOnlyAdmin):
    visible_to = staticmethod(cases_visible_to)
    list_display = ["number", "status", "priority", "owner", "team", "touchpoint", "due_at", "outcome"]
    list_filter = ["status", "priority", "outcome", "team", "journey"]
    list_select_related = ["owner", "team", "touchpoint"]
    date_hierarchy = "created_at"


@admin.register(CaseEvent)
class CaseEventAdmin(ScopedAdmin, ReadOnlyAdmin):
    visible_to = staticmethod(case_events_visible_to)
    list_display = ["case", "seq", "kind", "actor", "at"]
    list_filter = ["kind"]
    list_select_related = ["case", "actor"]


@admin.register(ReplyTemplate)
class ReplyTemplateAdmin(admin.ModelAdmin):
    """Placeholders are checked on save (ReplyTemplate.clean): an unknown or
    broken one is a form error naming the field and the placeholder."""

    list_display = ["name", "team", "subject", "active"]
    list_filter = ["active", "team"]
    search_fields = ["name", "subject"]


@admin.register(UnmatchedEmail)
class UnmatchedEmailAdmin(ScopedAdmin, ReadOnlyAdmin):
    """Inbound email with no valid reply token: never attached to a case.
    Only CX admins hold its view permission (cases migration 0012) and only
    those who act on every case get rows (the selector)."""

    visible_to = staticmethod(unmatched_emails_visible_to)

    list_display = ["received_at", "from_email", "subject", "reason"]
    search_fields = ["from_email", "subject"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyAdmin):
    """Which notification kinds a person does not want by email; each person
    sets theirs on the notification settings page (cases.notifications)."""

    list_display = ["user", "email_off", "updated_at"]
    search_fields = ["user__username"]
