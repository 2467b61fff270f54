"""Pages: the queues, the case page with its actions, the manager's audit
trail and bulk reassignment. Every change goes through cases.services."""

from __future__ import annotations

import json
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.views.decorators.http import require_http_methods, require_POST

from cases import policy, services
from cases.audit.trail import last_good_checkpoint, latest_checkpoint
from cases.audit.verify import ChainBreak
from cases.choices import CaseOutcome, CaseStatus, Priority
from cases.filtersets import CaseFilterSet
from cases.forms import ActionForm, AuditFilterForm, BulkReassignForm
from cases.models import Case, RoutedResponse, VerificationRun
from cases.numbers import case_number
from cases.selectors import (
    SORTS,
    case_events_visible_to,
    cases_to_act_on,
    cases_visible_to,
    is_manager,
    keyset_page,
    memberships_of,
    queue,
    status_counts,
    with_what_they_said,
)
from cases.services import saved_filters
from cvx_site.csv_export import csv_export, csv_response
from cvx_site.errors import DomainError
from cvx_site.inputs import parse_id

PAGE_SIZE = 25
QUEUES = {
    "mine": "My queue",
    "recent": "My recent",
    "follow_up": "Awaiting follow-up",
    "closed": "Closed",
    "team": "Team queue",
    "opportunities": "Opportunities",
    "all": "All cases",
}
# What a queue row shows (cases_tags.queue_rows), and no more: 25 rows of 4 tables.
QUEUE_COLUMNS = (
    "id",
    "kind",
    "status",
    "priority",
    "due_at",
    "first_contact_breached_at",
    "resolution_breached_at",
    "owner__username",
    "touchpoint__name",
    "journey__name",
    "created_at",
    "updated_at",
)
# The queue's sort links: SORTS name -> label.
SORT_LABELS = {"due": "Due", "priority": "Priority", "created": "Newest", "updated": "Recently updated"}


def _manager_only(user) -> None:
    if not is_manager(user):
        raise DjangoPermissionDenied("Only team leads and CX admins see this page.")


@login_required
def home(request):
    return redirect("cases:queue", name="mine")


@login_required
def queue_view(request, name: str):
    if name not in QUEUES:
        raise Http404
    if name == "all":
        _manager_only(request.user)
    base = queue(request.user, name)
    filters = CaseFilterSet(
        request.GET,
        queryset=base.select_related("owner", "touchpoint", "journey").only(*QUEUE_COLUMNS),
        request=request,
    ).with_choices()
    cases = filters.qs if filters.is_valid() else base.none()
    sort = request.GET.get("sort", "due")
    sort = sort if sort in SORTS else "due"  # an unknown order: the default one
    searching = filters.is_valid() and bool(filters.form.cleaned_data.get("q"))
    page = keyset_page(cases, after=request.GET.get("after"), size=PAGE_SIZE, sort=sort, searching=searching)
    with_what_they_said(page.items)
    query = request.GET.copy()
    query.pop("after", None)
    unsorted = query.copy()
    unsorted.pop("sort", None)
    counts = status_counts(base)
    return render(
        request,
        "cases/queue.html",
        {
            "queue_name": name,
            "title": QUEUES[name],
            "queues": QUEUES,
            "agent_views": [(value, label) for value, label in QUEUES.items() if value != "all"],
            "sorts": [(value, label, value == sort) for value, label in SORT_LABELS.items()],
            "sort": sort,
            "saved_filters": saved_filters.saved_filters_of(request.user),
            "unsorted": unsorted.urlencode(),
            "filters": filters,
            "page": page,
            "counts": [
                (value, label, counts.shown(value)) for value, label in CaseStatus.choices if counts.counts.get(value)
            ],
            "counts_capped": counts.capped,
            "count_cap": f"{counts.cap:,}",
            "query": query.urlencode(),
            "selectable": name == "all",
            "bulk_form": BulkReassignForm(user=request.user) if name == "all" else None,
        },
    )


@login_required
@require_POST
def saved_filter_save(request, name: str):
    """Save the queue's current filters under a name (the queue page's form)."""
    if name not in QUEUES:
        raise Http404
    query = request.POST.get("query", "")
    try:
        saved = saved_filters.saved_filter_save(
            user=request.user, name=request.POST.get("name", ""), queue=name, query=query
        )
    except DomainError as e:
        messages.error(request, f"Filter not saved: {e.message}")
        return redirect(f"{reverse('cases:queue', args=[name])}?{QueryDict(query).urlencode()}")
    messages.success(request, f"Saved “{saved.name}”.")
    return redirect(f"{reverse('cases:queue', args=[saved.queue])}?{saved.query}")


