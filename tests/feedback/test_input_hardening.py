"""No input gives a 500 or stores half: every feedback entry path refuses a
value the databases or a later reader cannot handle with a 400 naming the
field, and integer query parameters are bounded (cvx_site.inputs)."""

from __future__ import annotations

import base64
import json
from io import StringIO

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.models import Case, RoutingRule
from cvx_site.inputs import JSON_MAX_DEPTH, MAX_JSON_INTEGER
from feedback.models import FeedbackResponse
from feedback.services import CREATED, ERROR, feedback_ingest, feedback_ingest_many

pytestmark = pytest.mark.django_db

URL = "/api/v1/feedback/"
BIG = "9" * 25  # beyond any 64-bit id


def item(n: int = 1, **overrides) -> dict:
    return {
        "touchpoint": "fault-line",
        "source": "survey",
        "external_id": f"h{n}",
        "nps": 3,
        "customer": {"email": f"h{n}@example.com"},
        **overrides,
    }


def nested(depth: int, leaf=1):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


# --- the property: arbitrary JSON in every field --------------------------------------

FIELDS = [
    "touchpoint",
    "customer",
    "kind",
    "source",
    "external_id",
    "occurred_at",
    "nps",
    "csat",
    "ces",
    "comment",
    "metadata",
    "not_a_field",
]
# Text with the characters that broke things: NUL, unpaired surrogates (a JSON
# escape such as "\ud800" decodes to one), a valid pair, noncharacters.
_TEXT = st.lists(
    st.one_of(
        st.characters(exclude_categories=()),
        st.sampled_from(["\x00", "\ud800", "\udfff", "\ud83d\ude00", "\ufffe", "é"]),
    ),
    max_size=8,
).map("".join)
_NUMBER = st.one_of(
    st.integers().map(str),
    st.integers(min_value=MAX_JSON_INTEGER - 1, max_value=10**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1e400", "-1e400", "1e-400", "0.5e308", "-0", "1" * 30]),
)
_SCALAR = st.one_of(st.sampled_from(["null", "true", "false"]), _NUMBER, _TEXT.map(json.dumps))
_JSON = st.recursive(
    _SCALAR,
    lambda children: st.one_of(
        st.lists(children, max_size=3).map(lambda values: "[" + ",".join(values) + "]"),
        st.lists(st.tuples(_TEXT, children), max_size=3).map(
            lambda pairs: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in pairs) + "}"
        ),
    ),
    max_leaves=10,
)
# Deeper than any limit of ours, and (at 3,000) than Python's JSON decoder.
_DEEP = st.builds(
    lambda n, opening: opening * n + "1" + {"[": "]", '{"a":': "}"}[opening] * n,
    st.sampled_from([JSON_MAX_DEPTH, JSON_MAX_DEPTH + 1, 400, 3000]),
    st.sampled_from(["[", '{"a":']),
)
_ANY = st.one_of(_JSON, _DEEP, _JSON.map(lambda value: '{"m":' + value + "}"))


@st.composite
def item_text(draw) -> str:
    """A feedback object as JSON text: valid to start with, then some fields
    (and perhaps an unknown one) replaced by arbitrary JSON."""
    fields = {
        "touchpoint": '"fault-line"',
        "source": '"fuzz"',
        "external_id": json.dumps(draw(_TEXT) or "k"),
        "nps": "3",
        "customer": '{"email": "fuzz@example.com"}',
    }
    for name in draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=4)):
        fields[name] = draw(_ANY)
    return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in fields.items()) + "}"


PROPERTY = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def fuzz(api, integration, agent, touchpoint, client, django_capture_on_commit_callbacks):
    """post(path, body) -> response, with every new response routed (a rule
    that matches everything opens a case), then every list read back."""
    RoutingRule.objects.create(name="Everything", position=1)
    poster, reader = api(token=integration), api(agent)
    client.force_login(agent)

    def post(path: str, body: str):
        before = FeedbackResponse.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            response = poster.post(path, body, content_type="application/json")
        assert response.status_code < 500, response.content[:300]
        stored = FeedbackResponse.objects.count() - before
        if response.status_code == 400:
            assert stored == 0, "a refused request stored something"
        for path_read in ("/api/v1/feedback/", "/api/v1/cases/"):
            assert poster.get(path_read).status_code == 200
            assert reader.get(path_read).status_code == 200
        assert client.get("/cases/queue/mine/").status_code == 200
        return response, stored

    return post


@PROPERTY
@given(body=st.one_of(item_text(), _ANY))
def test_any_json_posted_as_one_response_is_stored_whole_or_refused_with_a_400(fuzz, body):
    response, stored = fuzz(URL, body)
    assert response.status_code in (200, 201, 400, 409), response.content[:300]
    assert stored == (1 if response.status_code == 201 else 0)
    if response.status_code == 201:
        created = FeedbackResponse.objects.get(pk=response.json()["id"])
        assert Case.objects.filter(feedback=created).exists() or created.customer_id  # routed or attached


