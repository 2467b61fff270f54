"""The CX layer: VADER with a domain lexicon, phrases, emoji and intents.

How one comment is read (`CXLexicon.analyse`):

1. The first COMMENT_MAX_CHARS characters are kept; quotes are folded and
   emoji replaced by their descriptions (`feedback.text.tokens`).
2. The text is split into tokens and every phrase of the lexicon — domain
   terms with a valence, intent phrases — is looked up at once in a trie
   (`feedback.text.patterns`). Where matches overlap, the longer one wins, so
   a specific phrase ("cancel the appointment", valence 0) silences a shorter
   one inside it ("cancel").
3. Multi-word terms are folded into VADER's score by substitution: each
   matched term is replaced in the text by a placeholder token whose valence
   is the term's, added to this lexicon's copy of VADER's lexicon. VADER then
   scores the text as usual, so its own rules apply to the phrase as to any
   word: a negation in the three words before ("never hung up on me" flips
   it), an intensifier ("really"), capitals, "but" (words after it weigh 1.5×,
   before it 0.5×), exclamation marks, and normalisation of the sum into
   [-1, 1]. Single-word terms simply set that word's valence. A negative
   term or word that a resolution word resolves (one of
   defaults.RESOLUTION_WORDS within RESOLUTION_WINDOW words in the same
   clause, itself neither negated — "not fixed" — nor wished for — "need it
   fixed") is replaced the same way by a mildly positive placeholder:
   "sorted my billing problem" is good news.
4. Intents come from the phrases matched: each matched phrase adds its
   intents, except that a *negatable* phrase is skipped when a negation word
   stands among the three words before it in the same clause ("I don't want
   to cancel"), unless that negation is negated in turn ("can't stream
   without buffering"). A domain term with a valence at or below
   COMPLAINT_CUE_VALENCE is a complaint phrase as well (negatable), one at
   or above PRAISE_CUE_VALENCE a praise phrase, so a failure or a
   compliment is written once; and a negative comment is a complaint whatever
   its words (its negative terms are named). A complaint phrase negated
   ("never had an outage") or resolved ("the outage was sorted within an
   hour") counts toward praise instead; one before the first "but" of a
   comment that ends up positive counts for nothing (VADER's "but" rule:
   "took a while to get through but the advisor sorted everything"). Praise
   is reported only when the label is positive and no complaint-type intent
   was found: praise beside a complaint is not an opportunity to ask for a
   review.
5. The explanation lists the terms that pushed the compound toward its label
   (largest first) and the phrase behind each intent.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from itertools import chain

from django.core.exceptions import ValidationError
from nltk.sentiment.vader import SentimentIntensityAnalyzer

from feedback.sentiment import COMMENT_MAX_CHARS, get_analyzer, sentiment_label
from feedback.text import defaults
from feedback.text.patterns import (
    Entry,
    Match,
    Matcher,
    check_intent,
    check_valence,
    parse_phrase,
)
from feedback.text.tokens import CLAUSE, SENTENCE, Tokenizer, Tokens, prepare
from feedback.text.vader import score

#: A domain term this negative is also a complaint phrase, and one this
#: positive a praise phrase.
COMPLAINT_CUE_VALENCE = -1.5
PRAISE_CUE_VALENCE = 1.5

#: Intents that make a comment a complaint to follow up.
COMPLAINT_INTENTS = frozenset({"complaint", "churn_risk", "high_effort", "compliance_risk"})

#: Words VADER's NEGATE list lacks: NLTK dropped the original's handling of
#: "no", and "nobody" and "zero" negate as "never" does.
EXTRA_NEGATIONS = frozenset({"no", "nobody", "noone", "neither", "zero"})

#: How far back a negation reaches, as in VADER.
NEGATION_WINDOW = 3

#: Words that start a new clause for negation, like a comma.
CLAUSE_BREAKS = frozenset({"but", "although", "though", "however", "yet"})

#: How far (in words, within the clause) a resolution word reaches.
RESOLUTION_WINDOW = 4

#: What VADER sees in place of a negative term a resolution word resolves
#: ("sorted my billing problem"): mild good news, as "fixed" itself.
RESOLVED = "cxresolved"
RESOLVED_VALENCE = 1.0

#: At most this many sentiment terms are named in an explanation.
MAX_DRIVERS = 5

_PLACEHOLDER = "cxterm{}"


def is_complaint(label: str, intents: Iterable[str]) -> bool:
    """Whether a comment is a complaint to follow up: negative, or with a
    complaint-type intent (COMPLAINT_INTENTS). The same rule for a labelled
    comment and for an Analysis."""
    return label == "negative" or not COMPLAINT_INTENTS.isdisjoint(intents)


@dataclass(frozen=True)
class Analysis:
    """What the CX layer read in one comment.

    `compound` is in [-1, 1]; `label` is the sentiment label of it; `intents` is a
    sorted tuple of INTENTS names; `explanation` pairs each driving term or
    phrase, as written in the comment, with its effect ("negative",
    "positive" or an intent name); `lexicon_version` names the lexicon used.
    """

    compound: float
    label: str
    intents: tuple[str, ...]
    explanation: tuple[tuple[str, str], ...]
    lexicon_version: str

    @property
    def is_complaint(self) -> bool:
        """Negative, or with a complaint-type intent; see `is_complaint`."""
        return is_complaint(self.label, self.intents)

    def reasons(self) -> str:
        """The explanation as one line: "negative because: hung up, never
        called back; churn_risk: cancel my contract"."""
        parts = []
        drivers = [term for term, effect in self.explanation if effect == self.label]
        if drivers:
            parts.append(f"{self.label} because: {', '.join(drivers)}")
        for intent in self.intents:
            terms = [term for term, effect in self.explanation if effect == intent]
            parts.append(f"{intent}: {', '.join(terms)}")
        return "; ".join(parts) or self.label


