"""Webhooks and chat channels in the admin (configuration, CX admins), and
their deliveries (CX admins only: see selectors.manages_deliveries)."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages

from cases.webhooks import guard
from cases.webhooks.models import ChatAlert, ChatChannel, Delivery, DeliveryAttempt, Webhook, WebhookEvent
from cases.webhooks.selectors import deliveries_visible_to, manages_deliveries
from cases.webhooks.services import deliveries_redeliver
from cvx_site.admin import ReadOnlyAdmin, ScopedAdmin
from cvx_site.errors import DomainError


class _TargetForm(forms.ModelForm):
    url = forms.URLField(
        max_length=500, assume_scheme="https", help_text="https:// only; private and internal addresses are refused."
    )

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            guard.resolve(url)
        except guard.UnsafeTarget as exc:
            raise forms.ValidationError(exc.message) from None
        return url


class WebhookForm(_TargetForm):
    events = forms.MultipleChoiceField(choices=WebhookEvent.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Webhook
        fields = ["name", "url", "events", "secret", "active"]


class ChatChannelForm(_TargetForm):
    events = forms.MultipleChoiceField(
        choices=ChatAlert.choices, widget=forms.CheckboxSelectMultiple, help_text="Alerts about the team's cases."
    )

    class Meta:
        model = ChatChannel
        fields = ["name", "team", "kind", "url", "events", "active"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    form = WebhookForm
    list_display = ["name", "url", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "url"]


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    form = ChatChannelForm
    list_display = ["name", "team", "kind", "active"]
    list_filter = ["kind", "active", "team"]
    search_fields = ["name", "team__name"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = ["number", "started_at", "duration_ms", "status_code", "response_excerpt", "error"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ScopedAdmin, ReadOnlyAdmin):
    visible_to = staticmethod(deliveries_visible_to)
    list_display = ["created_at", "event", "target", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "event"]
    search_fields = ["event_id", "webhook__name", "channel__name"]
    readonly_fields = ["body"]
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]

    def has_redeliver_permission(self, request) -> bool:
        return manages_deliveries(request.user)

    @admin.action(description="Redeliver the selected deliveries", permissions=["redeliver"])
    def redeliver(self, request, queryset):
        try:
            count = deliveries_redeliver(actor=request.user, delivery_ids=list(queryset.values_list("pk", flat=True)))
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        skipped = queryset.count() - count
        note = f" ({skipped} being sent right now left alone)" if skipped else ""
        self.message_user(request, f"{count} delivery(ies) queued again{note}.", messages.SUCCESS)
