"""Benchmark of feedback ingestion, from VADER alone up to the bulk API.

A benchmark, not a test: it never fails on speed. It exits 1 only when the
data is wrong (an item not created, a row count off), because then the
figures mean nothing.

Run from the project root:

    .venv/bin/python bench/bench_ingest.py                 # 20,000 items, throwaway PostgreSQL
    .venv/bin/python bench/bench_ingest.py --items 5000 --profile
    .venv/bin/python bench/bench_ingest.py --database-url postgres://...   # an existing, disposable DB

Without --database-url it starts a private PostgreSQL server
(scripts/throwaway_pg.py; as root the server runs as `postgres`) and deletes
it afterwards. With --database-url it migrates that database and writes
rows into it: give it a fresh, empty database you do not care about (a
second run on the same one finds its external ids taken and reports the
items as not created).

The items are generated once from --seed: NPS/CSAT/CES answers at the demo's
touchpoints, 10-60 word comments whose tone follows the score, customers
drawn from a skewed pool so one customer answers many times and is named by
email, phone or CRM id (in varying spellings). Every phase works on the same
comments; each phase gets its own external ids and its own customer
identities, so each creates the same number of customers.

What each figure means (items/s = items divided by the phase's wall time):

- vader-only: `score_many(comments)` on all N comments, analyzer warmed.
  An upper bound on the throughput of any path that scores sentiment
  inside the request, as the service does. Since the CX layer (commit
  24851a8) `score_many` reads through `feedback.text`: VADER with the
  domain lexicon, phrases and intents, which is what ingestion runs.
- plain-vader: NLTK's VADER alone (`vader_sentiment`) on the same comments,
  the denominator of the runs before the CX layer, shown beside it so a
  ratio can be compared with theirs; the headline ratio stays vader-only's.
- validate-only: `FeedbackInSerializer.run_validation` on all N items, one
  serializer per batch as the service does, nothing stored. What DRF
  validation costs on its own.
- api-bulk: POST /api/v1/feedback/bulk/ with --batch-size items per body via
  Django's test Client with an Integration user's token, in-process (no
  network, no WSGI server): URL routing, token auth, throttles, JSON parse,
  the service, JSON reply. Bodies are encoded before the clock starts.
- service: `feedback_ingest_many(items=batch)` called directly, same batches.
  The two are timed together, one API batch and one service batch in turn
  (API first in even rounds, service first in odd ones), each on its own
  clock: run one after the other, whichever went second came out ~15-20%
  slower (a bigger table, autovacuum, other load).

Both ingest phases include what the service does after storing: the
`responses_ingested` signal, on which `cases` queues one django-q2 routing
task per batch (ORM broker; REDIS_URL is ignored). No worker runs, so
routing itself is not measured.
- copy: binary COPY of the rows the API phase stored (fresh external ids)
  into feedback_feedbackresponse, one COPY and transaction per batch: the
  fastest the database takes these rows.
- write stage: `cvx_site.db.bulk_insert` of the same rows as prebuilt model
  instances, one transaction per batch: what the service uses to store
  responses (ids from the sequence, then one binary COPY).
- bulk_create: `FeedbackResponse.objects.bulk_create` of the same rows,
  batch_size=500, one transaction per batch: what the service used before
  bulk_insert, kept as the reference it was measured against.

Ratios: api/vader and service/vader (how far ingestion is from the sentiment
floor), service/api (what the HTTP layer costs), write stage/copy (what the
service's write costs over a bare COPY of prepared tuples) and
bulk_create/copy (the same for the ORM's INSERTs). Figures are also
written as JSON (--json), with the
date, the machine, the PostgreSQL version and N.

Everything runs in one Python process against a local server that shares
the CPUs. The load average at start is printed and stored because other
work on the machine moves every figure: compare runs made on a quiet one.

--profile runs cProfile on one extra batch through the API and one through
the service (after the timed phases) and prints the top functions by
cumulative time plus a per-stage summary. cProfile inflates Python-heavy
code, so read it for shares, not absolute speed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import os
import platform
import pstats
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import Where, cumulative, run_in_throwaway, short_path  # noqa: E402 - after sys.path

DEFAULT_JSON = ROOT / "bench" / "results" / "ingest.json"
BULK_URL = "/api/v1/feedback/bulk/"
MIN_WORDS, MAX_WORDS = 10, 60
# Identities never repeat across phases: each phase's tag has its own number.
PHASE_TAGS = {"api": 1, "svc": 2, "wapi": 11, "wsvc": 12, "wval": 13, "papi": 21, "psvc": 22}

POSITIVE = [
    "the engineer arrived on time and explained everything clearly",
    "setup took less than ten minutes",
    "the agent was friendly, patient and really helpful",
    "speeds are great even in the evening",
    "I love how easy the app makes it to check my usage",
    "fantastic service from start to finish",
    "the chat assistant solved my problem in one go",
    "the price is fair for what we get",
    "the new router works perfectly upstairs now",
    "thank you for the quick refund",
    "the welcome email had clear and simple instructions",
    "the store staff were excellent and knew their stuff",
    "I would happily recommend you to friends and family",
    "the fault was fixed the same day, brilliant",
]
NEGATIVE = [
    "my connection keeps dropping every evening",
    "I waited over an hour on hold and nobody answered",
    "the engineer never turned up and nobody called to explain",
    "I was charged twice this month which is unacceptable",
    "the website kept crashing at checkout",
    "terrible experience, I am seriously thinking of cancelling",
    "nobody could tell me when the outage would be fixed",
    "the router they sent was faulty",
    "the agent was rude and hung up on me",
    "I had to explain the problem three times to different people",
    "speeds are nowhere near what was promised",
    "really frustrating and a complete waste of my time",
    "the bill is confusing and far too expensive",
    "still no apology after two weeks without internet",
]
NEUTRAL = [
    "I called about moving my service to a new address",
    "the installation was booked for a Tuesday morning",
    "I used the app to run a line test",
    "we have had the package for about two years",
    "my contract renews next month",
    "I asked in the store about the new plans",
    "the technician replaced the cable in the hallway",
    "I checked the status page before calling",
    "the order reference was in the email",
    "we live in a flat on the third floor",
    "my partner usually deals with the account",
    "I mostly use it for work calls and streaming",
]
CONNECTORS = ["", "", "", "Also, ", "But ", "To be honest, ", "Overall, ", "Anyway, "]
# tone -> weights of (positive, neutral, negative) phrases
TONE_MIX = {"positive": (70, 25, 5), "neutral": (30, 40, 30), "negative": (5, 25, 70)}
FIRST_NAMES = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farah",
    "George",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Marco",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tom",
]
LAST_NAMES = [
    "Smith",
    "Okafor",
    "Nguyen",
    "Patel",
    "Garcia",
    "Kowalski",
    "Murphy",
    "Haddad",
    "Jensen",
    "Rossi",
    "Tanaka",
    "Brown",
    "Silva",
    "Ali",
    "Walsh",
    "Novak",
]
# channel -> (source, kind) as integrations of that channel would send them
CHANNEL_SOURCE = {
    "social": ("social", "indirect"),
    "ivr": ("ops", "inferred"),
    "chat": ("chat", "direct"),
    "call_center": ("call-survey", "direct"),
    "mobile_app": ("app-survey", "direct"),
}
IDENTITY_MODES = [("email", 45), ("phone", 20), ("email+phone", 20), ("crm+email", 5), ("crm", 5), ("none", 5)]


@dataclass(frozen=True)
class ItemSpec:
    """Everything about one generated item except what depends on the phase."""

    index: int
    touchpoint: str
    source: str
    kind: str
    occurred_at: str
    scores: dict[str, int]
    comment: str
    metadata: dict[str, str]
    person: int | None
    identity_mode: str
    spelling: int


@dataclass
class Phase:
    name: str
    items: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else float("inf")


@dataclass
class Report:
    items: int
    batch_size: int
    seed: int
    phases: list[Phase] = field(default_factory=list)
    checks: dict[str, bool] = field(default_factory=dict)
    profile: dict[str, Any] = field(default_factory=dict)
    # Other work on the machine skews every figure; recorded to read them by.
    load_average: tuple[float, float, float] = field(default_factory=os.getloadavg)

    def rate(self, name: str) -> float:
        return next(p.per_second for p in self.phases if p.name == name)


# --- command line and environment -------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """The module docstring verbatim, and each flag's default."""


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench_ingest.py",
        description=__doc__,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--items", type=int, default=20_000, help="items (N) per phase")
    parser.add_argument("--batch-size", type=int, default=1000, help="items per API body / service call (max 1000)")
    parser.add_argument("--seed", type=int, default=20240601, help="seed of the generated items")
    parser.add_argument(
        "--customers", type=int, default=0, help="size of the customer pool per phase; 0 means items / 5"
    )
    parser.add_argument("--warmup", type=int, default=200, help="items of the untimed warm-up before each phase")
    parser.add_argument(
        "--database-url", default=None, help="use this (disposable!) PostgreSQL database instead of a throwaway server"
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="write the figures here as JSON")
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile one batch through the API and one through the service"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.batch_size <= 1000:
        parser.error("--batch-size must be between 1 and 1000 (the bulk API's limit)")
    if args.items < 1 or args.warmup < 1 or args.customers < 0:
        parser.error("--items and --warmup must be positive, --customers not negative")
    return args