class CXLexicon:
    """VADER's lexicon plus domain terms, and intent phrases, ready to analyse.

    `terms` are ``(term, valence)`` pairs and `phrases` ``(intent, phrase,
    negatable)`` triples, added to the defaults of `feedback.text.defaults`
    (or replacing them when `include_defaults` is False). An entry repeating
    a default overrides it: a term's valence, a phrase's negatable flag.
    Every entry is validated as the admin validates it (`validate_term`,
    `validate_phrase`); the first bad one raises ValidationError.

    `version` names this lexicon in each Analysis; by default it is a hash of
    the content. `analyzer` is the VADER analyzer whose lexicon is copied
    (default: the process's, `feedback.sentiment.get_analyzer()`); it is not
    modified.

    Building parses every phrase once, so build once per lexicon version,
    not per comment; `analyse` is thread-safe and keeps no state between calls.
    """

    def __init__(
        self,
        terms: Iterable[tuple[str, float]] = (),
        phrases: Iterable[tuple[str, str, bool]] = (),
        *,
        version: str | None = None,
        include_defaults: bool = True,
        analyzer: SentimentIntensityAnalyzer | None = None,
    ):
        self.tokenizer = Tokenizer(defaults.SPELLINGS, defaults.SLOT_WORDS)
        parse = partial(parse_phrase, slots=defaults.SLOT_WORDS, normalise=self.tokenizer.normalise)
        term_valence: dict[tuple[str, ...], float] = {}
        for term, valence in chain(defaults.DOMAIN_TERMS if include_defaults else (), terms):
            term_valence[parse(term, field_name="term")] = check_valence(valence)
        phrase_intents: dict[tuple[str, ...], dict[str, bool]] = {}
        for intent, phrase, negatable in chain(defaults.INTENT_PHRASES if include_defaults else (), phrases):
            check_intent(intent)
            phrase_intents.setdefault(parse(phrase, field_name="phrase"), {})[intent] = bool(negatable)
        self.version = version or _content_hash(term_valence, phrase_intents)
        self.terms = {" ".join(items): valence for items, valence in term_valence.items()}
        self.phrases = {" ".join(items): dict(intents) for items, intents in phrase_intents.items()}

        base = analyzer or get_analyzer()
        self.analyzer = _copy_analyzer(base, EXTRA_NEGATIONS)
        self.analyzer.lexicon[RESOLVED] = RESOLVED_VALENCE
        entries: list[tuple[tuple[str, ...], Entry]] = []
        for number, items in enumerate(sorted(term_valence.keys() | phrase_intents.keys())):
            entry = Entry(phrase=" ".join(items), size=len(items), intents=dict(phrase_intents.get(items, {})))
            if items in term_valence:
                entry.valence = term_valence[items]
                if entry.valence <= COMPLAINT_CUE_VALENCE:
                    entry.intents.setdefault("complaint", True)
                elif entry.valence >= PRAISE_CUE_VALENCE:
                    entry.intents.setdefault("praise", True)
                if len(items) == 1 and not items[0].startswith("{"):
                    self.analyzer.lexicon[items[0]] = entry.valence
                else:
                    entry.placeholder = _PLACEHOLDER.format(number)
                    self.analyzer.lexicon[entry.placeholder] = entry.valence
            entries.append((items, entry))
        self.matcher = Matcher(entries)
        self.negations = frozenset(base.constants.NEGATE) | EXTRA_NEGATIONS
        self.resolutions = frozenset(defaults.RESOLUTION_WORDS)
        self.wishes = frozenset(defaults.RESOLUTION_WISHES)

    def analyse(self, text: str) -> Analysis:
        """Read one comment; see the module docstring. Only the first
        COMMENT_MAX_CHARS characters are read; blank text is neutral."""
        return self.read(text)[0]

    def read(self, text: str) -> tuple[Analysis, Tokens | None]:
        """`analyse(text)` and the tokens it read the comment as (None for
        blank text), so a caller matching more phrases in the same comment
        (topics: `feedback.themes.TopicMatcher.topics_in`) does not prepare
        and tokenize it a second time."""
        clipped = text[:COMMENT_MAX_CHARS]
        if not clipped.strip():
            return Analysis(0.0, sentiment_label(0.0).value, (), (), self.version), None
        reading = _Reading(self, clipped)
        return reading.analysis(), reading.tokens


