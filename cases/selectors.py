"""Reads with access rules: one selector per resource, used by the list and
the detail, pages and API alike."""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet, Value
from django.utils import timezone

from cases.choices import OPEN_STATUSES, CaseKind, CaseStatus
from cases.models import Case, CaseEvent
from cases.numbers import parse_case_number
from cases.policy import is_case_admin
from cvx_site.db import planned_as_lookup
from cvx_site.inputs import parse_id, text_problem
from feedback.models import Customer
from journeys.selectors import teams_of

# Which branch of the case visibility rule applies to a user (case_scope).
NO_CASES, ALL_CASES, TEAM_CASES = "none", "all", "teams"
VIEW_ALL = "cases.view_all_cases"
# Full text without stemming or stop words: names, product words and ids
# are matched as typed, in any language.
SEARCH_CONFIG = "simple"


def case_scope(user) -> str:
    """NO_CASES for an anonymous user; ALL_CASES for CX admins and
    integrations (read-only); TEAM_CASES for everyone else. Reads the user's
    permissions (cached on the user object for the request)."""
    if not user.is_authenticated:
        return NO_CASES
    if is_case_admin(user) or user.has_perm(VIEW_ALL):
        return ALL_CASES
    return TEAM_CASES


def in_teams_of(user, *, team_ids: Collection[int] | None = None) -> Q:
    """Cases of the teams `user` is in or leads (journeys.selectors.teams_of);
    `team_ids`: those teams' ids, already read (team_ids_of)."""
    return Q(team__in=teams_of(user) if team_ids is None else team_ids)


def cases_in_scope(user, scope: str, *, team_ids: Collection[int] | None = None) -> QuerySet[Case]:
    """The one rule of who sees which case, for `scope` = case_scope(user):
    nothing, every case, or the cases of the user's teams (people in no team
    see none). Every other case read with access rules derives from it."""
    cases = Case.objects.all()
    if scope == NO_CASES:
        return cases.none()
    if scope == ALL_CASES:
        return cases
    return cases.filter(in_teams_of(user, team_ids=team_ids))


def cases_visible_to(user, *, team_ids: Collection[int] | None = None) -> QuerySet[Case]:
    """The cases `user` may see: the list, the detail, pages and API alike.

    `team_ids`: the user's team_ids_of(), for a caller that has read them
    already; the filter is then a list rather than a subquery."""
    return cases_in_scope(user, case_scope(user), team_ids=team_ids)


def cases_to_act_on(user, *, scope: str | None = None) -> QuerySet[Case]:
    """cases_visible_to(user) with each case's team loaded and `actor_in_team`
    (whether the user is in or leads the case's team, which the policy's
    frontline rules need): what a transition locks, and what the case page
    reads. `scope`: case_scope(user), when the caller has it."""
    scope = case_scope(user) if scope is None else scope
    # Every case the team branch lets a user see is one of their teams'.
    in_team = Value(True) if scope == TEAM_CASES else ExpressionWrapper(in_teams_of(user), output_field=BooleanField())
    return cases_in_scope(user, scope).select_related("team").annotate(actor_in_team=in_team)


def team_ids_of(user) -> list[int]:
    """The ids of the teams the user is in or leads, read now. The queues
    filter by this list rather than by the teams_of subquery: beside the
    select_related joins, the subquery made PostgreSQL spend longer planning
    a page query than running it."""
    return list(teams_of(user).order_by().values_list("pk", flat=True))


@dataclass(frozen=True)
class Memberships:
    """The teams a user is in or leads (ids), and whether they lead one."""

    team_ids: tuple[int, ...]
    leads_a_team: bool


def memberships_of(user) -> Memberships:
    """The user's teams and whether they lead one, read in one query and
    kept on the user object, as Django keeps its permissions (`_perm_cache`):
    a page asks three times (its queue, the header's bell, the navigation's
    manager links), and a request loads its user afresh, so the figures are
    the request's. Code that changes a user's teams and asks again with the
    same user object must ask team_ids_of / teams_led_by instead."""
    cached = getattr(user, "_cvx_memberships", None)
    if cached is None:
        if not user.is_authenticated:
            return Memberships((), False)
        rows = list(teams_of(user).order_by().values_list("pk", "lead_id"))
        cached = Memberships(tuple(pk for pk, _ in rows), any(lead == user.pk for _, lead in rows))
        user._cvx_memberships = cached
    return cached


def case_events_visible_to(user) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case__in=cases_visible_to(user))


