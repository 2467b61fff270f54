"""Routing rules and root causes are configured here. Cases and their events
are read-only: a case changes only through cases.services, and each user
sees only those the case selectors give them."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path

from cases import routing_preview
from cases.messaging.selectors import unmatched_emails_visible_to
from cases.models import Case, CaseEvent, ReplyTemplate, RootCause, RoutingRule, UnmatchedEmail
from cases.selectors import case_events_visible_to, cases_visible_to
from cvx_site.admin import ReadOnlyAdmin, ScopedAdmin
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

    class Meta:
        model = RoutingRule
        fields = "__all__"


class RulePreviewForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=routing_preview.PREVIEW_MAX_DAYS, initial=30, label="Last N days")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = ["name", "position", "active", "priority", "strategy", "team"]
    list_editable = ["position", "active"]
    list_filter = ["active", "priority", "strategy"]
    search_fields = ["name", "keywords"]
    filter_horizontal = ["journeys", "touchpoints"]
    fieldsets = [
        (None, {"fields": ["name", "position", "active"]}),
        ("Which feedback (empty filters match all)", {"fields": ["journeys", "touchpoints", "channels", "kinds"]}),
        (
            "Conditions (each one set must hold)",
            {"fields": ["nps_at_most", "csat_at_most", "ces_at_most", "sentiment_at_most", "intents_any", "keywords"]},
        ),
        (
            "Then open a case with",
            {"fields": ["priority", "team", "strategy", "first_contact_sla_hours", "resolution_sla_hours"]},
        ),
        (None, {"fields": ["notes"]}),
    ]

    def get_urls(self):
        preview = path(
            "<path:object_id>/preview/", self.admin_site.admin_view(self.preview_view), name="cases_routingrule_preview"
        )
        return [preview, *super().get_urls()]

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