class _Reading:
    """One comment being analysed."""

    def __init__(self, lexicon: CXLexicon, text: str):
        self.lexicon = lexicon
        self.text, self.emoji = prepare(text)
        self.tokens = lexicon.tokenizer.tokens(self.text)
        longest, scored = lexicon.matcher.scan(self.tokens.words, self.tokens.slots)
        self.phrase_matches = _longest_first(longest)
        self.term_matches = _longest_first(scored)
        self.splices: list[tuple[int, int, str]] = []
        self.placeholders: dict[str, str] = {}
        self.reach = self._resolution_reach()

    def analysis(self) -> Analysis:
        vader_text = self._vader_text()
        compound, words, offsets, valences = score(self.lexicon.analyzer, vader_text, offsets=bool(self.emoji))
        label = sentiment_label(compound).value
        drivers = self._drivers(label, words, offsets, valences)
        intents, triggers = self._intents(label, drivers)
        explanation = tuple(dict.fromkeys(drivers + triggers))
        return Analysis(compound, label, tuple(sorted(intents)), explanation, self.lexicon.version)

    # -- sentiment ---------------------------------------------------------------

    def _vader_text(self) -> str:
        """The text with matched terms replaced by placeholders and corrected
        spellings written in."""
        covered = set()
        for match in self.term_matches:
            entry = match.entry
            resolved = self.reach and entry.valence < 0 and self._resolution(match) is not None
            if entry.placeholder is None and not resolved:
                continue
            self._splice(match.start, match.stop, RESOLVED if resolved else entry.placeholder)
            covered.update(range(match.start, match.stop))
        lexicon = self.lexicon.analyzer.lexicon
        for index in self.reach:
            if index not in covered and lexicon.get(self.tokens.words[index], 0) < 0:
                self._splice(index, index + 1, RESOLVED)
                covered.add(index)
        for index, word in self.tokens.fixes:
            if index not in covered:
                start, stop = self.tokens.spans[index]
                original = self.text[start:stop]
                self.splices.append((start, stop, word.upper() if original.isupper() else word))
        if not self.splices:
            return self.text
        self.splices.sort()
        pieces, last = [], 0
        for start, stop, token in self.splices:
            pieces += [self.text[last:start], token]
            last = stop
        pieces.append(self.text[last:])
        return "".join(pieces)

    def _splice(self, first: int, last: int, placeholder: str) -> None:
        """Put `placeholder` in place of tokens [first, last) for VADER."""
        spans = self.tokens.spans
        start, stop = spans[first][0], spans[last - 1][1]
        if placeholder == RESOLVED:  # explained with the word that resolves it
            resolution = self._resolver(first, last)
            shown = (min(first, resolution), max(last, resolution + 1))
            self.placeholders.setdefault(RESOLVED, self._display_tokens(*shown))
        else:
            self.placeholders[placeholder] = self._display(start, stop)
        original = self.text[start:stop]
        self.splices.append((start, stop, placeholder.upper() if original.isupper() else placeholder))

    def _drivers(self, label: str, words, offsets, valences) -> list[tuple[str, str]]:
        if label == "neutral":
            return []
        sign = -1 if label == "negative" else 1
        ranked = sorted(
            (index for index, valence in enumerate(valences) if valence * sign > 0),
            key=lambda index: -abs(valences[index]),
        )
        drivers: list[tuple[str, str]] = []
        seen: set[str] = set()
        for index in ranked:
            word = words[index].lower()
            if word in seen:
                continue
            seen.add(word)
            term = self.placeholders.get(word)
            if term is None and self.emoji:
                term = self._emoji_at(self._original_offset(offsets[index]))
            if (term or word, label) not in drivers:
                drivers.append((term or word, label))
            if len(drivers) == MAX_DRIVERS:
                break
        return drivers

    # -- intents -----------------------------------------------------------------

    def _intents(self, label: str, drivers: list[tuple[str, str]]) -> tuple[set[str], list[tuple[str, str]]]:
        found: set[str] = set()
        triggers: list[tuple[str, str]] = []
        praise: list[tuple[str, str]] = []
        words = self.tokens.words
        # VADER's "but" rule: what follows the first "but" outweighs what
        # precedes it. A failure mentioned before it in a comment that ends
        # up positive ("took a while to get through but the advisor sorted
        # everything") is not the customer's complaint.
        but = words.index("but") if label == "positive" and "but" in words else -1
        for match in sorted(self.phrase_matches, key=lambda m: m.start):
            if not match.entry.intents:
                continue
            negation = self._negation(match.start)
            for intent, negatable in match.entry.intents.items():
                denied = negation if negatable else None
                if intent == "complaint":
                    if match.stop <= but:
                        continue
                    # A denied or fixed failure is praise, shown with the word that says so.
                    other = denied if denied is not None else self._resolution(match)
                    if other is not None:
                        first, last = min(other, match.start), max(other + 1, match.stop)
                        praise.append((self._display_tokens(first, last), "praise"))
                        continue
                if denied is not None:
                    continue
                term = self._display_tokens(match.start, match.stop)
                if intent == "praise":
                    praise.append((term, "praise"))
                else:
                    found.add(intent)
                    triggers.append((term, intent))
        if praise and label == "positive" and not found & COMPLAINT_INTENTS:
            found.add("praise")
            triggers += praise
        if label == "negative" and "complaint" not in found:
            found.add("complaint")
            triggers += [(term, "complaint") for term, _ in drivers]
        return found, triggers

    def _resolution_reach(self) -> dict[int, int]:
        """Token -> the resolution word ("fixed", "sorted" ...) within
        RESOLUTION_WINDOW words of it in the same clause, for resolution words
        neither negated ("not fixed") nor wished for ("need it fixed")."""
        words = self.tokens.words
        resolutions = self.lexicon.resolutions
        reach: dict[int, int] = {}
        for resolution, word in enumerate(words):
            if word not in resolutions or self._negation(resolution) is not None or self._wished(resolution):
                continue
            for step in (-1, 1):
                index = resolution + step
                for _ in range(RESOLUTION_WINDOW):
                    if not 0 <= index < len(words) or words[index] in (SENTENCE, CLAUSE):
                        break
                    if words[index] in CLAUSE_BREAKS:
                        break
                    reach.setdefault(index, resolution)
                    index += step
        return reach

    def _resolver(self, first: int, last: int) -> int | None:
        """The resolution word reaching tokens [first, last), not inside them."""
        for index in range(first, last):
            resolution = self.reach.get(index)
            if resolution is not None and not first <= resolution < last:
                return resolution
        return None

    def _resolution(self, match: Match) -> int | None:
        return self._resolver(match.start, match.stop) if self.reach else None

    def _wished(self, index: int) -> bool:
        """Whether one of the RESOLUTION_WINDOW words before token `index`
        makes it a wish ("need it fixed", "until the outage is sorted")
        rather than a fact."""
        before = self.tokens.words[max(0, index - RESOLUTION_WINDOW) : index]
        return any(word in self.lexicon.wishes for word in before)

    def _negation(self, start: int, *, double: bool = True) -> int | None:
        """The token of a negation word among the NEGATION_WINDOW words before
        token `start`, in the same clause. A negation itself negated ("can't
        stream without buffering") cancels out, and None is returned."""
        words = self.tokens.words
        negations = self.lexicon.negations
        index, seen = start - 1, 0
        while index >= 0 and seen < NEGATION_WINDOW:
            word = words[index]
            if word in (SENTENCE, CLAUSE) or word in CLAUSE_BREAKS:
                return None
            if word in negations or word.endswith("n't"):
                if double and self._negation(index, double=False) is not None:
                    return None
                return index
            index, seen = index - 1, seen + 1
        return None

    # -- showing terms as the customer wrote them ----------------------------------

    def _display_tokens(self, start: int, stop: int) -> str:
        spans = self.tokens.spans
        return self._display(spans[start][0], spans[stop - 1][1])

    def _display(self, start: int, stop: int) -> str:
        for emoji_start, emoji_stop, emoji in self.emoji:
            if emoji_start <= start and stop <= emoji_stop:
                return emoji
        return " ".join(self.text[start:stop].lower().split())

    def _emoji_at(self, offset: int) -> str | None:
        for emoji_start, emoji_stop, emoji in self.emoji:
            if emoji_start <= offset < emoji_stop:
                return emoji
        return None

    def _original_offset(self, offset: int) -> int:
        """Where a position of the VADER text lies in the prepared text."""
        shift = 0
        for start, stop, token in self.splices:
            if start + shift > offset:
                break
            shift += (stop - start) - len(token)
        return offset + shift


