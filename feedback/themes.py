"""Topics and themes.

Topics are what CX admins define (`feedback.models.Topic`): `TopicMatcher`
finds them in a comment with the text engine's token phrases, ingestion
tags each response with them, and `topic_figures` gives each topic's
volume, share negative and weekly trend.

Themes are the free terms and two-word phrases that recur across comments.
They are shown only as "unassigned terms" (`unassigned_terms`): what
negative comments that no topic caught talk about, to help an admin add
topics. Needs no NLTK data download.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncWeek
from nltk.tokenize import RegexpTokenizer

from feedback.choices import SentimentLabel
from feedback.sentiment import COMMENT_MAX_CHARS
from feedback.stopwords import STOP_WORDS
from feedback.text import defaults as text_defaults
from feedback.text import validate_phrase
from feedback.text.patterns import Entry, Matcher
from feedback.text.tokens import Tokenizer, Tokens, prepare

MIN_TERM_LENGTH = 3

# A word (keeping inner apostrophes, so "didn't" meets its stop word) or a run
# of punctuation. Punctuation is kept as a token so that it breaks phrases.
_TOKENIZER = RegexpTokenizer(r"\w+(?:'\w+)*|[^\w\s]+")


@dataclass(frozen=True)
class Theme:
    """A term or two-word phrase and the number of comments containing it."""

    phrase: str
    count: int


def extract_themes(comments: Iterable[str], *, top: int = 10) -> list[Theme]:
    """The `top` most common themes in `comments`.

    A theme is a lowercase term, or two terms adjacent in a comment with
    nothing removed between them. Stop words, terms shorter than
    MIN_TERM_LENGTH characters and tokens without a letter (numbers,
    punctuation) are not terms.
    `count` is the number of comments containing the theme, however often
    each one repeats it. Sorted by count, highest first, then alphabetically.
    Each comment is read up to COMMENT_MAX_CHARS characters.
    """
    if top <= 0:
        return []
    counts: Counter[str] = Counter()
    for comment in comments:
        counts.update(comment_themes(comment[:COMMENT_MAX_CHARS]))
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [Theme(phrase=phrase, count=count) for phrase, count in ranked[:top]]


def comment_themes(comment: str) -> set[str]:
    """The distinct terms and two-word phrases of one comment."""
    themes: set[str] = set()
    previous: str | None = None
    for token in _tokens(comment):
        if not is_term(token):
            previous = None
            continue
        themes.add(token)
        if previous is not None:
            themes.add(f"{previous} {token}")
        previous = token
    return themes


def is_term(token: str) -> bool:
    """Whether a lowercase token counts toward themes."""
    return len(token) >= MIN_TERM_LENGTH and any(char.isalpha() for char in token) and token not in STOP_WORDS


def _tokens(comment: str) -> Iterator[str]:
    # Typographic apostrophes are folded so "didn’t" matches the stop word.
    text = comment.lower().replace("\u2019", "'")
    yield from _TOKENIZER.tokenize(text)


UTC = UTC


# --- topics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicSpec:
    """What the matcher needs of a topic: its id, its phrases (normalised,
    or as an admin wrote them: they are validated here), and the touchpoint
    ids it is limited to (empty: every touchpoint)."""

    id: int
    phrases: Sequence[str]
    touchpoints: frozenset[int] = frozenset()


class TopicMatcher:
    """All topics' phrases in one trie of the text engine (token phrases,
    slots and gaps; never regular expressions), so tagging a comment is one
    linear pass whatever the number of topics. Build once per change
    (`feedback.lexicon.current_topics`)."""

    def __init__(self, topics: Iterable[TopicSpec]):
        self.tokenizer = Tokenizer(text_defaults.SPELLINGS, text_defaults.SLOT_WORDS)
        self.scope: dict[int, frozenset[int]] = {}
        by_phrase: dict[str, set[int]] = {}
        for topic in topics:
            self.scope[topic.id] = frozenset(topic.touchpoints)
            for phrase in topic.phrases:
                by_phrase.setdefault(validate_phrase(phrase), set()).add(topic.id)
        self.topics_of: dict[Entry, frozenset[int]] = {}
        entries = []
        for phrase, ids in by_phrase.items():
            items = tuple(phrase.split())
            entry = Entry(phrase=phrase, size=len(items))
            self.topics_of[entry] = frozenset(ids)
            entries.append((items, entry))
        self.matcher = Matcher(entries)

    def __bool__(self) -> bool:
        return bool(self.topics_of)

    def topics(self, comment: str, touchpoint_id: int | None = None) -> list[int]:
        """Ids of the topics `comment` is about, sorted: those with a phrase
        in its first COMMENT_MAX_CHARS characters, limited to their
        touchpoints when they have some."""
        if not self.topics_of or not comment.strip():
            return []
        text, _emoji = prepare(comment[:COMMENT_MAX_CHARS])
        return self.topics_in(self.tokenizer.tokens(text), touchpoint_id)

    def topics_in(self, tokens: Tokens | None, touchpoint_id: int | None = None) -> list[int]:
        """`topics` of a comment the CX layer has already tokenized
        (`CXLexicon.read`; None for blank text): its tokenizer is this one's,
        built from the same spellings and slot words, so the result is the
        same and ingestion reads each comment once."""
        if not self.topics_of or tokens is None:
            return []
        found: set[int] = set()
        for entry in self.matcher.find_all(tokens.words, tokens.slots):
            found |= self.topics_of[entry]
        return sorted(t for t in found if not self.scope[t] or touchpoint_id in self.scope[t])


def validate_topic_phrases(lines: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated phrases of a topic, blank lines dropped;
    ValidationError under ``phrases`` naming the bad line and why."""
    from django.core.exceptions import ValidationError

    phrases: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not str(line).strip():
            continue
        try:
            phrase = validate_phrase(line)
        except ValidationError as exc:
            reasons = " ".join(exc.message_dict.get("phrase", exc.messages))
            raise ValidationError({"phrases": f"Line {number}: {reasons}"}) from None
        if phrase not in phrases:
            phrases.append(phrase)
    if not phrases:
        raise ValidationError({"phrases": "Write at least one phrase, one per line."})
    return phrases