def prepare_database() -> str:
    """Migrate, seed the demo journeys; return an Integration user's token."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from journeys import roles
    from journeys.demo import seed_journeys

    call_command("migrate", verbosity=0, interactive=False)
    seed_journeys()
    user, _ = get_user_model().objects.get_or_create(username="bench.integration")
    user.groups.add(Group.objects.get(name=roles.INTEGRATION))
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


# --- generated items ---------------------------------------------------------------


def demo_touchpoints() -> list[tuple[str, str]]:
    """(slug, channel) of every demo touchpoint."""
    from journeys.demo import JOURNEYS

    return [
        (tp[0], str(tp[2]))
        for _name, _desc, stages in JOURNEYS.values()
        for touchpoints in stages.values()
        for tp in touchpoints
    ]


def make_scores(rng: random.Random) -> tuple[dict[str, int], str]:
    """One or two of NPS/CSAT/CES, skewed like real answers; and the tone."""
    metric = rng.choices(["nps", "csat", "ces"], weights=[50, 30, 20])[0]
    if metric == "nps":
        value = rng.choices(range(11), weights=[3, 1, 1, 2, 2, 4, 5, 9, 14, 20, 19])[0]
        tone = "negative" if value <= 6 else "neutral" if value <= 8 else "positive"
    elif metric == "csat":
        value = rng.choices(range(1, 6), weights=[8, 7, 12, 30, 43])[0]
        tone = "negative" if value <= 2 else "neutral" if value == 3 else "positive"
    else:
        value = rng.choices(range(1, 8), weights=[5, 5, 8, 12, 20, 25, 25])[0]
        tone = "negative" if value <= 3 else "neutral" if value == 4 else "positive"
    scores = {metric: value}
    if metric == "nps" and rng.random() < 0.2:
        scores["csat"] = max(1, min(5, round(value / 2)))
    return scores, tone


def make_comment(rng: random.Random, tone: str) -> str:
    """10 to 60 words of sentences whose phrases mostly follow `tone`."""
    target = rng.randint(MIN_WORDS, MAX_WORDS)
    sentences: list[str] = []
    words = 0
    while words < target:
        pool = rng.choices([POSITIVE, NEUTRAL, NEGATIVE], weights=TONE_MIX[tone])[0]
        phrase = rng.choice(pool)
        length = len(phrase.split())
        if words + length > MAX_WORDS and words >= MIN_WORDS:
            break
        connector = rng.choice(CONNECTORS) if sentences else ""
        text = connector + (phrase if connector else phrase[0].upper() + phrase[1:])
        sentences.append(text + rng.choice([".", ".", ".", "!"]))
        words += length + len(connector.split())
    return " ".join(sentences)


def make_specs(n: int, seed: int, people: int) -> list[ItemSpec]:
    """N items, the same for a given (n, seed, people) on every machine."""
    rng = random.Random(seed)
    touchpoints = demo_touchpoints()
    # Zipf-like: a few customers answer very often, most once or twice.
    weights = [1 / (rank + 1) ** 0.7 for rank in range(people)]
    anchor = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    modes, mode_weights = zip(*IDENTITY_MODES)
    specs = []
    for index in range(n):
        slug, channel = rng.choice(touchpoints)
        source, kind = CHANNEL_SOURCE.get(channel, ("survey", "direct"))
        scores, tone = make_scores(rng)
        mode = rng.choices(modes, weights=mode_weights)[0]
        occurred = anchor - dt.timedelta(seconds=rng.randrange(90 * 86400))
        specs.append(
            ItemSpec(
                index=index,
                touchpoint=slug,
                source=source,
                kind=kind,
                occurred_at=occurred.isoformat(),
                scores=scores,
                comment=make_comment(rng, tone),
                metadata={
                    "locale": rng.choice(["en-GB", "en-IE", "en-US"]),
                    "channel": channel,
                    "survey": f"{slug}-q{rng.randint(1, 4)}",
                },
                person=None if mode == "none" else rng.choices(range(people), weights=weights)[0],
                identity_mode=mode,
                spelling=rng.randrange(3),
            )
        )
    return specs


def customer_of(spec: ItemSpec, tag: str) -> dict[str, str] | None:
    """The customer object an integration would send, spelled in one of
    several ways that normalise to the same identity."""
    if spec.person is None:
        return None
    person, number = spec.person, PHASE_TAGS[tag]
    first, last = FIRST_NAMES[person % len(FIRST_NAMES)], LAST_NAMES[person // len(FIRST_NAMES) % len(LAST_NAMES)]
    email = f"{first}.{last}.{person}@{tag}.example.com"
    digits = f"7{number:02d}{person:07d}"
    phones = [f"+44{digits}", f"+44 {digits[:4]} {digits[4:]}", f"+44 ({digits[:4]}) {digits[4:7]}-{digits[7:]}"]
    customer = {"name": f"{first} {last}"}
    if "email" in spec.identity_mode:
        customer["email"] = email if spec.spelling else email.upper()
    if "phone" in spec.identity_mode:
        customer["phone"] = phones[spec.spelling]
    if "crm" in spec.identity_mode:
        customer["external_id"] = f"CRM-{tag}-{person:07d}"
    return customer


def render_item(spec: ItemSpec, tag: str) -> dict[str, Any]:
    """The JSON object for `spec` in the phase `tag`."""
    item: dict[str, Any] = {
        "touchpoint": spec.touchpoint,
        "kind": spec.kind,
        "source": spec.source,
        "external_id": f"{tag}-{spec.index:07d}",
        "occurred_at": spec.occurred_at,
        **spec.scores,
        "comment": spec.comment,
        "metadata": spec.metadata,
    }
    customer = customer_of(spec, tag)
    if customer is not None:
        item["customer"] = customer
    return item


def batches(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


# --- timed phases -------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def phase_vader(report: Report, specs: list[ItemSpec]) -> None:
    from feedback.sentiment import get_analyzer, score_many

    comments = [spec.comment for spec in specs]
    get_analyzer()
    score_many(comments[: min(len(comments), 200)])
    seconds, _scores = timed(lambda: score_many(comments))
    report.phases.append(Phase("vader-only", len(comments), seconds))


def phase_plain_vader(report: Report, specs: list[ItemSpec]) -> None:
    from feedback.sentiment import vader_sentiment

    comments = [spec.comment for spec in specs]
    for text in comments[:200]:
        vader_sentiment(text)
    seconds, _scores = timed(lambda: [vader_sentiment(text) for text in comments])
    report.phases.append(Phase("plain-vader", len(comments), seconds))


def phase_validate(report: Report, specs: list[ItemSpec], warmup: int) -> None:
    """Validation as the service does it: one FeedbackInSerializer per batch,
    `run_validation` per item."""
    from rest_framework.exceptions import ValidationError

    from feedback.services import _touchpoints_for
    from feedback.validation import FeedbackInSerializer

    def validate(item_batches: list[Sequence[dict]]) -> int:
        valid = 0
        for batch in item_batches:
            validator = FeedbackInSerializer(context={"touchpoints": _touchpoints_for(batch)})
            for item in batch:
                with contextlib.suppress(ValidationError):
                    validator.run_validation(item)
                    valid += 1
        return valid

    validate([[render_item(spec, "wval") for spec in specs[:warmup]]])
    items = [render_item(spec, "api") for spec in specs]
    seconds, valid = timed(lambda: validate(batches(items, report.batch_size)))
    report.checks["validate-only: every item valid"] = valid == len(items)
    report.phases.append(Phase("validate-only", len(items), seconds))


def api_client(token: str) -> Any:
    from django.test import Client

    return Client(headers={"authorization": f"Token {token}"})


def post_bodies(client: Any, bodies: list[bytes]) -> list[tuple[int, bytes]]:
    replies = []
    for body in bodies:
        response = client.post(BULK_URL, data=body, content_type="application/json")
        replies.append((response.status_code, response.content))
    return replies


def all_created(replies: list[tuple[int, bytes]], expected: int) -> bool:
    created = 0
    for code, content in replies:
        if code != 200:
            print(f"  bulk API answered {code}: {content[:500]!r}", file=sys.stderr)
            return False
        reply = json.loads(content)
        bad = [r for r in reply["results"] if r["status"] != "created"]
        if bad:
            print(f"  {len(bad)} items not created, first: {bad[0]}", file=sys.stderr)
            return False
        created += reply["created"]
    return created == expected


def rows_tagged(tag: str) -> int:
    from feedback.models import FeedbackResponse

    return FeedbackResponse.objects.filter(external_id__startswith=f"{tag}-").count()


def run_interleaved(
    client: Any, bodies: list[bytes], service_batches: list[Sequence[dict]]
) -> tuple[float, list[tuple[int, bytes]], float, int]:
    """One API batch and one service batch in turn, API first in even rounds
    and service first in odd ones, each on its own clock: neither path gains
    from running first on a smaller table or at a quieter moment."""
    from feedback.services import CREATED, feedback_ingest_many

    api_seconds = service_seconds = 0.0
    replies: list[tuple[int, bytes]] = []
    created = 0
    for round_no, (body, batch) in enumerate(zip(bodies, service_batches)):
        for path in ("api", "service") if round_no % 2 == 0 else ("service", "api"):
            start = time.perf_counter()
            if path == "api":
                replies.extend(post_bodies(client, [body]))
                api_seconds += time.perf_counter() - start
            else:
                # Outcomes are dropped batch by batch, as a request would.
                created += sum(o.status == CREATED for o in feedback_ingest_many(items=batch))
                service_seconds += time.perf_counter() - start
    return api_seconds, replies, service_seconds, created


def phase_api_and_service(report: Report, specs: list[ItemSpec], token: str, warmup: int) -> None:
    from feedback.services import CREATED, feedback_ingest_many

    client = api_client(token)
    warm = [json.dumps([render_item(s, "wapi") for s in specs[:warmup]]).encode()]
    report.checks["api warm-up: all created"] = all_created(post_bodies(client, warm), min(warmup, len(specs)))
    warm_outcomes = feedback_ingest_many(items=[render_item(s, "wsvc") for s in specs[:warmup]])
    report.checks["service warm-up: all created"] = all(o.status == CREATED for o in warm_outcomes)
    api_items = [render_item(spec, "api") for spec in specs]
    bodies = [json.dumps(list(batch)).encode() for batch in batches(api_items, report.batch_size)]
    service_batches = batches([render_item(spec, "svc") for spec in specs], report.batch_size)
    api_seconds, replies, service_seconds, created = run_interleaved(client, bodies, service_batches)
    report.checks["api: every item came back created"] = all_created(replies, len(specs))
    report.checks["api: database count equals N"] = rows_tagged("api") == len(specs)
    report.checks["service: every item created"] = created == len(specs)
    report.checks["service: database count equals N"] = rows_tagged("svc") == len(specs)
    report.phases.append(Phase("api-bulk", len(specs), api_seconds))
    report.phases.append(Phase("service", len(specs), service_seconds))


# --- the write stage ----------------------------------------------------------------

# Django field type -> PostgreSQL type name for psycopg's binary COPY.
PG_TYPES = {
    "BigAutoField": "int8",
    "AutoField": "int4",
    "BigIntegerField": "int8",
    "IntegerField": "int4",
    "SmallIntegerField": "int2",
    "PositiveSmallIntegerField": "int2",
    "PositiveIntegerField": "int4",
    "CharField": "varchar",
    "SlugField": "varchar",
    "TextField": "text",
    "DateTimeField": "timestamptz",
    "FloatField": "float8",
    "JSONField": "jsonb",
    "BooleanField": "bool",
}


def response_columns() -> list[tuple[str, str]]:
    """(column, pg type) of every FeedbackResponse column but the id, from
    the model, so the COPY follows the model when it changes."""
    from feedback.models import FeedbackResponse

    columns = []
    for f in FeedbackResponse._meta.concrete_fields:
        if f.primary_key:
            continue
        internal = (f.target_field if f.is_relation else f).get_internal_type()
        columns.append((f.column, PG_TYPES[internal]))
    return columns


def stored_rows(tag: str, columns: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The rows the service stored for phase `tag`, as column -> value."""
    from feedback.models import FeedbackResponse

    names = [column for column, _type in columns]
    rows = FeedbackResponse.objects.filter(external_id__startswith=f"{tag}-").order_by("external_id")
    return list(rows.values(*names))