@login_required
@require_POST
def saved_filter_delete(request, pk: int):
    try:
        saved_filters.saved_filter_delete(user=request.user, filter_id=pk)
    except DomainError as e:
        raise Http404(e.message) from e
    messages.success(request, "Saved filter deleted.")
    return redirect(
        request.POST.get("next")
        if url_has_allowed_host_and_scheme(
            request.POST.get("next"), allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        else reverse("cases:home")
    )


@login_required
def search_view(request):
    """/cases/search/?q=: the caller's cases in any state that the text finds
    (cases.selectors.search), by due time, a page at a time."""
    text = request.GET.get("q", "")
    # The user's teams as the list the header's bell and navigation read too (memberships_of).
    visible = cases_visible_to(request.user, team_ids=list(memberships_of(request.user).team_ids))
    filters = CaseFilterSet(
        {"q": text},
        queryset=visible.select_related("owner", "touchpoint", "journey").only(*QUEUE_COLUMNS),
        request=request,
    )
    valid = filters.is_valid()
    page = None
    if valid and filters.form.cleaned_data.get("q"):
        page = keyset_page(filters.qs, after=request.GET.get("after"), size=PAGE_SIZE, searching=True)
        with_what_they_said(page.items)
    query = request.GET.copy()
    query.pop("after", None)
    return render(
        request,
        "cases/search.html",
        {"filters": filters, "page": page, "query": query.urlencode(), "queues": QUEUES, "nav_section": "search"},
        status=200 if valid else 400,
    )


def _case_for(user, pk: int) -> Case:
    """The case if `user` may see it, with `actor_in_team` as the services' lock has it."""
    case = (
        cases_to_act_on(user)
        .select_related(
            "owner", "team__lead", "touchpoint__stage__journey", "customer", "feedback", "root_cause", "rule"
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("No such case, or not one you can see.")
    return case


@login_required
def case_detail(request, pk: int, *, forms=None, status: int = 200):
    case = _case_for(request.user, pk)
    member = case.actor_in_team
    allowed = policy.allowed_actions(request.user, case, member=member)
    forms = forms or {}
    action_forms = [
        (a, policy.TRANSITIONS[a].label, forms.get(a) or ActionForm(a, case=case, user=request.user)) for a in allowed
    ]
    attached = (
        RoutedResponse.objects.filter(case=case)
        .exclude(response_id=case.feedback_id)
        .select_related("response__touchpoint")
        .order_by("routed_at")
    )
    history = _customer_history(request.user, case)
    events = readable(list(case.events.select_related("actor").order_by("seq")))
    return render(
        request,
        "cases/case_detail.html",
        {
            "case": case,
            "action_forms": action_forms,
            "attached": attached,
            "events": events,
            "can_take": "reassign" in allowed and case.owner_id is None and member,
            **history,
        },
        status=status,
    )


# Bookkeeping fields that the timeline need not show a person.
HIDDEN_CHANGES = {"due_at", "contact_count", "resolution_summary"}


def readable(events: list) -> list:
    """Give each event `shown_changes`: (field, before, after) with people and
    root causes by name, states by label and times formatted."""
    from django.contrib.auth import get_user_model

    from cases.models import RootCause

    ids = {"owner": set(), "root_cause": set()}
    for event in events:
        for name in ids:
            ids[name].update(v for v in event.changes.get(name, []) if v)
    names = {
        "owner": dict(get_user_model().objects.filter(pk__in=ids["owner"]).values_list("pk", "username")),
        "root_cause": {
            c.pk: str(c) for c in RootCause.objects.filter(pk__in=ids["root_cause"]).select_related("parent")
        },
    }
    names["status"] = dict(CaseStatus.choices)
    names["priority"] = dict(Priority.choices)
    names["outcome"] = dict(CaseOutcome.choices)
    for event in events:
        event.shown_changes = [
            (field.replace("_", " "), _shown(names, field, before), _shown(names, field, after))
            for field, (before, after) in event.changes.items()
            if field not in HIDDEN_CHANGES
        ]
    return events


def _shown(names: dict, field: str, value):
    if field in names:
        return names[field].get(value, value)
    if isinstance(value, str) and field.endswith("_at"):
        try:
            return date_format(localtime(datetime.fromisoformat(value)), "j M H:i")
        except ValueError:
            return value
    return value


def _customer_history(user, case: Case) -> dict:
    """The case's customer, and of their other feedback and cases only what
    the viewer's selectors give them, as the API would."""
    from feedback.selectors import feedback_visible_to

    if case.customer_id is None:
        return {"earlier_feedback": [], "other_cases": [], "identities": []}
    customer = case.customer
    return {
        "identities": list(customer.identities.all()),
        "earlier_feedback": list(
            feedback_visible_to(user)
            .filter(customer_id=case.customer_id)
            .exclude(pk=case.feedback_id)
            .order_by("-occurred_at")[:20]
        ),
        "other_cases": list(
            cases_visible_to(user)
            .filter(customer_id=case.customer_id)
            .exclude(pk=case.pk)
            .select_related("touchpoint")
            .order_by("-created_at")[:20]
        ),
    }


@login_required
@require_POST
def case_act(request, pk: int, action: str):
    case = _case_for(request.user, pk)
    if action == "take":
        action, data = "reassign", {"reassign-owner": str(request.user.pk)}
    elif action in policy.ACTIONS:
        data = request.POST
    else:
        raise Http404
    form = ActionForm(action, data, case=case, user=request.user)
    if not form.is_valid():
        return case_detail(request, pk, forms={action: form}, status=400)
    try:
        services.case_transition(case_id=case.pk, actor=request.user, action=action, **form.cleaned_data)
    except DomainError as exc:
        if exc.field and exc.field in form.fields:
            form.add_error(exc.field, exc.message)
        else:
            messages.error(request, exc.message)
        return case_detail(request, pk, forms={action: form}, status=exc.status)
    messages.success(request, f"{case.number}: {policy.TRANSITIONS[action].label.lower()} — done.")
    return redirect("cases:detail", pk=case.pk)


# --- managers -------------------------------------------------------------------


def _audit_events(request):
    form = AuditFilterForm(request.GET or None)
    events = case_events_visible_to(request.user).select_related("actor", "case").order_by("-at", "-id")
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        if data["actor"]:
            events = (
                events.filter(actor__isnull=True)
                if data["actor"] == "system"
                else events.filter(actor__username=data["actor"])
            )
        if data["case"]:
            events = events.filter(case_id=data["case"])
        if data["kind"]:
            events = events.filter(kind=data["kind"])
        if data["since"]:
            events = events.filter(at__date__gte=data["since"])
        if data["until"]:
            events = events.filter(at__date__lte=data["until"])
    elif form.is_bound:
        events = events.none()
    return form, events


@login_required
def audit_trail(request):
    _manager_only(request.user)
    form, events = _audit_events(request)
    return render(
        request,
        "cases/audit.html",
        {
            "form": form,
            "events": readable(list(events[:200])),
            "query": request.GET.urlencode(),
            "nav_section": "audit",
        },
    )


@csv_export
@login_required
def audit_export(request):
    _manager_only(request.user)
    form, events = _audit_events(request)
    header = ["case", "seq", "at", "kind", "actor", "changes", "note", "data", "prev_hash", "hash"]
    rows = (
        [
            e.case.number,
            e.seq,
            e.at.isoformat(),
            e.kind,
            e.actor.get_username() if e.actor_id else "system",
            json.dumps(e.changes, sort_keys=True),
            e.note,
            json.dumps(e.data, sort_keys=True),
            e.prev_hash,
            e.hash,
        ]
        for e in events.iterator(chunk_size=2000)
    )
    return csv_response("cvx-audit-trail.csv", header, rows)


@login_required
@require_http_methods(["GET", "POST"])
def audit_verify(request):
    """The latest verification of the audit trail, its progress while one
    runs, and (POST) a full one started in the background."""
    from cases.services.audit import verification_start

    _manager_only(request.user)
    if request.method == "POST":
        try:
            verification_start(kind=VerificationRun.Kind.FULL, actor=request.user)
            messages.success(request, "Full verification started; its progress shows below.")
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("cases:audit-verify")
    return render(request, "cases/audit_verify.html", {"nav_section": "audit", **_verification(request.user)})


@login_required
def audit_verify_progress(request):
    """The fragment of the page that htmx polls while a verification runs."""
    _manager_only(request.user)
    return render(request, "cases/_audit_run.html", _verification(request.user))


def _verification(user) -> dict:
    runs = VerificationRun.objects.select_related("requested_by", "checkpoint", "baseline")
    active = runs.filter(active=True).first()
    result = runs.filter(active__isnull=True).order_by("-finished_at", "-id").first()
    breaks = [ChainBreak(**item) for item in result.breaks] if result else []
    # Breaks in cases the manager may not see are counted, not shown.
    visible = set(
        cases_visible_to(user).filter(pk__in={b.case_id for b in breaks if b.case_id}).values_list("pk", flat=True)
    )
    shown = [b for b in breaks if b.case_id is None or b.case_id in visible]
    return {
        "run": active,
        "result": result,
        "breaks": shown,
        "hidden_breaks": len(breaks) - len(shown),
        "unlisted_breaks": result.break_count - len(breaks) if result else 0,
        "good": last_good_checkpoint(),
        "checkpoint": latest_checkpoint(),
    }


@login_required
@require_POST
def bulk_reassign(request):
    _manager_only(request.user)
    ids = [pk for v in request.POST.getlist("case") if (pk := parse_id(v)) is not None]
    form = BulkReassignForm(request.POST, case_ids=ids, user=request.user)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{form.fields[field].label or field}: {' '.join(errors)}")
        return redirect("cases:queue", name="all")
    done, failed = 0, []
    for case_id in form.cleaned_data["case"]:
        try:
            services.case_reassign(
                case_id=case_id, actor=request.user, owner=form.cleaned_data["owner"], note=form.cleaned_data["note"]
            )
            done += 1
        except DomainError as exc:
            failed.append(f"{case_number(case_id)}: {exc.message}")
    if done:
        messages.success(request, f"Reassigned {done} case(s) to {form.cleaned_data['owner'].get_username()}.")
    for failure in failed:
        messages.error(request, failure)
    return redirect(reverse("cases:queue", kwargs={"name": "all"}))