def _longest_first(matches: list[Match]) -> list[Match]:
    """Matches that do not overlap, the longer winning (then the earlier)."""
    if len(matches) < 2:
        return matches
    taken: set[int] = set()
    chosen = []
    for match in sorted(matches, key=lambda m: (m.start - m.stop, m.start)):
        span = range(match.start, match.stop)
        if taken.isdisjoint(span):
            taken.update(span)
            chosen.append(match)
    return chosen


def _copy_analyzer(base: SentimentIntensityAnalyzer, negations: Iterable[str]) -> SentimentIntensityAnalyzer:
    """A copy of `base` with its own lexicon, and `negations` added to its
    negation words; `base` is left as it was."""
    analyzer = copy.copy(base)
    analyzer.lexicon = dict(base.lexicon)
    analyzer.constants = copy.copy(base.constants)
    analyzer.constants.NEGATE = frozenset(base.constants.NEGATE) | frozenset(negations)
    return analyzer


def _content_hash(terms: dict, phrases: dict) -> str:
    digest = hashlib.sha256()
    for items, valence in sorted(terms.items()):
        digest.update(f"t\t{' '.join(items)}\t{valence!r}\n".encode())
    for items, intents in sorted(phrases.items()):
        for intent, negatable in sorted(intents.items()):
            digest.update(f"p\t{intent}\t{' '.join(items)}\t{negatable}\n".encode())
    return f"cx-{digest.hexdigest()[:12]}"