def retagged(rows: list[dict[str, Any]], tag: str) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    return [{**row, "external_id": f"{tag}-{i:07d}", "received_at": now} for i, row in enumerate(rows)]


def copy_batches(row_batches: list[list[tuple]], columns: list[tuple[str, str]]) -> None:
    from django.db import connection, transaction

    names = ", ".join(column for column, _type in columns)
    statement = f"COPY feedback_feedbackresponse ({names}) FROM STDIN (FORMAT BINARY)"
    for batch in row_batches:
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.copy(statement) as copy:
                copy.set_types([pg_type for _column, pg_type in columns])
                for row in batch:
                    copy.write_row(row)


def phase_copy(report: Report, base: list[dict[str, Any]], columns: list[tuple[str, str]], warmup: int) -> None:
    names = [column for column, _type in columns]

    def as_tuples(rows):
        return [tuple(row[name] for name in names) for row in rows]

    copy_batches([as_tuples(retagged(base[:warmup], "wcopy"))], columns)
    row_batches = [list(b) for b in batches(as_tuples(retagged(base, "copy")), report.batch_size)]
    seconds, _ = timed(lambda: copy_batches(row_batches, columns))
    report.checks["copy: database count equals N"] = rows_tagged("copy") == len(base)
    report.phases.append(Phase("copy", len(base), seconds))


