"""Feedback is read-only in the admin: it gets in only through the ingestion
service (API, CSV import, survey form), so nothing here writes a response.
Customers, feedback and invitations show each user only what the feedback
selectors give them."""

from django.contrib import admin

from cvx_site.admin import ReadOnlyAdmin, ScopedAdmin, ScopedChoicesMixin
from feedback.models import ContactRule, Customer, CustomerIdentity, FeedbackResponse, SurveyInvitation
from feedback.selectors import customers_visible_to, feedback_visible_to, invitations_visible_to


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
    list_display = ["__str__", "touchpoint", "kind", "nps", "csat", "ces", "sentiment_label", "occurred_at"]
    list_filter = ["kind", "nps_category", "csat_band", "sentiment_label", "touchpoint__channel",
                   "touchpoint__stage__journey"]
    search_fields = ["external_id", "comment", "customer__identities__value"]
    list_select_related = ["touchpoint", "customer"]
    date_hierarchy = "occurred_at"


@admin.register(ContactRule)
class ContactRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "max_surveys", "period_days", "no_survey_while_case_open"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(ScopedAdmin, ReadOnlyAdmin):
    visible_to = staticmethod(invitations_visible_to)
    list_display = ["__str__", "customer", "touchpoint", "created_at", "sent_at", "answered_at", "expires_at"]
    list_filter = ["purpose"]
    list_select_related = ["customer", "touchpoint"]
