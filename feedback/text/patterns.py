"""Phrases: their syntax, their validation, and the matcher that finds them.

A phrase is a few whitespace-separated items, matched against a comment's
tokens one by one, never as a regular expression:

- a word (letters, digits, inner apostrophes or hyphens): that token, after
  lowercasing and the lexicon's spelling corrections ("dont" = "don't");
- ``{slot}``: one token of a class — ``{number}`` ("3", "three", "several"),
  ``{ordinal}`` ("third", "4th"), ``{ing}`` (any word ending in "-ing"),
  ``{duration}``, ``{service}``, ``{provider}``, ``{contact}``,
  ``{account}`` (vocabularies in ``feedback.text.defaults.SLOT_WORDS``);
- ``...``: a gap of 0 to MAX_GAP_WORDS tokens, within one sentence;
- ``{end}`` (last only): the end of a clause or sentence.

A phrase has at most MAX_PHRASE_ITEMS items, at most MAX_GAPS gaps and at
least one word. The matcher is a trie over these items, built once per
lexicon; it reads each comment once, and from each token follows at most
MAX_PHRASE_ITEMS edges with at most MAX_GAP_WORDS + 1 choices per gap, so the
time per comment is linear in its length whatever phrases an admin enters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError

from feedback.text.tokens import CLAUSE, SENTENCE, WORD_RE, prepare

MAX_PHRASE_CHARS = 100
MAX_PHRASE_ITEMS = 8
MAX_GAPS = 2
MAX_GAP_WORDS = 5

#: VADER's lexicon rates words from -4 (most negative) to +4.
MIN_VALENCE = -4.0
MAX_VALENCE = 4.0

INTENTS = ("churn_risk", "complaint", "compliance_risk", "high_effort", "praise")

GAP = "..."
END = "{end}"
_SLOT_RE = re.compile(r"\{([a-z_]+)\}")


def _error(field_name: str, message: str, code: str) -> ValidationError:
    return ValidationError({field_name: ValidationError(message, code=code)})


def parse_phrase(
    phrase: object, *, field_name: str, slots: Iterable[str], normalise=lambda word: word
) -> tuple[str, ...]:
    """The items of `phrase`, or ValidationError naming `field_name` and why.

    `slots` are the slot names allowed besides ``end``; `normalise` maps a
    lowercase word to the form the matcher compares (spelling corrections).
    Emoji are written as their descriptions ("👍" is "thumbs up").
    """
    if not isinstance(phrase, str):
        raise _error(field_name, f"{field_name} must be text.", "invalid")
    text = phrase.strip()
    if not text:
        raise _error(field_name, f"{field_name} is empty: write at least one word.", "required")
    if len(text) > MAX_PHRASE_CHARS:
        raise _error(
            field_name,
            f"{field_name} is {len(text)} characters long; at most {MAX_PHRASE_CHARS} are allowed.",
            "max_length",
        )
    known = set(slots)
    prepared, _ = prepare(text.replace("\u2026", f" {GAP} "))
    items: list[str] = []
    for piece in prepared.lower().split():
        if piece == GAP:
            items.append(GAP)
            continue
        slot = _SLOT_RE.fullmatch(piece)
        if slot is not None:
            name = slot.group(1)
            if name != "end" and name not in known:
                names = ", ".join(f"{{{s}}}" for s in sorted(known | {"end"}))
                raise _error(field_name, f"{field_name}: “{piece}” is not a known slot; use one of {names}.", "invalid")
            items.append(piece)
            continue
        if WORD_RE.fullmatch(piece) is None:
            raise _error(field_name, _not_a_word(field_name, piece), "invalid")
        items.append(normalise(piece))
    _check_shape(field_name, items)
    return tuple(items)


def _not_a_word(field_name: str, piece: str) -> str:
    bad = "".join(sorted({ch for ch in piece if not (ch.isalnum() or ch in "'-")}))
    return (
        f"{field_name}: “{piece}” is not a plain word. Phrases are matched word by word, "
        f"not as regular expressions, so “{bad}” cannot be used. Use letters, digits, "
        f"apostrophes and hyphens, a slot such as {{number}} for one word of a kind, "
        f"and “{GAP}” for a gap of up to {MAX_GAP_WORDS} words."
    )


def _check_shape(field_name: str, items: list[str]) -> None:
    def refuse(message: str) -> None:
        raise _error(field_name, f"{field_name}: {message}", "invalid")

    if len(items) > MAX_PHRASE_ITEMS:
        refuse(f"{len(items)} words, slots and gaps; at most {MAX_PHRASE_ITEMS} are allowed.")
    if not any(item != GAP and not item.startswith("{") for item in items):
        refuse("write at least one plain word besides slots and gaps.")
    if items[0] == GAP or items[-1] == GAP:
        refuse(f"“{GAP}” joins two parts, so it cannot come first or last.")
    if sum(item == GAP for item in items) > MAX_GAPS:
        refuse(f"at most {MAX_GAPS} gaps (“{GAP}”) are allowed.")
    if any(a == GAP and b == GAP for a, b in zip(items, items[1:])):
        refuse(f"two gaps (“{GAP} {GAP}”) in a row; one gap already spans up to {MAX_GAP_WORDS} words.")
    if END in items[:-1]:
        refuse(f"{END} marks the end of a clause, so it can only come last.")


def check_valence(valence: object, *, field_name: str = "valence") -> float:
    """`valence` as a float within VADER's range, or ValidationError."""
    if isinstance(valence, bool) or not isinstance(valence, (int, float, Decimal)):
        raise _error(field_name, f"{field_name} must be a number from -4 to 4.", "invalid")
    value = float(valence)
    if not math.isfinite(value):
        raise _error(field_name, f"{field_name} must be a finite number from -4 to 4.", "invalid")
    if not MIN_VALENCE <= value <= MAX_VALENCE:
        raise _error(
            field_name,
            f"{field_name} {value:g} is outside VADER's range: use a number from -4 (most "
            f"negative) to 4 (most positive).",
            "out_of_range",
        )
    return value