def write_batches(write: Callable[[list[Any]], Any], instance_batches: list[list[Any]]) -> None:
    from django.db import transaction

    for batch in instance_batches:
        with transaction.atomic():
            write(batch)


def phase_write(
    report: Report, base: list[dict[str, Any]], warmup: int, *, name: str, tag: str, write: Callable[[list[Any]], Any]
) -> None:
    """`write` of the same rows as prebuilt FeedbackResponse instances, one
    transaction per batch."""
    from feedback.models import FeedbackResponse

    def instances(rows):
        return [FeedbackResponse(**row) for row in rows]

    write_batches(write, [instances(retagged(base[:warmup], f"w{tag}"))])
    instance_batches = [list(b) for b in batches(instances(retagged(base, tag)), report.batch_size)]
    seconds, _ = timed(lambda: write_batches(write, instance_batches))
    report.checks[f"{name}: database count equals N"] = rows_tagged(tag) == len(base)
    report.phases.append(Phase(name, len(base), seconds))


# --- profile ------------------------------------------------------------------------

# label -> where its time is spent: the cumulative time of each listed
# function (only of its calls from `caller`, "file suffix" or "file
# suffix:function", when given), summed. Alternatives cover both the older
# (serializer per item, is_valid) and the current (run_validation) service.
SERVICES = "feedback/services.py"
STAGES: list[tuple[str, list[Where]]] = [
    ("Django handler (request in, response out)", [("django/core/handlers/base.py", "get_response", None)]),
    ("  DRF auth/permissions/throttles", [("rest_framework/views.py", "initial", None)]),
    ("  JSON parse of the body", [("rest_framework/parsers.py", "parse", None)]),
    ("  feedback_ingest_many", [(SERVICES, "feedback_ingest_many", None)]),
    ("    touchpoints (1 query)", [(SERVICES, "_touchpoints_for", None)]),
    (
        "    validation (FeedbackInSerializer)",
        [
            ("rest_framework/serializers.py", "is_valid", SERVICES),
            ("rest_framework/serializers.py", "run_validation", SERVICES),
        ],
    ),
    ("      of which building serializer fields (deepcopy)", [("rest_framework/serializers.py", "get_fields", None)]),
    ("    content hash", [(SERVICES, "_content_hash", None)]),
    ("    existing (source, external_id) lookups", [(SERVICES, "_existing_responses", None)]),
    ("    customer resolution", [(SERVICES, "customers_resolve", None)]),
    (
        "    sentiment, intents and topics (read_comments)",
        [("feedback/sentiment.py", "score_many", SERVICES), ("feedback/lexicon.py", "read_comments", SERVICES)],
    ),
    (
        "    build FeedbackResponse instances",
        [("django/db/models/base.py", "__init__", f"{SERVICES}:_create_responses")],
    ),
    ("    write of the responses (bulk_insert)", [("cvx_site/db.py", "bulk_insert", f"{SERVICES}:_create_responses")]),
    ("    commit", [("django/db/backends/base/base.py", "commit", None)]),
    ("  JSON render of the reply", [("rest_framework/renderers.py", "render", None)]),
    ("(all the above) waiting for PostgreSQL", [("psycopg/connection.py", "wait", None)]),
]


