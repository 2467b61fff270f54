"""The CX lexicon this installation scores with: the built-in one of
`feedback.text` (feedback/text/defaults.py) plus the LexiconTerm and
IntentPhrase rows CX admins edit in the admin.

A row overrides the built-in entry with the same (normalised) words: a
term's valence, a phrase's negatable flag. An inactive row switches its
entry off, the built-in one included, so a built-in entry that misfires can
be silenced without a deploy.

Every edit goes through the services here: one transaction that writes the
row and appends a LexiconChange (who, what, before, after) with a fresh
random token. The newest token is the version stamp: `current_lexicon()`
reads it (one indexed single-row query) and rebuilds the process's lexicon
when it differs from the one the cached lexicon was built at, so an edit
scores the next comment in every process, without a restart. Ingestion and
`rescore_feedback` call `analyse_comments`, which does that check once per
call (a batch), not per comment.

Why a LexiconChange log rather than Django's admin LogEntry: it is written in
the change's own transaction whoever calls the service (admin, shell,
command), it keeps the values before and after rather than a sentence, and
its token doubles as the cross-process version stamp.
"""

from __future__ import annotations

import functools
import logging
import operator
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import reduce

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from cvx_site.db import bulk_insert
from cvx_site.errors import NotFound, PermissionDenied
from feedback import summaries
from feedback.models import FeedbackResponse, IntentPhrase, LexiconChange, LexiconTerm, ResponseTopic, Topic
from feedback.privacy import ERASED_CONTENT_HASH
from feedback.text import (
    Analysis,
    CXLexicon,
    default_lexicon,
    set_default_lexicon,
    validate_intent,
    validate_phrase,
    validate_term,
)
from feedback.text import defaults as builtin
from feedback.themes import TopicMatcher, TopicSpec, validate_topic_phrases

logger = logging.getLogger(__name__)

# --- the lexicon to score with ---------------------------------------------------------

_lock = threading.Lock()
_loaded: CXLexicon | None = None
_loaded_topics: TopicMatcher | None = None
_loaded_token: str | None = None


def lexicon_token() -> str | None:
    """The version stamp of the admin's lexicon and topic rows: the newest
    change's token, None before any change."""
    return LexiconChange.objects.order_by("-id").values_list("token", flat=True).first()


def _current() -> tuple[CXLexicon, TopicMatcher]:
    """The lexicon and topics to read comments with now, rebuilt when a
    change was committed since they were last built (one small query)."""
    global _loaded, _loaded_topics, _loaded_token
    token = lexicon_token()
    with _lock:
        if _loaded is None or _loaded_topics is None or token != _loaded_token or default_lexicon() is not _loaded:
            lexicon = build_lexicon(LexiconTerm.objects.all(), IntentPhrase.objects.all())
            set_default_lexicon(lexicon)
            _loaded, _loaded_topics, _loaded_token = lexicon, build_topics(), token
        return _loaded, _loaded_topics


def current_lexicon() -> CXLexicon:
    """The lexicon to score with now: the built-in one with the admin's rows,
    also made the process's `feedback.text` default. One small query per call."""
    return _current()[0]


def current_topics() -> TopicMatcher:
    """The active topics, ready to tag comments. One small query per call."""
    return _current()[1]


def lexicon_is_tuned() -> bool:
    """Whether this process last built its lexicon after an admin change."""
    return _loaded_token is not None


def forget_lexicon() -> None:
    """Drop the process's cached lexicon and topics (tests; the next call rebuilds)."""
    global _loaded, _loaded_topics, _loaded_token
    with _lock:
        _loaded, _loaded_topics, _loaded_token = None, None, None
        set_default_lexicon(None)


def build_topics() -> TopicMatcher:
    """The active topics' matcher. A stored phrase the engine no longer
    accepts is left out (and logged) rather than stopping ingestion."""
    specs = []
    for topic in Topic.objects.filter(active=True).prefetch_related("touchpoints"):
        phrases = [phrase for phrase in topic.phrases if _still_valid(validate_phrase, phrase, topic=topic.name)]
        specs.append(TopicSpec(topic.pk, phrases, frozenset(t.pk for t in topic.touchpoints.all())))
    return TopicMatcher(specs)


