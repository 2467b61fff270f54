"""The REST API against its own OpenAPI schema, fuzzed by schemathesis.

The schema is the one drf-spectacular serves at /api/v1/schema/, read through
the WSGI application in-process. Every operation in it is called with 100
fuzzed examples (Hypothesis stops earlier only if it runs out of distinct
inputs) after schemathesis' coverage cases (boundary values, missing and
wrongly typed fields), positive and negative data alike. A response must not
be a server error, and its status code, content type and body must be the
ones the schema documents.

The caller is the demo's superuser (CX admin and every permission) with an
API token, so every operation gets past authentication and permissions and
into the code behind them. The database holds the demo organisation, some
feedback history routed into cases and some of those cases worked; generated
ids and slugs in paths and bodies are often swapped for real ones (see
`_real`), so details, transitions, updates and deletes reach real objects and
not only 404s.

Every operation is fuzzed, writes and deletes included: the test database is
rolled back after each operation, so no side effect is unsafe here.

Per-operation figures go to artifacts/schemathesis.json (git-ignored).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 100
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SUMMARY = Path(__file__).resolve().parents[2] / "artifacts" / "schemathesis.json"

CONFIG = schemathesis.Config.from_dict(
    {
        # Deterministic: the same examples every run, so a failure reproduces;
        # no example database in the working tree.
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        # A request runs real queries (tens of ms): Hypothesis' too-slow checks
        # would stop the run, not find anything.
        "suppress-health-check": ["all"],
    }
)

# Loaded at import (pytest-django has configured Django by then); serving the
# schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application(), config=CONFIG)

# Real ids and slugs in the current test's database, by the path segment that
# names them ("cases" in /api/v1/cases/{id}/) or the body field that holds one.
# Querysets, read afresh for each example: updates rename and deletes remove.
REAL: dict = {}
# operation label -> Counter of "phase/mode" and of status codes.
STATS: dict[str, dict[str, Counter]] = defaultdict(lambda: {"examples": Counter(), "statuses": Counter()})
FAILURES: dict[str, set[str]] = defaultdict(set)

_BODY_FIELDS = {
    "touchpoint": "touchpoints",
    "team": "teams",
    "stage": "stages",
    "owner": "users",
    "default_owner": "usernames",
    "root_cause": "root_causes",
}


def _real(kind: str, value):
    """A real id or slug for roughly half the generated values of the right
    type (chosen by the value itself, so shrinking stays deterministic); the
    value unchanged otherwise, so unknown and malformed ones are sent too."""
    choices = list(REAL[kind]) if kind in REAL else []
    if not choices or isinstance(value, bool) or not isinstance(value, int | str):
        return value
    if isinstance(value, int) and not isinstance(choices[0], int):
        return value
    # Path parameters arrive as text, often not digits even for an integer id.
    key = abs(value) if isinstance(value, int) else int(value) if value.isascii() and value.isdigit() else len(value)
    return choices[(key // 2) % len(choices)] if key % 2 == 0 else value


@schema.hook
def map_path_parameters(context, path_parameters):
    if not path_parameters:
        return path_parameters
    segments = context.operation.path.strip("/").split("/")
    for name, value in path_parameters.items():
        position = segments.index(f"{{{name}}}")
        path_parameters[name] = _real(segments[position - 1], value)
    return path_parameters


@schema.hook
def map_body(context, body):
    items = body if isinstance(body, list) else [body]
    for item in items:
        if isinstance(item, dict):
            for field, kind in _BODY_FIELDS.items():
                if field in item:
                    item[field] = _real(kind, item[field])
    return body


@pytest.fixture
def token(db):
    """The demo organisation with history, and the superuser's API token."""
    from django.contrib.auth import get_user_model
    from django.core import signals
    from django.db import close_old_connections
    from rest_framework.authtoken.models import Token

    from cases.demo import seed_cases
    from cases.models import Case, RootCause
    from feedback.models import Customer, FeedbackResponse
    from journeys.demo import seed_journeys
    from journeys.models import Journey, Stage, Team, Touchpoint

    people = seed_journeys()
    seed_cases(people, history=40)
    users = get_user_model().objects.order_by("pk")
    REAL.clear()
    REAL.update(
        {
            "cases": Case.objects.order_by("pk").values_list("pk", flat=True),
            "customers": Customer.objects.order_by("pk").values_list("pk", flat=True),
            "feedback": FeedbackResponse.objects.order_by("pk").values_list("pk", flat=True),
            "journeys": Journey.objects.order_by("pk").values_list("slug", flat=True),
            "touchpoints": Touchpoint.objects.order_by("pk").values_list("slug", flat=True),
            "teams": Team.objects.order_by("pk").values_list("slug", flat=True),
            "stages": Stage.objects.order_by("pk").values_list("pk", flat=True),
            "root_causes": RootCause.objects.order_by("pk").values_list("pk", flat=True),
            "users": users.values_list("pk", flat=True),
            "usernames": users.values_list("username", flat=True),
        }
    )
    # schemathesis calls the real WSGI handler, whose request signals would
    # close the test's connection mid-transaction; Django's test client
    # disconnects them the same way.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield Token.objects.create(user=people.users["admin"]).key
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module", autouse=True)
def _summary():
    yield

    def phase(stats, name):
        return sum(n for key, n in stats["examples"].items() if key.startswith(name))

    operations = {
        label: {
            "examples": sum(stats["examples"].values()),
            "fuzzing": phase(stats, "fuzzing"),
            "coverage": phase(stats, "coverage"),
            "by_phase_and_mode": dict(sorted(stats["examples"].items())),
            "statuses": {str(k): v for k, v in sorted(stats["statuses"].items())},
        }
        for label, stats in sorted(STATS.items())
    }
    summary = {
        "schemathesis": schemathesis.__version__,
        "max_examples_per_operation": MAX_EXAMPLES,
        "checks": [check.__name__ for check in CHECKS],
        "operations_tested": len(operations),
        "examples_total": sum(op["examples"] for op in operations.values()),
        "min_examples_per_operation": min((op["examples"] for op in operations.values()), default=0),
        "min_fuzzing_examples_per_operation": min((op["fuzzing"] for op in operations.values()), default=0),
        "failures": {label: sorted(found) for label, found in sorted(FAILURES.items())},
        "operations": operations,
    }
    SUMMARY.parent.mkdir(exist_ok=True)
    SUMMARY.write_text(json.dumps(summary, indent=2) + "\n")
    print(
        f"\nschemathesis: {summary['operations_tested']} operations, {summary['examples_total']} examples, "
        f"at least {summary['min_examples_per_operation']} per operation "
        f"({summary['min_fuzzing_examples_per_operation']} fuzzed), {len(FAILURES)} failing; see {SUMMARY}"
    )