@PROPERTY
@given(items=st.lists(item_text(), min_size=1, max_size=4))
def test_any_json_in_a_bulk_request_answers_per_item_and_keeps_the_valid_ones(fuzz, items):
    response, stored = fuzz(URL + "bulk/", "[" + ",".join(items) + "]")
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 200:
        results = response.json()["results"]
        assert [r["index"] for r in results] == list(range(len(items)))
        assert stored == sum(r["status"] == "created" for r in results)


# --- examples: one validator on every path ----------------------------------------------


@pytest.mark.parametrize(
    ("metadata", "says"),
    [
        ({"a": "\ud800"}, "at a: contains an unpaired surrogate (U+D800)"),
        ({"\udfff": 1}, "an object key contains an unpaired surrogate (U+DFFF)"),
        ({"a": ["ok", "nul \x00"]}, "at a[1]: contains a NUL character"),
        ({"a\x00": 1}, "an object key contains a NUL character"),
        ({"a b": [{"c": "\x00"}]}, 'at ["a b"][0].c: contains a NUL character'),
        ({"n": float("inf")}, "at n: a number too large to represent"),
        ({"n": float("nan")}, "at n: a number too large to represent"),
        ({"n": MAX_JSON_INTEGER + 1}, "at n: a whole number beyond"),
        ({"n": -(10**5000)}, "at n: a whole number beyond"),
        ({"when": object()}, "at when: not a JSON value"),
        (nested(JSON_MAX_DEPTH + 1), f"nested deeper than {JSON_MAX_DEPTH} levels"),
        ({"text": "x" * 10_001}, "characters of JSON; at most 10,000"),
    ],
)
def test_metadata_that_cannot_be_stored_and_read_back_is_refused_naming_where(touchpoint, metadata, says):
    outcome = feedback_ingest(item=item(metadata=metadata))
    assert outcome.status == ERROR
    [message] = outcome.errors["metadata"]
    assert says.lower() in message.lower()
    assert "\ud800" not in message and "\udfff" not in message and "\x00" not in message
    assert not FeedbackResponse.objects.exists()


def test_metadata_at_the_limits_is_kept_as_sent(touchpoint):
    metadata = {
        "deep": nested(JSON_MAX_DEPTH - 1),
        "big": MAX_JSON_INTEGER,
        "small": -MAX_JSON_INTEGER,
        "emoji": "\U0001f600 ok",
        "float": 2.5,
        "tiny": 1.5e-300,
    }
    outcome = feedback_ingest(item=item(metadata=metadata))
    assert outcome.status == CREATED, outcome.errors
    assert FeedbackResponse.objects.get().metadata == metadata


@pytest.mark.parametrize(
    "field", ["touchpoint", "source", "external_id", "kind", "occurred_at", "comment", "nps", "customer"]
)
@pytest.mark.parametrize("bad", ["\ud800", "a\x00b", 1e400, nested(JSON_MAX_DEPTH + 1)])
def test_every_field_refuses_a_value_that_cannot_be_stored_before_reading_it(touchpoint, field, bad):
    value = {"name": bad, "email": "a@example.com"} if field == "customer" else bad
    outcomes = feedback_ingest_many(items=[item(1, **{field: value}), item(2)])
    assert [o.status for o in outcomes] == [ERROR, CREATED]
    assert list(outcomes[0].errors) == [field]
    assert list(FeedbackResponse.objects.values_list("external_id", flat=True)) == ["h2"]


def test_a_bad_item_in_a_bulk_request_is_an_error_and_the_others_are_stored(api, integration, touchpoint):
    body = json.dumps([item(1), item(2, metadata={"a": "\ud800"}), item(3, comment="nul \x00")])
    body = body[:-1] + ', {"touchpoint": "fault-line", "source": "survey", "external_id": "h4", "nps": 1e400}]'
    response = api(token=integration).post(URL + "bulk/", body, content_type="application/json")
    assert response.status_code == 200
    assert [r["status"] for r in response.json()["results"]] == ["created", "error", "error", "error"]
    assert set(response.json()["results"][1]["errors"]) == {"metadata"}
    assert set(FeedbackResponse.objects.values_list("external_id", flat=True)) == {"h1"}
    assert api(token=integration).get(URL).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        '{"touchpoint": "fault-line", "source": "s", "external_id": "d", "nps": 3, "metadata": {"a": %s}}'
        % ("[" * 100_000 + "]" * 100_000),
        "[" * 100_000 + "]" * 100_000,
    ],
)
@pytest.mark.parametrize("path", [URL, URL + "bulk/"])
def test_json_nested_beyond_the_decoder_is_a_400_not_a_500(api, integration, touchpoint, body, path):
    response = api(token=integration).post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert not FeedbackResponse.objects.exists()