def _still_valid(check, *args, **context) -> bool:
    try:
        check(*args)
    except ValidationError as exc:
        logger.warning("CX lexicon: %s %s left out: %s", context, args, "; ".join(exc.messages))
        return False
    return True


def build_lexicon(terms: Iterable[LexiconTerm], phrases: Iterable[IntentPhrase]) -> CXLexicon:
    """The built-in lexicon with these rows applied (see the module
    docstring). Its version is a hash of the content, so the same entries
    give the same version in every process, and no rows at all give the
    built-in lexicon's own version."""
    term_valence = dict(_builtin_terms())
    for row in terms:
        if not _still_valid(validate_term, row.term, row.valence, row="term"):
            continue
        if row.active:
            term_valence[row.term] = row.valence
        else:
            term_valence.pop(row.term, None)
    phrase_negatable = dict(_builtin_phrases())
    for row in phrases:
        if not _still_valid(validate_intent_phrase, row.intent, row.phrase, row="phrase"):
            continue
        if row.active:
            phrase_negatable[(row.intent, row.phrase)] = row.negatable
        else:
            phrase_negatable.pop((row.intent, row.phrase), None)
    return CXLexicon(
        terms=term_valence.items(),
        phrases=[(intent, phrase, negatable) for (intent, phrase), negatable in phrase_negatable.items()],
        include_defaults=False,
    )


@functools.cache
def _builtin_terms() -> dict[str, float]:
    """Built-in term (normalised as rows are stored) -> valence; a later
    entry overrides an earlier one, as in the engine."""
    return dict(validate_term(term, valence) for term, valence in builtin.DOMAIN_TERMS)


@functools.cache
def _builtin_phrases() -> dict[tuple[str, str], bool]:
    return {(intent, validate_phrase(phrase)): bool(negatable) for intent, phrase, negatable in builtin.INTENT_PHRASES}


def builtin_entries(
    query: str = "", *, limit: int = 200
) -> tuple[list[tuple[str, float]], list[tuple[str, str, bool]]]:
    """Built-in terms and phrases whose words contain `query` (all when
    blank), at most `limit` of each, for the admin's read-only search."""
    needle = " ".join(query.lower().split())
    terms = [(t, v) for t, v in sorted(_builtin_terms().items()) if needle in t][:limit]
    phrases = [(i, p, n) for (i, p), n in sorted(_builtin_phrases().items()) if needle in p or needle == i][:limit]
    return terms, phrases


@dataclass(frozen=True)
class Reading:
    """What ingestion stores of a comment: the CX layer's analysis and the
    ids of the topics it is about."""

    analysis: Analysis
    topics: list[int]


def read_comments(comments: Sequence[tuple[str, int | None]]) -> list[Reading]:
    """A Reading of each (comment, touchpoint id), in order, all with the
    current lexicon and topics (one check of the version stamp for the
    batch). As `analyse_comments` for blank and absent comments."""
    if not any(text for text, _touchpoint in comments):
        return [Reading(_NO_COMMENT, []) for _item in comments]
    lexicon, topics = _current()
    readings = []
    for text, touchpoint in comments:
        analysis, tokens = lexicon.read(text)  # topics match in the tokens the analysis read
        readings.append(Reading(analysis, topics.topics_in(tokens, touchpoint)))
    return readings


_NO_COMMENT = Analysis(0.0, "neutral", (), (), "")


def analyse_comments(texts: Iterable[str]) -> list[Analysis]:
    """`feedback.text` Analysis of each text, in order, all with
    `current_lexicon()`. Blank texts are neutral with no intents; a batch
    without any text (scores only) builds and checks nothing, and its
    analyses name no lexicon."""
    texts = list(texts)
    if not any(texts):
        return [_NO_COMMENT for _text in texts]
    lexicon = current_lexicon()
    return [lexicon.analyse(text) for text in texts]


# --- re-scoring stored responses ----------------------------------------------------


@dataclass(frozen=True)
class RescoreBatch:
    """One batch of `responses_rescore_batch`: `examined` rows read, of
    which `changed` had another label, compound or intents; `last_id` is the
    highest id read (None: nothing left)."""

    examined: int
    changed: int
    last_id: int | None