def top_functions(stats: pstats.Stats, limit: int = 15, *, by: int = 3) -> list[dict[str, Any]]:
    """The `limit` functions with the most cumulative (by=3) or own (by=2) time."""
    entries = sorted(stats.stats.items(), key=lambda kv: kv[1][by], reverse=True)  # type: ignore[attr-defined]
    return [
        {"function": f"{short_path(fn)}:{line}({name})", "ncalls": nc, "tottime": round(tt, 4), "cumtime": round(ct, 4)}
        for (fn, line, name), (_cc, nc, tt, ct, _callers) in entries[:limit]
    ]


def profiled(fn: Callable[[], Any]) -> tuple[float, pstats.Stats]:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.runcall(fn)
    wall = time.perf_counter() - start
    return wall, pstats.Stats(profiler, stream=io.StringIO())


def profile_paths(report: Report, specs: list[ItemSpec], token: str) -> None:
    """cProfile one batch through the API and one through the service."""
    from feedback.services import feedback_ingest_many

    batch = specs[: report.batch_size]
    client = api_client(token)
    body = json.dumps([render_item(s, "papi") for s in batch]).encode()
    service_items = [render_item(s, "psvc") for s in batch]
    runs = {
        "api": lambda: post_bodies(client, [body]),
        "service": lambda: feedback_ingest_many(items=service_items),
    }
    for path, fn in runs.items():
        wall, stats = profiled(fn)
        report.profile[path] = {
            "items": len(batch),
            "wall_seconds_under_profiler": round(wall, 4),
            "stages": {label.strip(): round(cumulative(stats, where), 4) for label, where in STAGES},
            "top_cumulative": top_functions(stats),
            "top_own_time": top_functions(stats, by=2),
        }


