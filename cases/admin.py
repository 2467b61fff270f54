"""Routing rules and root causes are configured here. Cases and their events
are read-only: a case changes only through cases.services, and each user
sees only those the case selectors give them."""

from django import forms
from django.contrib import admin

from cases.models import Case, CaseEvent, RootCause, RoutingRule
from cases.selectors import case_events_visible_to, cases_visible_to
from cvx_site.admin import ReadOnlyAdmin, ScopedAdmin
from feedback.choices import FeedbackKind
from journeys.choices import Channel


class RoutingRuleForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(choices=Channel.choices, widget=forms.CheckboxSelectMultiple,
                                         required=False, help_text="Empty: any channel.")
    kinds = forms.MultipleChoiceField(choices=FeedbackKind.choices, widget=forms.CheckboxSelectMultiple,
                                      required=False, help_text="Empty: any kind.")

    class Meta:
        model = RoutingRule
        fields = "__all__"


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
        ("Conditions (each one set must hold)",
         {"fields": ["nps_at_most", "csat_at_most", "ces_at_least", "sentiment_at_most", "keywords"]}),
        ("Then open a case with", {"fields": ["priority", "team", "strategy", "first_contact_sla_hours",
                                              "resolution_sla_hours"]}),
    ]


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