def responses_to_rescore(*, since: datetime, version: str) -> QuerySet[FeedbackResponse]:
    """Responses that occurred at or after `since`, have a comment, were not
    erased, and were scored with another lexicon than `version`."""
    return (
        FeedbackResponse.objects.filter(occurred_at__gte=since)
        .exclude(comment="")
        .exclude(content_hash=ERASED_CONTENT_HASH)
        .exclude(lexicon_version=version)
    )


def responses_rescore_batch(*, since: datetime, after_id: int = 0, size: int = 500) -> RescoreBatch:
    """Re-score the next `size` responses (by id, above `after_id`) that
    `responses_to_rescore` names with `current_lexicon()`: their compound,
    label, intents, explanation and lexicon version.

    The caller may rely on: reading is outside the write transaction; the
    write is one transaction per batch, which also refreshes the score
    summary buckets (`feedback.summaries`) of every row whose label changed,
    so a batch is all or nothing and a restart continues where the last
    committed batch ended (rows already at the current version are not read
    again). A row whose comment changed meanwhile (an erasure) is left
    alone. Nothing is routed again: no signal, no task.
    """
    lexicon = current_lexicon()
    rows = list(
        responses_to_rescore(since=since, version=lexicon.version)
        .filter(pk__gt=after_id)
        .order_by("pk")
        .values_list("pk", "comment")[:size]
    )
    if not rows:
        return RescoreBatch(0, 0, None)
    readings = {pk: (comment, lexicon.analyse(comment)) for pk, comment in rows}
    written: list[FeedbackResponse] = []
    changed = 0
    relabelled: list[FeedbackResponse] = []
    with transaction.atomic():
        current = list(
            FeedbackResponse.objects.select_for_update()
            .filter(pk__in=readings)
            .order_by("pk")
            .only("pk", "touchpoint_id", "occurred_at", "comment", "sentiment", "sentiment_label", "intents")
        )
        for response in current:
            comment, analysis = readings[response.pk]
            if response.comment != comment:
                continue
            before = (response.sentiment, response.sentiment_label, response.intents)
            if response.sentiment_label != analysis.label:
                relabelled.append(response)
            response.sentiment, response.sentiment_label = analysis.compound, analysis.label
            response.intents = list(analysis.intents)
            response.explanation = [list(pair) for pair in analysis.explanation]
            response.lexicon_version = analysis.lexicon_version
            changed += before != (response.sentiment, response.sentiment_label, response.intents)
            written.append(response)
        FeedbackResponse.objects.bulk_update(
            written, ["sentiment", "sentiment_label", "intents", "explanation", "lexicon_version"], batch_size=500
        )
        if relabelled:
            # The summary counts negative comments: the buckets of a changed label are recounted.
            summaries.refresh_daily_scores(
                (touchpoint, date.fromisoformat(day)) for touchpoint, day in summaries.daily_score_keys(relabelled)
            )
    return RescoreBatch(len(rows), changed, rows[-1][0])


# --- edits ----------------------------------------------------------------------------


def lexicon_term_save(
    *, actor, term: str, valence: float, note: str = "", active: bool = True, term_id: int | None = None
) -> LexiconTerm:
    """Create (no `term_id`) or change a lexicon term, and log the change.

    `term` is validated and normalised as the engine reads it and `valence`
    must be within -4..4: ValidationError under ``term`` or ``valence``
    says why, and also when another row has the same words. Scores from the
    next comment on use it, in every process."""
    words, valence = validate_term(term, valence)
    with transaction.atomic():
        if term_id is None:
            _check_permission(actor, "feedback.add_lexiconterm")
            row = None
        else:
            row = _locked(LexiconTerm, term_id, actor, "feedback.change_lexiconterm")
        if LexiconTerm.objects.filter(term=words).exclude(pk=term_id).exists():
            raise ValidationError({"term": f"The term “{words}” is already in the lexicon: change that row."})
        before = _term_values(row) if row else None
        row = row or LexiconTerm()
        row.term, row.valence, row.note, row.active, row.updated_at = words, valence, note, active, timezone.now()
        row.save()
        _log(
            actor,
            "lexicon.term.changed" if before else "lexicon.term.created",
            f"term “{words}”",
            before,
            _term_values(row),
        )
    return row