# --- validators for the admin -------------------------------------------------------

_tokenizer = Tokenizer(defaults.SPELLINGS, defaults.SLOT_WORDS)


def validate_term(term: str, valence: float) -> tuple[str, float]:
    """The normalised ``(term, valence)`` of a lexicon entry, or
    ValidationError with a message under ``term`` or ``valence`` saying why.

    A term is a word or phrase in the syntax of `feedback.text.patterns`;
    a valence is a number from -4 to 4 (VADER's range)."""
    errors: dict[str, list[ValidationError]] = {}
    normalised_term, normalised_valence = "", 0.0
    try:
        normalised_term = " ".join(
            parse_phrase(term, field_name="term", slots=defaults.SLOT_WORDS, normalise=_tokenizer.normalise)
        )
    except ValidationError as exc:
        errors.update(exc.error_dict)
    try:
        normalised_valence = check_valence(valence)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    return normalised_term, normalised_valence


def validate_phrase(phrase: str) -> str:
    """The normalised phrase, or ValidationError under ``phrase`` saying why
    (empty, not plain words — regular-expression syntax is refused — an
    unknown slot, too long, or a misplaced gap)."""
    items = parse_phrase(phrase, field_name="phrase", slots=defaults.SLOT_WORDS, normalise=_tokenizer.normalise)
    return " ".join(items)


def validate_intent(intent: str) -> str:
    """`intent` if it is one of INTENTS, or ValidationError under ``intent``."""
    return check_intent(intent)


# --- the process's default lexicon ----------------------------------------------------

_default: CXLexicon | None = None
_default_lock = threading.Lock()


def default_lexicon() -> CXLexicon:
    """The process's lexicon, built from the defaults on first use (or the
    one last given to `set_default_lexicon`)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = CXLexicon()
    return _default


def set_default_lexicon(lexicon: CXLexicon | None) -> None:
    """Make `lexicon` the process's default (None: rebuild from the defaults
    on next use). For reloading after an admin edits terms or phrases."""
    global _default
    with _default_lock:
        _default = lexicon


def analyse(text: str, *, lexicon: CXLexicon | None = None) -> Analysis:
    """Analyse one comment with `lexicon` (default: `default_lexicon()`)."""
    return (lexicon or default_lexicon()).analyse(text)


def analyse_many(texts: Iterable[str], *, lexicon: CXLexicon | None = None) -> list[Analysis]:
    """`analyse` each text, in order, with one lexicon."""
    chosen = lexicon or default_lexicon()
    return [chosen.analyse(text) for text in texts]
