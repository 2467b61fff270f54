"""Finding a case: `?q=` on the API and the queue pages, and /cases/search/.
Each searchable field, the forms of a case number, the caller's scope, an
erased customer, and text that cannot be searched for. The same tests run on
SQLite (substring fallback) and PostgreSQL (full text)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cases import services
from cases.models import Case
from cases.selectors import SEARCH_MAX_CHARS, search_problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/cases/"


@pytest.fixture
def found(api, agent):
    """found(q) -> the ids of the cases the agent's API search returns."""

    def search(q: str, user=None) -> list[int]:
        response = api(user or agent).get(URL, {"q": q})
        assert response.status_code == 200, response.content
        return sorted(c["id"] for c in response.json()["results"])

    return search


@pytest.fixture
def two_cases(make_case):
    wanted = make_case(
        comment="The router keeps rebooting every evening",
        customer={
            "email": "Ada.Lovelace@Example.com",
            "phone": "+44 20 7946 0000",
            "external_id": "ACME-77",
            "name": "Ada Lovelace",
        },
    )
    other = make_case(comment="Billing was wrong twice", customer={"email": "bob@example.com", "name": "Bob Stone"})
    return wanted, other


@pytest.mark.parametrize(
    "q",
    [
        "ada.lovelace@example.com",  # email, any case
        "ADA.LOVELACE@EXAMPLE.COM",
        "+44 20 7946 0000",  # phone, as typed
        "+442079460000",
        "ACME-77",  # external id
        "Lovelace",  # a word of the name
        "ada lovelace",
        "router",  # a word of the comment
        "rebooting evening",  # words of the comment, in any order
    ],
)
def test_each_field_finds_the_case(found, two_cases, q):
    wanted, _ = two_cases
    assert found(q) == [wanted.pk]


def test_case_number_in_each_form(found, two_cases):
    wanted, other = two_cases
    for q in (wanted.number, wanted.number.lower(), str(wanted.pk), f" {wanted.pk:06d} "):
        assert found(q) == [wanted.pk], q
    assert found("CX-999999") == []


def test_words_of_a_note_find_the_case(found, two_cases, agent):
    wanted, other = two_cases
    assert found("voucher") == []
    services.case_transition(case_id=other.pk, actor=agent, action="note", note="Offered a voucher by phone")
    assert found("voucher") == [other.pk]


def test_no_match_and_empty_search(found, two_cases):
    assert found("zebra") == []
    assert found("   ") == sorted(c.pk for c in two_cases)  # an empty search filters nothing


def test_another_teams_case_never_appears(found, two_cases, other_team, other_agent, cx_admin):
    wanted, other = two_cases
    Case.objects.filter(pk=other.pk).update(team=other_team)
    for q in ("bob@example.com", "Billing", other.number, "Stone"):
        assert found(q) == [], q  # the agent: only their team's cases
        assert found(q, other_agent) == [other.pk], q
        assert found(q, cx_admin) == [other.pk], q
    assert found("router", other_agent) == []


def test_an_erased_customer_is_not_found_by_their_data(found, two_cases):
    from feedback.privacy import customer_erase

    wanted, _ = two_cases
    customer_erase(customer_id=wanted.customer_id, actor_label="test")
    for q in ("ada.lovelace@example.com", "+442079460000", "ACME-77", "Lovelace", "router"):
        assert found(q) == [], q
    assert found(wanted.number) == [wanted.pk]  # the case itself stays findable by number


def test_search_finds_cases_in_any_state(found, two_cases):
    wanted, _ = two_cases
    Case.objects.filter(pk=wanted.pk).update(status="closed")
    assert found("router") == [wanted.pk]


@pytest.mark.parametrize(("q", "reason"), [("a%00b", "null"), ("x" * 10_000, f"at most {SEARCH_MAX_CHARS}")])
def test_bad_search_text_is_400_on_the_api_and_a_form_error_on_pages(api, client, agent, two_cases, q, reason):
    response = api(agent).get(f"{URL}?q={q}")
    assert response.status_code == 400
    assert reason in str(response.json()["q"]).lower()
    client.force_login(agent)
    page = client.get(f"{reverse('cases:search')}?q={q}")
    assert page.status_code == 400
    assert reason in page.content.decode().lower()
    queue = client.get(f"{reverse('cases:queue', args=['mine'])}?q={q}")
    assert queue.status_code == 200
    assert reason in queue.content.decode().lower()
    assert "No cases here" in queue.content.decode()