def complaints(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The complaints among `cases`: all that the loop metrics, recovery,
    root causes, the SLA and the journey map's case counts read. Opportunities
    never enter them (the chain of CX value counts their revenue apart)."""
    return cases.filter(kind=CaseKind.COMPLAINT)


def opportunities_won(cases: QuerySet[Case]) -> QuerySet[Case]:
    """The won opportunities among `cases`."""
    return cases.filter(kind=CaseKind.OPPORTUNITY, status=CaseStatus.WON)


def breached(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Complaints open and past due now, or marked breached by the SLA sweep
    (an opportunity has due times to sort by, and no SLA to breach)."""
    return cases.filter(
        Q(kind=CaseKind.COMPLAINT, status__in=OPEN_STATUSES, due_at__lt=timezone.now())
        | Q(first_contact_breached_at__isnull=False)
        | Q(resolution_breached_at__isnull=False)
    )


def is_manager(user) -> bool:
    """CX admins and team leads: they see All cases and the audit pages."""
    return is_case_admin(user) or memberships_of(user).leads_a_team


# A search is a few words, a number, an email or a phone: longer text is refused.
SEARCH_MAX_CHARS = 200


def search_problem(text: str) -> str | None:
    """Why `text` cannot be searched for, or None."""
    if len(text) > SEARCH_MAX_CHARS:
        return f"is {len(text):,} characters long; at most {SEARCH_MAX_CHARS} are searched"
    return text_problem(text)


def search(cases: QuerySet[Case], text: str) -> QuerySet[Case]:
    """The cases among `cases` (already the caller's scope) that `text`
    finds: by case number ("CX-000056" or "56"), the customer's email, phone,
    external id or social handle (as ingestion normalises them), words of the
    customer's name, of the comment that opened the case, or of its notes.

    Nothing is copied into a search field: the match reads the customer,
    feedback and events as they are now, so an erased customer (name blanked,
    identities deleted, comments emptied by feedback.privacy) is found by
    none of that data any more. PostgreSQL matches words by full text
    (`simple` configuration: every word, in any order); SQLite, every word
    as a substring of the same field. Check the text with search_problem first."""
    from feedback.choices import IdentityKind
    from feedback.models import CustomerIdentity
    from feedback.validation import normalise_identity

    text = " ".join(text.split())
    if not text:
        return cases
    identity = Q(pk__in=[])
    for kind in IdentityKind.values:  # each (kind, value) pair is a lookup of the unique identity index
        identity |= Q(kind=kind, value=normalise_identity(kind, text))
    identified = CustomerIdentity.objects.filter(identity).values("customer_id")
    named, comments, notes = word_matches(text)
    # The ids of the matching cases, one indexed lookup a field, in one
    # UNION: the scope and the page's order then apply to those cases only.
    by_case = Case.objects.order_by()
    matching = [
        by_case.filter(customer__in=identified).values("pk"),
        by_case.filter(customer__in=named.values("pk")).values("pk"),
        by_case.filter(feedback__in=comments.values("pk")).values("pk"),
        notes.order_by().values("case_id"),
    ]
    case_id = parse_case_number(text)
    if case_id is not None:
        matching.append(by_case.filter(pk=case_id).values("pk"))
    return cases.filter(pk__in=matching[0].union(*matching[1:]))


def word_matches(text: str) -> tuple[QuerySet[Customer], QuerySet, QuerySet[CaseEvent]]:
    """The customers whose name, the feedback whose comment and the case
    events whose note hold every word of `text` (already whitespace-folded):
    full text on PostgreSQL, through the GIN indexes of migration cases 0014
    (the same expressions), substrings on SQLite."""
    from feedback.models import FeedbackResponse

    named = Customer.objects.exclude(name="")
    comments = FeedbackResponse.objects.exclude(comment="")
    notes = CaseEvent.objects.exclude(note="")
    if connection.vendor == "postgresql":
        words = SearchQuery(text, config=SEARCH_CONFIG, search_type="plain")
        named = named.annotate(words=SearchVector("name", config=SEARCH_CONFIG)).filter(words=words)
        comments = comments.annotate(words=SearchVector("comment", config=SEARCH_CONFIG)).filter(words=words)
        notes = notes.annotate(words=SearchVector("note", config=SEARCH_CONFIG)).filter(words=words)
        return named, comments, notes
    terms = text.split(" ")
    named = named.filter(*[Q(name__icontains=t) for t in terms])
    comments = comments.filter(*[Q(comment__icontains=t) for t in terms])
    notes = notes.filter(*[Q(note__icontains=t) for t in terms])
    return named, comments, notes


# "My recent": the cases I touched (an event of mine) within this long.
RECENT = timedelta(days=30)


def queue(user, name: str) -> QuerySet[Case]:
    """The cases of one queue: `mine` (open, mine), `recent` (any state, one
    of my events in the last RECENT), `follow_up` (mine, awaiting the
    follow-up survey), `closed` (mine, no longer open: resolved, awaiting
    follow-up, closed or cancelled), `team` (open, unassigned, of my teams)
    or `all` (everything I may see): complaints only; and `opportunities`
    (the open opportunities I may see, which for frontline staff are their
    teams')."""
    team_ids = list(memberships_of(user).team_ids)
    visible = cases_visible_to(user, team_ids=team_ids)
    if name == "opportunities":
        return visible.filter(kind=CaseKind.OPPORTUNITY, status__in=OPEN_STATUSES)
    visible = visible.filter(kind=CaseKind.COMPLAINT)
    if name == "mine":
        return visible.filter(owner=user, status__in=OPEN_STATUSES)
    if name == "recent":
        touched = CaseEvent.objects.filter(actor=user, at__gte=timezone.now() - RECENT).values("case_id")
        return visible.filter(pk__in=touched)
    if name == "follow_up":
        return visible.filter(owner=user, status=CaseStatus.AWAITING_FOLLOW_UP)
    if name == "closed":
        return visible.filter(owner=user).exclude(status__in=OPEN_STATUSES)
    if name == "team":
        return visible.filter(owner__isnull=True, status__in=OPEN_STATUSES, team__in=team_ids)
    return visible


# Counting stops here: every counted case is a row read (a manager's All
# cases may hold millions), and past a thousand the exact figure helps no one.
COUNT_CAP = 1000


@dataclass
class StatusCounts:
    """Cases by status among at most `cap` + 1 of them. When `capped`, there
    are more than `cap` cases and each figure is a lower bound (shown "n+");
    a status may then be missing although some of its cases exist."""

    counts: dict[str, int]
    capped: bool
    cap: int = COUNT_CAP

    def shown(self, status: str) -> str:
        """The figure for one status as a person should read it: "12", "340+", "1,000+"."""
        n = self.counts.get(status, 0)
        if not self.capped:
            return f"{n:,}"
        return f"{min(n, self.cap):,}+"


def status_counts(cases: QuerySet[Case], *, cap: int | None = None) -> StatusCounts:
    """Count by status, reading at most cap + 1 cases (default COUNT_CAP; one query)."""
    cap = COUNT_CAP if cap is None else cap
    # Tallied here: an aggregate over the sliced queryset costs more to
    # compile than reading a thousand short strings.
    counts = Counter(cases.order_by().values_list("status", flat=True)[: cap + 1])
    return StatusCounts(dict(counts), capped=counts.total() > cap, cap=cap)


# A queue row's snippet of what the customer said: one line, this long at most.
SNIPPET_CHARS = 120


def with_what_they_said(cases: list[Case]) -> list[Case]:
    """Give each case of a page `customer_name` and `said` (the start of the
    comment that opened it, on one line): one query for the whole page,
    whatever its size, and no join added to the page query itself."""
    from django.db.models.functions import Substr

    rows = Case.objects.filter(pk__in=[c.pk for c in cases]).values_list(
        "pk", "customer__name", Substr("feedback__comment", 1, SNIPPET_CHARS + 1)
    )
    found = {pk: (name or "", comment or "") for pk, name, comment in rows}
    for case in cases:
        name, comment = found.get(case.pk, ("", ""))
        said = " ".join(comment.split())
        case.customer_name = name
        case.said = said if len(said) <= SNIPPET_CHARS else said[: SNIPPET_CHARS - 1].rstrip() + "…"
    return cases


@dataclass
class Page:
    items: list = field(default_factory=list)
    next_cursor: str | None = None


# The orders a queue page can be sorted by: name -> (column, descending)
# pairs, the case id last in the same direction. "due" is what the queue
# indexes serve; the others read the matching cases and sort them, which
# the queues' own filters keep small (a manager's All cases sorted by
# creation is the costly one).
SORTS = {
    "due": (("due_at", False),),
    "priority": (("priority_rank", True), ("due_at", False)),
    "created": (("created_at", True),),
    "updated": (("updated_at", True),),
}


def _priority_rank():
    from django.db.models import Case as When_
    from django.db.models import IntegerField, When

    from cases.choices import Priority

    ranks = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
    return When_(
        *[When(priority=p, then=Value(r)) for p, r in ranks.items()], default=Value(1), output_field=IntegerField()
    )


def keyset_page(
    cases: QuerySet[Case], *, after: str | None, size: int, sort: str = "due", searching: bool = False
) -> Page:
    """One page of cases in the order `sort` (one of SORTS; "due" by
    default) after the cursor. By due time each page is an index range
    scan, as fast deep in the list as at its start; every order pages by
    its own key, so no case is skipped or repeated between pages.

    `searching`: `cases` went through `search`, whose word matches the
    planner prices as large scans; the page is read planned_as_lookup."""
    with planned_as_lookup(cases.db) if searching else contextlib.nullcontext():
        return _keyset_page(cases, after=after, size=size, sort=sort)


def _keyset_page(cases: QuerySet[Case], *, after: str | None, size: int, sort: str) -> Page:
    if sort != "due":
        return _sorted_page(cases, after=after, size=size, sort=sort)
    position = decode_cursor(after)
    if position is not None:
        due, pk = position
        # The redundant due_at >= due is what the index range starts from; the
        # OR alone makes PostgreSQL walk every earlier case of the index.
        cases = cases.filter(Q(due_at__gte=due) & (Q(due_at__gt=due) | Q(due_at=due, pk__gt=pk)))
    rows = list(cases.order_by("due_at", "id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, encode_cursor(rows[-1]) if more and rows else None)


def _sorted_page(cases: QuerySet[Case], *, after: str | None, size: int, sort: str) -> Page:
    keys = SORTS[sort]
    descending = keys[0][1]
    if sort == "priority":
        cases = cases.annotate(priority_rank=_priority_rank())
    position = _decode_sorted(after, sort)
    if position is not None:
        *values, pk = position
        after_q = Q(pk__lt=pk) if descending else Q(pk__gt=pk)
        # Lexicographic "after" over (keys..., id), from the last key back.
        for (column, desc), value in reversed(list(zip(keys, values, strict=True))):
            beyond = Q(**{f"{column}__lt" if desc else f"{column}__gt": value})
            after_q = beyond | (Q(**{column: value}) & after_q)
        cases = cases.filter(after_q)
    order = [f"-{column}" if desc else column for column, desc in keys] + ["-id" if descending else "id"]
    rows = list(cases.order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if not (more and rows):
        return Page(rows, None)
    last = rows[-1]
    values = [getattr(last, column) for column, _ in keys]
    raw = "|".join([sort, *(v.isoformat() if isinstance(v, datetime) else str(v) for v in values), str(last.pk)])
    return Page(rows, base64.urlsafe_b64encode(raw.encode()).decode().rstrip("="))


def _decode_sorted(cursor: str | None, sort: str) -> list | None:
    """The position in a cursor of `sort`; None for no cursor, or one of
    another order or that does not parse (the first page, then)."""
    if not cursor:
        return None
    try:
        parts = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        if parts[0] != sort or len(parts) != len(SORTS[sort]) + 2:
            return None
        values = []
        for (column, _), text in zip(SORTS[sort], parts[1:-1], strict=True):
            if column == "priority_rank":
                value = parse_id(text) if text != "0" else 0
            else:
                value = datetime.fromisoformat(text)
                value = value.astimezone(UTC) if value.tzinfo is not None else None
            if value is None:
                return None
            values.append(value)
        pk = parse_id(parts[-1])
        return None if pk is None else [*values, pk]
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        return None


def cursor_fits(cursor: str, sort: str) -> bool:
    """Whether `cursor` is a position keyset_page reads under `sort` (one of
    SORTS): what a caller that must refuse a bad cursor, rather than start
    again at the first page as the queue pages do, checks it with."""
    position = decode_cursor(cursor) if sort == "due" else _decode_sorted(cursor, sort)
    return position is not None


def encode_cursor(case: Case) -> str:
    raw = f"{case.due_at.isoformat()}|{case.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    """The position in a cursor; None for no cursor or one that does not parse."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, pk = raw.split("|")
        # A cursor is input like any other: a time in UTC (PostgreSQL refuses
        # offsets beyond ±15:59) and an id a table can hold.
        due, pk = datetime.fromisoformat(due), parse_id(pk)
        if due.tzinfo is None or pk is None:
            return None
        return due.astimezone(UTC), pk
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        return None