# --- report -------------------------------------------------------------------------


def ratios(report: Report) -> dict[str, float]:
    vader = report.rate("vader-only")
    return {
        "api-bulk / vader-only": report.rate("api-bulk") / vader,
        "service / vader-only": report.rate("service") / vader,
        "api-bulk / plain-vader (the denominator before the CX layer)": report.rate("api-bulk")
        / report.rate("plain-vader"),
        "service / api-bulk (HTTP layer cost)": report.rate("service") / report.rate("api-bulk"),
        "write stage / copy": report.rate("write stage") / report.rate("copy"),
        "bulk_create / copy": report.rate("bulk_create") / report.rate("copy"),
    }


def print_table(report: Report) -> None:
    print(f"\n{'phase':<16}{'items':>10}{'seconds':>11}{'items/s':>12}")
    print("-" * 49)
    for p in report.phases:
        print(f"{p.name:<16}{p.items:>10,}{p.seconds:>11.3f}{p.per_second:>12,.0f}")
    print("\nratios (throughput / throughput)")
    for name, value in ratios(report).items():
        print(f"  {name:<60}{value:>8.3f}")
    print("\nchecks")
    for name, ok in report.checks.items():
        print(f"  {'ok    ' if ok else 'FAILED'} {name}")


def print_profile(report: Report) -> None:
    for path, data in report.profile.items():
        print(
            f"\nprofile: one {data['items']}-item batch through the {path} "
            f"({data['wall_seconds_under_profiler']:.3f} s under cProfile)"
        )
        print("  stage (cumulative seconds; nested stages are part of the one above)")
        for label, _where in STAGES:
            seconds = data["stages"][label.strip()]
            if seconds:
                print(f"    {label:<54}{seconds:>8.3f}")
        for key, title in (("top_cumulative", "cumulative"), ("top_own_time", "own (tottime)")):
            print(f"  top 15 by {title} time\n    {'ncalls':>8}{'tottime':>9}{'cumtime':>9}  function")
            for row in data[key]:
                print(f"    {row['ncalls']:>8}{row['tottime']:>9.3f}{row['cumtime']:>9.3f}  {row['function']}")


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def write_json(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent == DEFAULT_JSON.parent and not (path.parent / ".gitignore").exists():
        (path.parent / ".gitignore").write_text("*\n!.gitignore\n")
    data = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "processor": platform.processor(),
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "load_average_at_start": report.load_average,
        },
        "postgresql": postgres_version(),
        **{k: v for k, v in asdict(report).items() if k not in ("phases", "load_average")},
        "phases": [{**asdict(p), "per_second": p.per_second} for p in report.phases],
        "ratios": ratios(report),
    }
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"\nfigures written to {path}")