@schema.parametrize()
def test_api_matches_its_schema(case, token):
    stats = STATS[case.operation.label]
    meta = case.meta
    stats["examples"][f"{meta.phase.name.value}/{meta.generation.mode.value}" if meta else "explicit"] += 1
    try:
        response = case.call(headers={"Authorization": f"Token {token}"})
        stats["statuses"][response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers={"Authorization": f"Token {token}"})
    except (Exception, FailureGroup) as exc:  # a FailureGroup is a BaseExceptionGroup
        found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
        FAILURES[case.operation.label].update(
            f"{getattr(f, 'code', type(f).__name__)} {f}".splitlines()[0] for f in found
        )
        raise


# --- what the fuzzing found, pinned -------------------------------------------------
# Each was a 500 or a reply the schema did not describe. Several were 500s on
# PostgreSQL only (NUL characters, time-zone offsets past ±15:59), so these
# run on both databases like the rest of the suite.

ITEM = {
    "touchpoint": "fault-line",
    "source": "fuzz",
    "external_id": "f1",
    "nps": 3,
    "customer": {"email": "fuzz@example.com"},
}


@pytest.mark.parametrize(
    ("method", "url", "body", "status"),
    [
        # The ingestion service gathered touchpoint slugs in a set before validating.
        ("post", "/api/v1/feedback/", {**ITEM, "touchpoint": {}}, 400),
        ("post", "/api/v1/feedback/", {**ITEM, "touchpoint": ["fault-line"]}, 400),
        ("post", "/api/v1/feedback/", {**ITEM, "touchpoint": "fault\x00line"}, 400),
        # jsonb refuses \u0000.
        ("post", "/api/v1/feedback/", {**ITEM, "metadata": {"note": "a\x00b"}}, 400),
        # PostgreSQL refuses offsets beyond ±15:59; the filter now hands it UTC.
        ("get", "/api/v1/feedback/?occurred_before=0487-09-26T13:02:23-17:02", None, 200),
        ("get", "/api/v1/feedback/themes/?occurred_after=1155-06-28T21:11:34%2B21:38", None, 200),
        ("get", "/api/v1/feedback/?occurred_after=0001-01-01T00:00:00%2B05:00", None, 400),
        # A NUL in a slug reached the database.
        ("get", "/api/v1/journeys/get%00connected/", None, 404),
        ("get", "/api/v1/touchpoints/fault%00line/", None, 404),
        ("get", "/api/v1/metrics/touchpoints/fault%00line/value-chain/", None, 404),
        (
            "post",
            "/api/v1/touchpoints/",
            {"slug": "nul", "name": "Nul", "stage": 0, "channel": "web", "team": "ca\x00re"},
            400,
        ),
        # A dot in an id or slug missed the router: Django's HTML 404, not the API's JSON.
        ("get", "/api/v1/cases/0.5/", None, 404),
        ("get", "/api/v1/journeys/get.connected/", None, 404),
    ],
)
def test_inputs_the_fuzzing_found_are_refused_in_json(api, cx_admin, touchpoint, method, url, body, status):
    response = getattr(api(cx_admin), method)(url, body, format="json")
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")