def lexicon_term_delete(*, actor, term_id: int) -> None:
    """Delete a lexicon term (its built-in entry, if any, applies again), and log it."""
    with transaction.atomic():
        row = _locked(LexiconTerm, term_id, actor, "feedback.delete_lexiconterm")
        _log(actor, "lexicon.term.deleted", f"term “{row.term}”", _term_values(row), None)
        row.delete()


def intent_phrase_save(
    *,
    actor,
    intent: str,
    phrase: str,
    negatable: bool = True,
    note: str = "",
    active: bool = True,
    phrase_id: int | None = None,
) -> IntentPhrase:
    """Create (no `phrase_id`) or change an intent phrase, and log the change.

    `intent` must be an Intent and `phrase` plain words in the engine's token
    syntax (no regular expressions): ValidationError under ``intent`` or
    ``phrase`` says why, and also when the same phrase already signals that
    intent in another row."""
    intent, phrase = validate_intent_phrase(intent, phrase)
    with transaction.atomic():
        if phrase_id is None:
            _check_permission(actor, "feedback.add_intentphrase")
            row = None
        else:
            row = _locked(IntentPhrase, phrase_id, actor, "feedback.change_intentphrase")
        if IntentPhrase.objects.filter(intent=intent, phrase=phrase).exclude(pk=phrase_id).exists():
            raise ValidationError({"phrase": f"“{phrase}” already signals {intent}: change that row."})
        before = _phrase_values(row) if row else None
        row = row or IntentPhrase()
        row.intent, row.phrase, row.negatable, row.note, row.active = intent, phrase, negatable, note, active
        row.updated_at = timezone.now()
        row.save()
        _log(
            actor,
            "lexicon.phrase.changed" if before else "lexicon.phrase.created",
            f"{intent} “{phrase}”",
            before,
            _phrase_values(row),
        )
    return row


def validate_intent_phrase(intent: str, phrase: str) -> tuple[str, str]:
    """The intent and the normalised phrase, or one ValidationError naming
    every bad field (``intent``, ``phrase``) and why."""
    errors: dict = {}
    try:
        intent = validate_intent(intent)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        phrase = validate_phrase(phrase)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return intent, phrase


def intent_phrase_delete(*, actor, phrase_id: int) -> None:
    """Delete an intent phrase (its built-in entry, if any, applies again), and log it."""
    with transaction.atomic():
        row = _locked(IntentPhrase, phrase_id, actor, "feedback.delete_intentphrase")
        _log(actor, "lexicon.phrase.deleted", f"{row.intent} “{row.phrase}”", _phrase_values(row), None)
        row.delete()


def _check_permission(actor, permission: str) -> None:
    # actor None: the system (a command or a migration), trusted.
    if actor is not None and not actor.has_perm(permission):
        raise PermissionDenied(f"{actor} may not edit the CX lexicon ({permission}).")


def _locked(model, pk: int, actor, permission: str):
    _check_permission(actor, permission)
    row = model.objects.select_for_update().filter(pk=pk).first()
    if row is None:
        raise NotFound(f"No {model._meta.verbose_name} with id {pk}.")
    return row


def _term_values(row: LexiconTerm) -> dict:
    return {"term": row.term, "valence": row.valence, "note": row.note, "active": row.active}


def _phrase_values(row: IntentPhrase) -> dict:
    return {
        "intent": row.intent,
        "phrase": row.phrase,
        "negatable": row.negatable,
        "note": row.note,
        "active": row.active,
    }


def _log(actor, action: str, subject: str, before: dict | None, after: dict | None) -> LexiconChange:
    """Append the change; its new token tells every process to reload."""
    return LexiconChange.objects.create(
        actor=actor,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        subject=subject[:200],
        before=before,
        after=after,
        token=uuid.uuid4().hex,
    )


# --- topics -------------------------------------------------------------------------------