# --- main ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    print("migrating and seeding the demo journeys ...", flush=True)
    token = prepare_database()
    people = args.customers or max(1, args.items // 5)
    specs = make_specs(args.items, args.seed, people)
    report = Report(items=args.items, batch_size=args.batch_size, seed=args.seed)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("VADER only", lambda: phase_vader(report, specs)),
        ("plain VADER, without the CX layer", lambda: phase_plain_vader(report, specs)),
        ("validation only", lambda: phase_validate(report, specs, args.warmup)),
        (
            "bulk API and service, batch by batch in turn",
            lambda: phase_api_and_service(report, specs, token, args.warmup),
        ),
    ]
    for label, step in steps:
        print(f"{label} ...", flush=True)
        step()
    columns = response_columns()
    base = stored_rows("api", columns)
    print("binary COPY ...", flush=True)
    phase_copy(report, base, columns, args.warmup)
    from cvx_site.db import bulk_insert
    from feedback.models import FeedbackResponse

    print("write stage (bulk_insert, as the service) ...", flush=True)
    phase_write(report, base, args.warmup, name="write stage", tag="ws", write=bulk_insert)
    print("bulk_create ...", flush=True)
    phase_write(
        report,
        base,
        args.warmup,
        name="bulk_create",
        tag="bc",
        write=lambda batch: FeedbackResponse.objects.bulk_create(batch, batch_size=500),
    )
    if args.profile:
        print("profiling one batch per path ...", flush=True)
        profile_paths(report, specs, token)
    print(
        f"\nPostgreSQL {postgres_version()}, {os.cpu_count()} CPUs, N={args.items:,}, batch {args.batch_size}, "
        f"load average at start {report.load_average[0]:.2f}"
    )
    print_table(report)
    print_profile(report)
    write_json(report, args.json)
    return 0 if all(report.checks.values()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    return run_in_throwaway(args.database_url, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
