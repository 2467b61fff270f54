"""Pages of a person's notifications: the bell (a fragment the header polls
with htmx), the list, opening one (marks it read and goes to its case),
marking all read, and the email preferences. Each shows and changes only
the signed-in person's own, through the selectors and services beside."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases.notifications.forms import NotificationPreferencesForm
from cases.notifications.selectors import digest_wanted, email_choices_of, notifications_page, unread_count
from cases.notifications.services import (
    notification_open as open_notification,
)
from cases.notifications.services import (
    notification_preferences_save,
    notifications_mark_read,
)
from cases.selectors import is_manager
from cvx_site.errors import DomainError
from cvx_site.inputs import parse_id


@require_GET
def notification_bell(request):
    """The bell with the unread count, for the header's polling. Signed out
    (a session that expired under an open page): 204, so htmx leaves the
    header as it is rather than swapping the login page into it."""
    if not request.user.is_authenticated:
        return HttpResponse(status=204)
    return render(request, "cases/notifications/_bell.html", {"unread": unread_count(request.user)})


@login_required
@require_GET
def notification_list(request):
    """Mine, newest first, a page at a time (`before`: the id the previous page ended at)."""
    raw = request.GET.get("before")
    before = parse_id(raw) if raw else None
    if raw and before is None:
        raise Http404("No such page.")
    items, next_before = notifications_page(request.user, before=before)
    return render(
        request,
        "cases/notifications/list.html",
        {
            "items": items,
            "next_before": next_before,
            "first_page": before is None,
            "unread": unread_count(request.user),
            "nav_section": "notifications",
        },
    )


@login_required
@require_GET
def notification_open(request, pk: int):
    try:
        note = open_notification(user=request.user, notification_id=pk)
    except DomainError as exc:
        raise Http404(exc.message) from exc
    return redirect(reverse("cases:detail", args=[note.event.case_id]))


@login_required
@require_POST
def notifications_read(request):
    marked = notifications_mark_read(user=request.user)
    messages.success(request, f"{marked} notification{'' if marked == 1 else 's'} marked read.")
    return redirect("cases:notifications")


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request):
    choices = email_choices_of(request.user)
    form = NotificationPreferencesForm(
        request.POST or None,
        initial={"email": [value for value, _, on in choices if on], "weekly_digest": digest_wanted(request.user)},
    )
    digest_reader = is_manager(request.user)
    if not digest_reader:
        del form.fields["weekly_digest"]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                notification_preferences_save(
                    user=request.user,
                    email=form.cleaned_data["email"],
                    weekly_digest=form.cleaned_data["weekly_digest"] if digest_reader else None,
                )
            except DomainError as exc:
                form.add_error("email", exc.message)
            else:
                messages.success(request, "Notification settings saved.")
                return redirect("cases:notification-settings")
        status = 400
    return render(
        request,
        "cases/notifications/settings.html",
        {"form": form, "nav_section": "notifications"},
        status=status,
    )