def topic_save(
    *,
    actor,
    name: str,
    phrases: Iterable[str],
    touchpoint_ids: Iterable[int] = (),
    active: bool = True,
    topic_id: int | None = None,
) -> Topic:
    """Create (no `topic_id`) or change a topic, and log the change. Each
    phrase is validated as a lexicon phrase (ValidationError under
    ``phrases`` naming the line); a blank or taken `name` is refused under
    ``name``. New responses are tagged with it from the next one on, in every
    process; `rescore_feedback --topics` tags those already stored."""
    clean_name = " ".join(str(name).split())
    if not clean_name:
        raise ValidationError({"name": "A topic needs a name."})
    clean_phrases = validate_topic_phrases(phrases)
    touchpoints = sorted(set(touchpoint_ids))
    with transaction.atomic():
        if topic_id is None:
            _check_permission(actor, "feedback.add_topic")
            row = None
        else:
            row = _locked(Topic, topic_id, actor, "feedback.change_topic")
        if Topic.objects.filter(name__iexact=clean_name).exclude(pk=topic_id).exists():
            raise ValidationError({"name": f"There is already a topic named “{clean_name}”."})
        before = _topic_values(row) if row else None
        row = row or Topic()
        row.name, row.phrases, row.active, row.updated_at = clean_name, clean_phrases, active, timezone.now()
        row.save()
        row.touchpoints.set(touchpoints)
        _log(actor, "topic.changed" if before else "topic.created", f"topic “{clean_name}”", before, _topic_values(row))
    return row


def topic_delete(*, actor, topic_id: int) -> None:
    """Delete a topic and its tags on responses, and log it (set it inactive
    instead to keep its history)."""
    with transaction.atomic():
        row = _locked(Topic, topic_id, actor, "feedback.delete_topic")
        _log(actor, "topic.deleted", f"topic “{row.name}”", _topic_values(row), None)
        row.delete()


def topics_locked(ids: Iterable[int]) -> set[int]:
    """Those of `ids` whose topic still exists, protected from deletion
    until the caller's transaction ends, so tags written in it never point
    at a deleted topic. On PostgreSQL a FOR KEY SHARE lock: concurrent
    ingestions do not wait for each other, only `topic_delete` (FOR UPDATE)
    waits; SQLite has one writer at a time."""
    ids = set(ids)
    if not ids:
        return set()
    rows = Topic.objects.filter(pk__in=ids).values_list("pk")
    if connection.vendor != "postgresql":
        return {pk for (pk,) in rows}
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} FOR KEY SHARE", params)
        return {pk for (pk,) in cursor.fetchall()}


def _topic_values(row: Topic) -> dict:
    return {
        "name": row.name,
        "phrases": list(row.phrases),
        "active": row.active,
        "touchpoints": sorted(row.touchpoints.values_list("pk", flat=True)),
    }


def responses_retag_batch(*, since: datetime, after_id: int = 0, size: int = 500) -> RescoreBatch:
    """Tag the next `size` responses with comments (by id, above `after_id`,
    occurred at or after `since`, not erased) with the current topics,
    replacing their tags, in one transaction. `changed` counts responses
    whose tags changed. Idempotent; nothing is routed."""
    topics = current_topics()
    rows = list(
        FeedbackResponse.objects.filter(occurred_at__gte=since, pk__gt=after_id)
        .exclude(comment="")
        .exclude(content_hash=ERASED_CONTENT_HASH)
        .order_by("pk")
        .values_list("pk", "comment", "touchpoint_id")[:size]
    )
    if not rows:
        return RescoreBatch(0, 0, None)
    wanted = {pk: set(topics.topics(comment, touchpoint)) for pk, comment, touchpoint in rows}
    with transaction.atomic():
        live = topics_locked(set().union(*wanted.values()))
        wanted = {pk: ids & live for pk, ids in wanted.items()}
        have: dict[int, set[int]] = {pk: set() for pk in wanted}
        for response, topic in ResponseTopic.objects.filter(response_id__in=wanted).values_list(
            "response_id", "topic_id"
        ):
            have[response].add(topic)
        stale = [(pk, topic) for pk in wanted for topic in have[pk] - wanted[pk]]
        if stale:
            ResponseTopic.objects.filter(
                reduce(operator.or_, (Q(response_id=pk, topic_id=topic) for pk, topic in stale))
            ).delete()
        bulk_insert(
            [ResponseTopic(response_id=pk, topic_id=topic) for pk in wanted for topic in sorted(wanted[pk] - have[pk])]
        )
    changed = sum(wanted[pk] != have[pk] for pk in wanted)
    return RescoreBatch(len(rows), changed, rows[-1][0])