def test_bulk_refuses_an_item_whose_touchpoint_is_not_text_and_keeps_the_rest(api, cx_admin, touchpoint):
    items = [{**ITEM, "touchpoint": {"slug": "fault-line"}}, ITEM, {**ITEM, "external_id": "f2", "touchpoint": "a\x00"}]
    response = api(cx_admin).post("/api/v1/feedback/bulk/", items, format="json")
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["error", "created", "error"]
    assert response.json()["results"][0]["errors"] == {"touchpoint": ["Not a valid string."]}


@pytest.mark.parametrize("resource", ["journeys", "touchpoints"])
def test_deleting_what_feedback_refers_to_is_409_not_500(api, cx_admin, touchpoint, resource):
    from feedback.services import feedback_ingest

    assert feedback_ingest(item=ITEM).status == "created"
    slug = touchpoint.stage.journey.slug if resource == "journeys" else touchpoint.slug
    response = api(cx_admin).delete(f"/api/v1/{resource}/{slug}/")
    assert response.status_code == 409
    assert "cannot be deleted" in response.json()["detail"]


def test_nullable_fields_are_null_in_the_schema_and_the_reply(api, cx_admin, touchpoint):
    """Anonymous feedback, an unassigned case without root cause and a journey
    based on none reply null where the schema said string or object."""
    schema_doc = api().get("/api/v1/schema/?format=json").json()["components"]["schemas"]
    for component, field in [
        ("Feedback", "customer"),
        ("Case", "owner"),
        ("Case", "root_cause"),
        ("Journey", "based_on"),
    ]:
        assert schema_doc[component]["properties"][field]["nullable"] is True, (component, field)
    reply = api(cx_admin).post("/api/v1/feedback/", {**ITEM, "customer": None}, format="json")
    assert reply.status_code == 201 and reply.json()["customer"] is None
