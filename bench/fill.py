"""The generated data set every benchmark measures against, written by
binary COPY (psycopg 3) into a migrated database with the demo journeys.

- responses: spread evenly at random over the 52 weeks before `end` and over
  the demo's touchpoints; an NPS answer 70% of the time, a CSAT 50%, a CES
  40% (at least one score each), and a 10-60 word comment one time in three
  (with its sentiment), so rows are as wide as real ones.
- routing: every response is marked routed (as after the worker ran).
- cases: on the first detractor (NPS 0-6) or negative responses, then on any
  others if there are too few; 40% open (new, acknowledged, contacted,
  escalated, reopened) and the rest resolved, awaiting follow-up, closed or
  cancelled, with due times a few hours after they opened. They belong to
  one team of OWNERS agents; the busiest agent, `bench0`, owns a quarter of
  them (the worst queue: the one the queue benchmark reads), the others
  share the rest.

The same (responses, cases, seed, end) always gives the same rows. `fill`
is idempotent: a database already holding `source="bench"` rows is left
as it is.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterator

OWNERS = 40
BUSIEST_SHARE = 0.25
OPEN_SHARE = 0.4
SOURCE = "bench"
DEFAULT_END = dt.date(2025, 1, 1)
WORDS = (
    "the engineer arrived on time and explained everything clearly but I waited over an hour on hold "
    "and nobody answered the router works perfectly upstairs now the bill is confusing and far too "
    "expensive thank you for the quick refund"
).split()
# (status, share of all cases); the first five are the open ones (cases.choices.OPEN_STATUSES).
STATUSES = [
    ("new", 0.15),
    ("acknowledged", 0.10),
    ("contacted", 0.10),
    ("escalated", 0.03),
    ("reopened", 0.02),
    ("resolved", 0.05),
    ("awaiting_follow_up", 0.03),
    ("closed", 0.50),
    ("cancelled", 0.02),
]

RESPONSE_COLUMNS = [
    ("id", "int8"),
    ("touchpoint_id", "int8"),
    ("kind", "varchar"),
    ("source", "varchar"),
    ("external_id", "varchar"),
    ("occurred_at", "timestamptz"),
    ("received_at", "timestamptz"),
    ("nps", "int2"),
    ("csat", "int2"),
    ("ces", "int2"),
    ("ves", "int2"),
    ("comment", "text"),
    ("metadata", "jsonb"),
    ("nps_category", "varchar"),
    ("csat_band", "varchar"),
    ("sentiment", "float8"),
    ("sentiment_label", "varchar"),
    ("content_hash", "varchar"),
    ("intents", "jsonb"),
    ("explanation", "jsonb"),
    ("lexicon_version", "varchar"),
]
RESPONSE_AT = {name: at for at, (name, _type) in enumerate(RESPONSE_COLUMNS)}  # column -> its place in a row
CASE_COLUMNS = [
    ("id", "int8"),
    ("feedback_id", "int8"),
    ("touchpoint_id", "int8"),
    ("journey_id", "int8"),
    ("team_id", "int8"),
    ("owner_id", "int4"),
    ("status", "varchar"),
    ("priority", "varchar"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("first_contact_due", "timestamptz"),
    ("resolve_due", "timestamptz"),
    ("due_at", "timestamptz"),
    ("contact_count", "int4"),
    ("audit_seq", "int4"),
    ("audit_head", "varchar"),
    ("resolution_summary", "text"),
    ("unreachable", "bool"),
    ("kind", "varchar"),
    ("opportunity_kind", "varchar"),
]


def response_rows(n: int, seed: int, touchpoint_ids: list[int], end: dt.date) -> Iterator[tuple]:
    """N response rows with ids 1..N, the same for the same arguments."""
    from psycopg.types.json import Jsonb

    from feedback.scores import csat_band, nps_category

    rng = random.Random(seed)
    ves_rng = random.Random(seed + 1)  # its own sequence: the other columns are what they were before VES
    stop = dt.datetime.combine(end, dt.time.min, dt.UTC)
    span = 52 * 7 * 86400
    comments = [" ".join(rng.choices(WORDS, k=rng.randint(10, 60))).capitalize() + "." for _ in range(200)]
    metadata, digest, nothing = Jsonb({}), "0" * 64, Jsonb([])
    for i in range(1, n + 1):
        nps = rng.randint(0, 10) if rng.random() < 0.7 else None
        csat = rng.randint(1, 5) if rng.random() < 0.5 else None
        ces = rng.randint(1, 7) if rng.random() < 0.4 or (nps is None and csat is None) else None
        ves = ves_rng.randint(1, 5) if ves_rng.random() < 0.3 else None
        comment, sentiment, label = "", None, None
        if rng.random() < 1 / 3:
            comment, sentiment = rng.choice(comments), rng.uniform(-1, 1)
            label = "negative" if sentiment <= -0.05 else "positive" if sentiment >= 0.05 else "neutral"
        occurred = stop - dt.timedelta(seconds=rng.randrange(span))
        yield (
            i,
            rng.choice(touchpoint_ids),
            "direct",
            SOURCE,
            f"b{i}",
            occurred,
            occurred,
            nps,
            csat,
            ces,
            ves,
            comment,
            metadata,
            nps_category(nps),
            csat_band(csat),
            sentiment,
            label,
            digest,
            nothing,
            nothing,
            "",
        )


def _copy(table: str, columns: list[tuple[str, str]], rows) -> None:
    from django.db import connection

    names = ", ".join(column for column, _type in columns)
    with connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([pg_type for _column, pg_type in columns])
            for row in rows:
                copy.write_row(row)


def _case_rows(
    picked: list[tuple[int, int, dt.datetime]],
    seed: int,
    journey_of: dict[int, int],
    team_id: int,
    owner_ids: list[int],
) -> Iterator[tuple]:
    rng = random.Random(seed + 1)
    statuses, weights = zip(*STATUSES)
    for case_id, (response_id, touchpoint_id, occurred) in enumerate(picked, start=1):
        owner = owner_ids[0] if rng.random() < BUSIEST_SHARE else rng.choice(owner_ids[1:])
        created = occurred + dt.timedelta(minutes=rng.randint(1, 30))
        first_due = created + dt.timedelta(hours=4, microseconds=rng.randint(0, 10**6))
        resolve_due = first_due + dt.timedelta(hours=44)
        status = rng.choices(statuses, weights)[0]
        yield (
            case_id,
            response_id,
            touchpoint_id,
            journey_of[touchpoint_id],
            team_id,
            owner,
            status,
            "normal",
            created,
            created,
            first_due,
            resolve_due,
            first_due if status in ("new", "acknowledged") else resolve_due,
            0,
            0,
            "",
            "",
            False,
            "complaint",  # every bench case is a complaint (opportunities have their own queue)
            "",
        )


ROUTED_COLUMNS = [("response_id", "int8"), ("outcome", "varchar"), ("case_id", "int8"), ("routed_at", "timestamptz")]


def _routed_rows(responses: int, picked: list[tuple[int, int, dt.datetime]]) -> Iterator[tuple]:
    """Every response was routed, as in a live system: the picked ones opened
    their case, the others matched no rule."""
    case_of = {response_id: case_id for case_id, (response_id, _tp, _at) in enumerate(picked, start=1)}
    at = dt.datetime.now(dt.UTC)
    for response_id in range(1, responses + 1):
        case_id = case_of.get(response_id)
        yield (response_id, "opened" if case_id else "no_match", case_id, at)


def fill(responses: int, cases: int, *, seed: int = 20240601, end: dt.date = DEFAULT_END) -> dict:
    """COPY the data set in (unless it is there); returns what was written
    and the seconds it took, ANALYZE included."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from feedback.models import FeedbackResponse
    from journeys.models import Team, Touchpoint

    if FeedbackResponse.objects.filter(source=SOURCE).exists():
        return {"responses": FeedbackResponse.objects.filter(source=SOURCE).count(), "seconds": 0.0, "reused": True}
    started = time.perf_counter()
    touchpoints = dict(Touchpoint.objects.order_by("pk").values_list("pk", "stage__journey_id"))
    User = get_user_model()
    with transaction.atomic():
        team = Team.objects.create(name="Bench team", slug="bench")
        owners = [User.objects.create_user(f"bench{i}") for i in range(OWNERS)]
        team.members.add(*owners)
        picked, others = [], []
        rows = response_rows(responses, seed, list(touchpoints), end)

        def watched():
            """The rows, noting on the way the ones cases will open on."""
            for row in rows:
                nps, sentiment = row[RESPONSE_AT["nps"]], row[RESPONSE_AT["sentiment"]]
                negative = (nps is not None and nps <= 6) or (sentiment is not None and sentiment <= -0.05)
                bucket = picked if negative else others
                if len(bucket) < cases:
                    bucket.append((row[0], row[1], row[5]))
                yield row

        _copy("feedback_feedbackresponse", RESPONSE_COLUMNS, watched())
        picked = (picked + others)[:cases]
        _copy("cases_case", CASE_COLUMNS, _case_rows(picked, seed, touchpoints, team.pk, [o.pk for o in owners]))
        _copy("cases_routedresponse", ROUTED_COLUMNS, _routed_rows(responses, picked))
        with connection.cursor() as cursor:
            for table in ("feedback_feedbackresponse", "cases_case"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "responses": responses,
        "cases": len(picked),
        "owners": OWNERS,
        "seconds": time.perf_counter() - started,
        "reused": False,
    }