def check_intent(intent: object, *, field_name: str = "intent") -> str:
    if intent not in INTENTS:
        raise _error(field_name, f"{field_name} “{intent}” is not one of {', '.join(INTENTS)}.", "invalid_choice")
    return str(intent)


# --- matching ---------------------------------------------------------------------


@dataclass(eq=False)
class Entry:
    """What one phrase means: its valence (None for an intent-only phrase),
    its intents (intent -> negatable), and the token VADER sees in its place."""

    phrase: str
    size: int = 1
    valence: float | None = None
    intents: dict[str, bool] = field(default_factory=dict)
    placeholder: str | None = None


class _Node:
    __slots__ = ("words", "slots", "gap", "end", "entry")

    def __init__(self) -> None:
        self.words: dict[str, _Node] = {}
        self.slots: list[tuple[str, _Node]] = []
        self.gap: _Node | None = None
        self.end: _Node | None = None
        self.entry: Entry | None = None

    def child(self, item: str) -> _Node:
        if item == GAP:
            if self.gap is None:
                self.gap = _Node()
            return self.gap
        if item == END:
            if self.end is None:
                self.end = _Node()
            return self.end
        if item.startswith("{"):
            name = item[1:-1]
            for slot, node in self.slots:
                if slot == name:
                    return node
            node = _Node()
            self.slots.append((name, node))
            return node
        return self.words.setdefault(item, _Node())


@dataclass(frozen=True)
class Match:
    """Tokens [start, stop) of a comment matched `entry`."""

    start: int
    stop: int
    entry: Entry


class Matcher:
    """All phrases of a lexicon in one trie; `scan` finds them in a comment."""

    def __init__(self, entries: Iterable[tuple[tuple[str, ...], Entry]]):
        self.root = _Node()
        for items, entry in entries:
            node = self.root
            for item in items:
                node = node.child(item)
            node.entry = entry

    def scan(self, words: list[str], slots: list[frozenset[str]]) -> tuple[list[Match], list[Match]]:
        """The phrases found in a comment's tokens: for each token where one
        starts, the longest phrase starting there (first list) and the
        longest one with a valence (second list)."""
        longest: list[Match] = []
        scored: list[Match] = []
        root_words = self.root.words
        root_slots = self.root.slots
        walk = self._walk
        n = len(words)
        for start in range(n):
            # The root has neither entry, gap nor end: step from it here.
            hits: list[tuple[int, Entry]] = []
            node = root_words.get(words[start])
            if node is not None:
                walk(node, words, slots, start + 1, n, hits)
            if root_slots and slots[start]:
                for name, node in root_slots:
                    if name in slots[start]:
                        walk(node, words, slots, start + 1, n, hits)
            if not hits:
                continue
            # Longest in tokens, then in items: "cancel {end}" beats "cancel".
            best = best_scored = None
            for hit in hits:
                if best is None or (hit[0], hit[1].size) > (best[0], best[1].size):
                    best = hit
                if hit[1].valence is not None and (
                    best_scored is None or (hit[0], hit[1].size) > (best_scored[0], best_scored[1].size)
                ):
                    best_scored = hit
            longest.append(Match(start, best[0], best[1]))
            if best_scored is not None:
                scored.append(Match(start, best_scored[0], best_scored[1]))
        return longest, scored

    def find_all(self, words: list[str], slots: list[frozenset[str]]) -> set[Entry]:
        """Every entry matched anywhere in a comment's tokens, not only the
        longest from each token (topics: "app" and "app crashes" both
        count). The same walk as `scan`, so as fast."""
        found: set[Entry] = set()
        n = len(words)
        for start in range(n):
            hits: list[tuple[int, Entry]] = []
            node = self.root.words.get(words[start])
            if node is not None:
                self._walk(node, words, slots, start + 1, n, hits)
            if slots[start]:
                for name, node in self.root.slots:
                    if name in slots[start]:
                        self._walk(node, words, slots, start + 1, n, hits)
            found.update(entry for _stop, entry in hits if entry is not None)
        return found

    def _walk(self, node: _Node, words, slots, i: int, n: int, hits: list) -> None:
        if node.entry is not None:
            hits.append((i, node.entry))
        if node.end is not None and (i == n or words[i] in (SENTENCE, CLAUSE)):
            hits.append((i, node.end.entry))
        if i < n:
            nxt = node.words.get(words[i])
            if nxt is not None:
                self._walk(nxt, words, slots, i + 1, n, hits)
            for name, nxt in node.slots:
                if name in slots[i]:
                    self._walk(nxt, words, slots, i + 1, n, hits)
        if node.gap is not None:
            j = i
            for _ in range(MAX_GAP_WORDS + 1):
                self._walk(node.gap, words, slots, j, n, hits)
                if j >= n or words[j] == SENTENCE:
                    break
                j += 1
