"""The one way feedback gets in. Every entry point (API, bulk API, CSV
import, survey form) calls `feedback_ingest_many` or `feedback_ingest`."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task
from rest_framework.exceptions import ValidationError

from cvx_site.db import bulk_insert
from feedback.lexicon import read_comments, topics_locked
from feedback.models import Customer, CustomerIdentity, FeedbackResponse, ResponseTopic
from feedback.privacy import ERASED_CONTENT_HASH
from feedback.scores import csat_band, nps_category
from feedback.signals import responses_ingested
from feedback.summaries import daily_score_keys
from feedback.validation import FeedbackInSerializer
from journeys.models import Touchpoint

CREATED, DUPLICATE, CONFLICT, GONE, ERROR = "created", "duplicate", "conflict", "gone", "error"
BULK_MAX_ITEMS = 1000
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,80}")
CONFLICT_MESSAGE = "This source already sent a different response with this external_id."
GONE_MESSAGE = (
    "The response stored under this source and external_id was erased at the customer's request; "
    "the key cannot be used again."
)


@dataclass
class IngestOutcome:
    """What happened to one item: `status` is created, duplicate, conflict,
    gone or error; `response` is the stored response (created, duplicate,
    conflict); `errors` maps field names to messages (error, conflict, gone)."""

    status: str
    response: FeedbackResponse | None = None
    errors: dict = field(default_factory=dict)


def feedback_ingest(*, item: Mapping, invitation=None) -> IngestOutcome:
    """Validate and store one response; see `feedback_ingest_many`.
    `invitation` (trusted callers only: the survey form) is the invitation
    the response answers; only with it may the item use a reserved source."""
    attach = {0: {"invitation": invitation}} if invitation is not None else None
    return feedback_ingest_many(items=[item], attach=attach)[0]


def feedback_ingest_many(*, items: Sequence[Mapping], attach: Mapping[int, dict] | None = None) -> list[IngestOutcome]:
    """Validate and store a batch of responses; one outcome per item, in order.

    Valid items are stored even when others fail; an invalid item is an
    `error` and writes nothing. Storing is idempotent on (source,
    external_id): the same content again is a `duplicate` (nothing is
    written), different content a `conflict`, and any content at all `gone`
    when the stored response was erased (feedback.privacy), so a replay
    cannot confirm what the erased text said. `attach` (index -> extra
    fields, trusted callers only) marks the items allowed the sources
    reserved for CVX's own surveys. Customers are found by any
    identity or created. Sentiment, intents, explanation (the CX layer,
    `feedback.lexicon.read_comments`), topics and derived categories are
    computed here.
    `responses_ingested` is sent with the new ids inside the transaction.
    """
    touchpoints = _touchpoints_for(items)
    outcomes: list[IngestOutcome | None] = [None] * len(items)
    valid = _validate(items, touchpoints, outcomes, trusted=set(attach or ()))
    if valid:
        # Score before the write transaction: on SQLite that transaction holds
        # the database's write lock, and scoring is the slow part. Replays
        # already stored are not scored at all.
        known = _existing_responses(valid)
        new = [(index, data) for index, data, _h in valid if (data["source"], data["external_id"]) not in known]
        readings = read_comments([(data["comment"], data["touchpoint"].pk) for _i, data in new])
        scores = dict(zip((index for index, _d in new), readings))
        with transaction.atomic():
            _store(valid, outcomes, known, scores, attach or {})
    return outcomes  # type: ignore[return-value]


def feedback_check_many(*, items: Sequence[Mapping]) -> list[IngestOutcome]:
    """What `feedback_ingest_many` would do with `items`, writing nothing
    (the importer's dry run): the same validation, then `created` for a new
    key, `duplicate` for one already stored (its content is not compared),
    `error` with the messages otherwise. Nothing is scored or stored."""
    outcomes: list[IngestOutcome | None] = [None] * len(items)
    valid = _validate(items, _touchpoints_for(items), outcomes, trusted=set())
    known = _existing_responses(valid) if valid else {}
    seen: set[tuple[str, str]] = set()
    for index, data, _digest in valid:
        key = (data["source"], data["external_id"])
        outcomes[index] = IngestOutcome(DUPLICATE if key in known or key in seen else CREATED)
        seen.add(key)
    return outcomes  # type: ignore[return-value]


def _validate(
    items: Sequence[Mapping], touchpoints: dict, outcomes: list, trusted: set[int]
) -> list[tuple[int, dict, str]]:
    # One validator for the batch (and one for its trusted items): building a
    # DRF serializer per item costs more than validating it.
    validator = FeedbackInSerializer(context={"touchpoints": touchpoints})
    trusted_validator = FeedbackInSerializer(context={"touchpoints": touchpoints, "trusted": True}) if trusted else None
    valid = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            outcomes[index] = IngestOutcome(ERROR, errors={"non_field_errors": ["Expected a JSON object."]})
            continue
        try:
            data = (trusted_validator if index in trusted else validator).run_validation(item)
        except ValidationError as exc:
            outcomes[index] = IngestOutcome(ERROR, errors=_plain(exc.detail))
            continue
        valid.append((index, data, _content_hash(data)))
    return valid


def _store(
    valid: list[tuple[int, dict, str]], outcomes: list, stored: dict, scores: dict, attach: Mapping[int, dict]
) -> None:
    # `stored` was looked up before scoring; a key stored since then by a
    # concurrent request fails the insert below and becomes a replay there.
    fresh: dict[tuple[str, str], tuple[int, dict, str]] = {}
    for index, data, digest in valid:
        key = (data["source"], data["external_id"])
        if key not in stored and key not in fresh:
            fresh[key] = (index, data, digest)
    created_at: set[int] = set()
    if fresh:
        for (key, (index, _data, _digest)), response in zip(
            fresh.items(), _create_responses(list(fresh.values()), scores, attach)
        ):
            if response.pk is None:  # lost a race with a concurrent request
                response = FeedbackResponse.objects.get(source=key[0], external_id=key[1])
            else:
                created_at.add(index)
            stored[key] = response
        _tag_topics(
            [(stored[key].pk, scores[index].topics) for key, (index, _d, _h) in fresh.items() if index in created_at]
        )
    for index, data, digest in valid:
        response = stored[(data["source"], data["external_id"])]
        outcomes[index] = (
            IngestOutcome(CREATED, response=response) if index in created_at else _replay_outcome(response, digest)
        )
    if created_at:
        responses_ingested.send(
            sender=FeedbackResponse, response_ids=[outcomes[i].response.pk for i in sorted(created_at)]
        )
        # The daily score summary catches up in a task once these rows are visible.
        buckets = daily_score_keys(outcomes[i].response for i in created_at)
        transaction.on_commit(lambda: async_task("feedback.tasks.refresh_daily_scores", buckets))


def _tag_topics(tags: list[tuple[int, list[int]]]) -> None:
    # Topics read before the transaction may have been deleted since.
    live = topics_locked({topic for _pk, topics in tags for topic in topics})
    bulk_insert(
        [ResponseTopic(response_id=pk, topic_id=topic) for pk, topics in tags for topic in topics if topic in live]
    )


def _replay_outcome(response: FeedbackResponse, digest: str) -> IngestOutcome:
    if response.content_hash == ERASED_CONTENT_HASH:
        # The same answer whatever the content: duplicate-or-conflict would
        # tell the caller whether their text matches what was erased.
        return IngestOutcome(GONE, errors={"external_id": [GONE_MESSAGE]})
    if response.content_hash == digest:
        return IngestOutcome(DUPLICATE, response=response)
    return IngestOutcome(CONFLICT, response=response, errors={"external_id": [CONFLICT_MESSAGE]})


def _touchpoints_for(items: Sequence[Mapping]) -> dict[str, Touchpoint]:
    # Only strings that could be a slug are looked up: anything else (an
    # object, NUL or surrogate characters) cannot name a touchpoint, and
    # validation then says why.
    slugs = {
        t
        for item in items
        if isinstance(item, Mapping)
        if isinstance(t := item.get("touchpoint"), str) and _SLUG.fullmatch(t)
    }
    return {t.slug: t for t in Touchpoint.objects.filter(slug__in=slugs).select_related("stage__journey", "team")}


def _existing_responses(valid) -> dict[tuple[str, str], FeedbackResponse]:
    sources = {data["source"] for _i, data, _h in valid}
    external_ids = {data["external_id"] for _i, data, _h in valid}
    rows = FeedbackResponse.objects.filter(source__in=sources, external_id__in=external_ids)
    return {(r.source, r.external_id): r for r in rows}


def _create_responses(
    fresh: list[tuple[int, dict, str]], scores: dict, attach: Mapping[int, dict]
) -> list[FeedbackResponse]:
    customers = customers_resolve([data.get("customer") for _i, data, _h in fresh])
    now = timezone.now()
    rows = []
    for (index, data, digest), customer in zip(fresh, customers):
        score = scores[index].analysis if data["comment"] else None
        rows.append(
            FeedbackResponse(
                touchpoint=data["touchpoint"],
                customer=customer,
                kind=data["kind"],
                source=data["source"],
                external_id=data["external_id"],
                occurred_at=data.get("occurred_at") or now,
                received_at=now,
                nps=data.get("nps"),
                csat=data.get("csat"),
                ces=data.get("ces"),
                ves=data.get("ves"),
                comment=data["comment"],
                metadata=data["metadata"],
                nps_category=nps_category(data.get("nps")),
                csat_band=csat_band(data.get("csat")),
                sentiment=score.compound if score else None,
                sentiment_label=score.label if score else None,
                intents=list(score.intents) if score else [],
                explanation=[list(pair) for pair in score.explanation] if score else [],
                lexicon_version=score.lexicon_version if score else "",
                content_hash=digest,
                **attach.get(index, {}),
            )
        )
    try:
        with transaction.atomic():
            return bulk_insert(rows)
    except IntegrityError:
        # Another request stored one of these keys since we looked: store the
        # rest one by one; the loser of each race becomes a replay.
        for row in rows:
            row.pk = None  # ids from the rolled-back insert are not ours
        return [_create_one(row) for row in rows]


def _create_one(row: FeedbackResponse) -> FeedbackResponse:
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        row.pk = None
    return row


def customers_resolve(specs: list[dict | None]) -> list[Customer | None]:
    """The customer of each spec, found by any identity or newly created.

    Items of one batch that share an identity get the same customer; an
    identity already owned by another customer is never moved.
    """
    wanted = {(kind, value) for spec in specs if spec for kind, value in spec["identities"].items()}
    known = _known_identities(wanted)
    result: list[Customer | None] = []
    new_customers: list[Customer] = []
    new_identities: list[CustomerIdentity] = []
    for spec in specs:
        if not spec:
            result.append(None)
            continue
        pairs = list(spec["identities"].items())
        customer = next((known[p] for p in pairs if p in known), None)
        if customer is None:
            customer = Customer(name=spec["name"])
            new_customers.append(customer)
        for pair in pairs:
            if pair not in known:
                known[pair] = customer
                new_identities.append(CustomerIdentity(customer=customer, kind=pair[0], value=pair[1]))
        result.append(customer)
    if new_customers:
        bulk_insert(new_customers)
    if not new_identities:  # returning customers only: no savepoint for nothing
        return result
    for ident in new_identities:
        ident.customer_id = ident.customer.pk
    try:
        with transaction.atomic():
            bulk_insert(new_identities)
    except IntegrityError:
        moved = _claim_identities_one_by_one(new_identities, {c.pk for c in new_customers})
        result = [moved.get(c.pk, c) if c is not None else None for c in result]
    return result


def _known_identities(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], Customer]:
    if not wanted:
        return {}
    # One (kind, values) condition per kind: each is a range of the (kind,
    # value) unique index. On value alone the index cannot serve and
    # PostgreSQL read every identity of every customer on each ingest; kinds
    # and values as two independent lists made it probe every kind for every
    # value, which a batch of 1,000 items planned as a full scan again.
    values_by_kind: dict[str, set[str]] = {}
    for kind, value in wanted:
        values_by_kind.setdefault(kind, set()).add(value)
    condition = Q()
    for kind, values in values_by_kind.items():
        condition |= Q(kind=kind, value__in=values)
    rows = CustomerIdentity.objects.filter(condition).select_related("customer").order_by()
    return {(i.kind, i.value): i.customer for i in rows}


def _claim_identities_one_by_one(identities: list[CustomerIdentity], new_ids: set[int]) -> dict[int, Customer]:
    """After a concurrent request took one of our identities: a customer we
    just created for it merges into that identity's owner. Returns
    {our new customer id: the owner to use instead}."""
    moved: dict[int, Customer] = {}
    for ident in identities:
        ident.pk = None
        try:
            with transaction.atomic():
                ident.save(force_insert=True)
        except IntegrityError:
            owner = CustomerIdentity.objects.select_related("customer").get(kind=ident.kind, value=ident.value).customer
            if ident.customer_id in new_ids and owner.pk != ident.customer_id:
                moved[ident.customer_id] = owner
    for new_id, owner in moved.items():
        CustomerIdentity.objects.filter(customer_id=new_id).update(customer=owner)
        Customer.objects.filter(pk=new_id).delete()
    return moved


def _content_hash(data: dict) -> str:
    customer = data.get("customer")
    canonical = {
        "touchpoint": data["touchpoint"].slug,
        "customer": customer["identities"] if customer else None,
        "kind": data["kind"],
        "occurred_at": data["occurred_at"].isoformat() if data.get("occurred_at") else None,
        "nps": data.get("nps"),
        "csat": data.get("csat"),
        "ces": data.get("ces"),
        "comment": data["comment"],
        "metadata": data["metadata"],
    }
    if data.get("ves") is not None:  # only when given, so hashes stored before VES existed still match
        canonical["ves"] = data["ves"]
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _plain(errors) -> dict:
    """DRF's ErrorDetail tree as plain lists of strings, keyed by field."""
    if isinstance(errors, Mapping):
        return {key: _plain(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_plain(e) if isinstance(e, (Mapping, list)) else str(e) for e in errors]
    return [str(errors)]