def test_a_body_that_is_not_utf8_is_a_400(api, integration, touchpoint):
    response = api(token=integration).post(URL, b'{"comment": "\xff\xfe"}', content_type="application/json")
    assert response.status_code == 400


def test_the_csv_import_reports_unstorable_rows_by_line_and_keeps_the_rest(touchpoint, tmp_path):
    deep = "[" * 5000 + "]" * 5000
    lines = [
        "touchpoint,source,external_id,nps,metadata",
        "fault-line,survey,c1,3,",
        'fault-line,survey,c2,3,"{""a"": ""\\ud800""}"',
        'fault-line,survey,c3,3,"{""a"": 1e400}"',
        f'fault-line,survey,c4,3,"{{""a"": {deep}}}"',
        'fault-line,survey,c5,3,"{""a\\u0000"": 1}"',
        "fault-line,survey,c6,4,",
    ]
    path = tmp_path / "feedback.csv"
    path.write_text("\n".join(lines) + "\n")
    out, err = StringIO(), StringIO()
    call_command("import_feedback", str(path), "--no-progress", stdout=out, stderr=err)
    assert out.getvalue().strip().splitlines()[-1] == "created 2, duplicate 0, rejected 4"
    reports = err.getvalue().strip().splitlines()
    assert [r.split(":")[0] for r in reports] == ["line 3", "line 4", "line 5", "line 6"]
    assert "unpaired surrogate" in reports[0] and "too large" in reports[1]
    assert "not a JSON object" in reports[2] and "NUL" in reports[3]
    assert set(FeedbackResponse.objects.values_list("external_id", flat=True)) == {"c1", "c6"}


# --- integer query parameters ------------------------------------------------------------


@pytest.mark.parametrize("query", [f"owner={BIG}", "owner=²", "owner=0", f"owner=-{BIG}"])
def test_a_case_owner_filter_no_table_can_hold_is_a_400(api, agent, query):
    response = api(agent).get(f"/api/v1/cases/?{query}")
    assert response.status_code == 400
    assert "owner" in response.json()


def test_a_case_owner_filter_at_the_largest_id_finds_nothing(api, agent):
    response = api(agent).get(f"/api/v1/cases/?owner={2**63 - 1}")
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.parametrize("value", [BIG, f"-{BIG}", "²"])
def test_a_feedback_customer_filter_beyond_any_id_is_a_400(api, integration, value):
    response = api(token=integration).get(f"{URL}?customer={value}")
    assert response.status_code == 400 and "customer" in response.json()


@pytest.mark.parametrize("top", [BIG, "²", "0", "101"])
def test_the_themes_top_parameter_is_bounded(api, integration, top):
    response = api(token=integration).get(f"{URL}themes/?top={top}")
    assert response.status_code == 400 and "top" in response.json()


@pytest.fixture
def a_case(touchpoint):
    from cases.services import response_route

    RoutingRule.objects.create(name="Everything", position=1)
    response = feedback_ingest(item=item(nps=1)).response
    response_route(response_id=response.pk)
    return Case.objects.get(feedback=response)


def test_a_queue_page_with_an_impossible_owner_is_empty_not_an_error(client, a_case, lead):
    client.force_login(lead)
    assert [c.pk for c in client.get("/cases/queue/all/").context["page"].items] == [a_case.pk]
    response = client.get(f"/cases/queue/all/?owner={BIG}")
    assert response.status_code == 200 and response.context["page"].items == []


@pytest.mark.parametrize("case", [f"CX-{BIG}", "CX-²", "CX-0"])
def test_the_audit_page_refuses_an_impossible_case_number_on_the_form(client, cx_admin, case):
    client.force_login(cx_admin)
    response = client.get("/cases/audit/", {"case": case})
    assert response.status_code == 200
    assert response.context["form"].errors["case"] == ["Enter a case number like CX-000042."]


def test_a_bulk_reassign_naming_an_impossible_case_is_refused_politely(client, cx_admin, agent):
    client.force_login(cx_admin)
    response = client.post("/cases/bulk-reassign/", {"case": [BIG, "²"], "owner": agent.pk}, follow=True)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "raw",
    [
        f"2020-01-01T00:00:00+00:00|{BIG}",
        "0001-01-01T00:00:00+23:59|1",
        "9999-12-31T23:59:59-23:59|1",
        "2020-01-01T00:00:00-17:02|1",
        "2020-01-01T00:00:00|1",
    ],
)
def test_a_queue_cursor_we_did_not_write_is_ignored_not_a_500(client, a_case, agent, raw):
    client.force_login(agent)
    response = client.get("/cases/queue/mine/", {"after": _cursor(raw)})
    assert response.status_code == 200


def test_a_form_body_with_too_many_fields_is_a_json_400(api, integration, touchpoint, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    body = "&".join(f"field{n}=x" for n in range(50))
    response = api(token=integration).post(
        "/api/v1/feedback/bulk/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json") and "detail" in response.json()
    assert not FeedbackResponse.objects.exists()