def test_text_that_is_not_unicode_is_refused_never_an_error(api, agent, two_cases):
    assert "surrogate" in search_problem("a\ud800b")
    # Bytes that are no UTF-8 (an encoded surrogate among them) reach no query as such.
    for raw in ("a%ED%A0%80b", "%FF%FE"):
        assert api(agent).get(f"{URL}?q={raw}").status_code in (200, 400)


def test_search_page_and_queue_search_box(client, agent, two_cases):
    wanted, other = two_cases
    client.force_login(agent)
    page = client.get(reverse("cases:search"), {"q": "ada.lovelace@example.com"}).content.decode()
    assert wanted.number in page and other.number not in page
    queue = client.get(reverse("cases:queue", args=["mine"]), {"q": "Billing"}).content.decode()
    assert other.number in queue and wanted.number not in queue
    assert 'name="q"' in queue
    assert client.get(reverse("cases:search")).status_code == 200  # no search yet: the form only


@pytest.mark.postgres
def test_postgresql_finds_words_through_the_gin_indexes(make_case, agent):
    from django.db import connection

    from cases.selectors import cases_visible_to, search, word_matches

    case = make_case(customer={"email": "x@example.com", "name": "Grace Hopper"})
    services.case_transition(case_id=case.pk, actor=agent, action="note", note="Promised a refund")
    assert list(search(cases_visible_to(agent), "refund")) == [case]
    assert list(search(cases_visible_to(agent), "grace hopper")) == [case]
    # Each word match on its own table, with plain index scans and sequential
    # scans off: only a bitmap scan of an index whose expression is the
    # match's own can serve it (on a few rows the planner otherwise may walk
    # the primary key and filter, which proves nothing either way).
    for matches, index in zip(
        word_matches("refund"), ("case_search_customer_name", "case_search_comment", "case_search_note")
    ):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            plan = matches.order_by().explain()  # as search reads it: a subquery, no model ordering, no join
        assert f"Bitmap Index Scan on {index}" in plan, plan


@pytest.mark.postgres
def test_postgresql_search_indexes_hold_only_rows_with_text():
    """Search reads word matches among non-blank text only, so the GIN
    indexes skip blank comments, names and notes (cases 0019): a response,
    customer or case event without text adds nothing to them on insert. The
    test above shows the search's queries are still served by them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE 'case_search_%%'")
        definitions = dict(cursor.fetchall())
    columns = {"case_search_comment": "comment", "case_search_customer_name": "name", "case_search_note": "note"}
    assert set(definitions) == set(columns)
    for index, column in columns.items():
        predicate = definitions[index].partition(" WHERE ")[2]  # varchar reads "((name)::text <> ''::text)"
        assert column in predicate and "<> ''::text" in predicate, definitions[index]


@pytest.mark.postgres
@pytest.mark.parametrize("where", ["page", "queue", "api"])
def test_a_search_is_read_without_parallel_workers_or_jit(where, client, api, agent, two_cases):
    """The word matches are priced as large scans (no statistics of words):
    every path that reads a page of search results plans it as the index
    lookups it is (cvx_site.db.planned_as_lookup); a plain queue page does not."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(agent)
    get = {
        "page": lambda q: client.get(reverse("cases:search"), {"q": q}),
        "queue": lambda q: client.get(reverse("cases:queue", args=["mine"]), {"q": q}),
        "api": lambda q: api(agent).get(URL, {"q": q}),
    }[where]
    for text, searching in (("ada.lovelace@example.com", True), ("", False)):
        with CaptureQueriesContext(connection) as ctx:
            assert get(text).status_code == 200
        statements = [q["sql"] for q in ctx.captured_queries]
        planned = [i for i, sql in enumerate(statements) if "set_config('jit', 'off', true)" in sql]
        assert bool(planned) == searching, statements
        if planned:
            following = statements[planned[0] + 1]
            assert following.startswith('SELECT "cases_case"'), statements