@dataclass(frozen=True)
class TopicFigures:
    """One topic over a set of responses: `volume` responses about it,
    `negative` of them negative, and the volume per UTC week (Monday)."""

    topic_id: int
    name: str
    volume: int
    negative: int
    trend: list[tuple[date, int]]

    @property
    def share_negative(self) -> float | None:
        return self.negative / self.volume if self.volume else None

    @property
    def negative_pct(self) -> int | None:
        """The share negative in whole percent, for display."""
        share = self.share_negative
        return None if share is None else round(100 * share)


def topic_figures(responses: QuerySet, *, top: int = 20) -> list[TopicFigures]:
    """The `top` topics of `responses` (already scoped by the caller's
    selector) by volume, with their negative count and weekly trend: two
    GROUP BY queries over the response-topic table joined to `responses`."""
    from feedback.models import ResponseTopic

    links = ResponseTopic.objects.filter(response__in=responses.values("pk"))
    totals = list(
        links.values("topic_id", "topic__name")
        .annotate(volume=Count("pk"), negative=Count("pk", filter=Q(response__sentiment_label=SentimentLabel.NEGATIVE)))
        .order_by("-volume", "topic__name")[:top]
    )
    ids = [row["topic_id"] for row in totals]
    trend: dict[int, list[tuple[date, int]]] = {topic: [] for topic in ids}
    weekly = (
        links.filter(topic_id__in=ids)
        .annotate(week=TruncWeek("response__occurred_at", tzinfo=UTC))
        .values("topic_id", "week")
        .annotate(volume=Count("pk"))
        .order_by("topic_id", "week")
    )
    for row in weekly:
        trend[row["topic_id"]].append((row["week"].date(), row["volume"]))
    return [
        TopicFigures(row["topic_id"], row["topic__name"], row["volume"], row["negative"], trend[row["topic_id"]])
        for row in totals
    ]


def unassigned_terms(responses: QuerySet, *, top: int = 10, limit: int = 5000) -> tuple[list[Theme], int]:
    """The free themes of the negative comments among `responses` that no
    topic caught, and how many comments were read (the latest `limit`): what
    an admin might add a topic for."""
    comments = list(
        responses.filter(sentiment_label=SentimentLabel.NEGATIVE, topic_links__isnull=True)
        .exclude(comment="")
        .order_by("-occurred_at")
        .values_list("comment", flat=True)[:limit]
    )
    return extract_themes(comments, top=top), len(comments)
