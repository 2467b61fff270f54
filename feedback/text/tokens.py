"""Text preparation for the CX layer: emoji as words, and tokens for matching.

Emoji: NLTK's copy of VADER ignores emoji; the original ``vaderSentiment``
package replaces each emoji with its description ("👎" -> "thumbs down") before
scoring, from the ``emoji_utf8_lexicon.txt`` file it ships. We read that file
from the installed package (no download) and do the same, with two
differences: the description is always set off by spaces (the original glues
it to a following word), and variation selectors, skin-tone modifiers and
zero-width joiners are dropped first, so "❤️" and "👍🏽" are found as "❤" and
"👍".
"""

from __future__ import annotations

import re
import threading
from importlib import resources

VADER_PACKAGE = "vaderSentiment"
EMOJI_LEXICON_FILE = "emoji_utf8_lexicon.txt"

#: At most this many emoji of one comment are translated; later ones are
#: dropped, so a comment of emoji cannot grow forty-fold before VADER reads it.
MAX_EMOJI = 50

#: Typographic quotes folded to ASCII, so "didn’t" is a negation to VADER too.
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})

_DROPPED = frozenset("\ufe0f\ufe0e\u20e3" + "".join(chr(c) for c in range(0x1F3FB, 0x1F400)))
_JOINER = "\u200d"

#: A word: letters and digits, with inner apostrophes or hyphens ("didn't",
#: "wi-fi"). Sentence ends and clause marks are tokens too, so that phrases,
#: gaps and negation do not reach across them.
WORD_PATTERN = r"[^\W_]+(?:['\-][^\W_]+)*"
_TOKEN_RE = re.compile(rf"{WORD_PATTERN}|[.!?;]+|[,:()\u2013\u2014\-]")
_SENTENCE_MARKS = frozenset(".!?;")
_CLAUSE_MARKS = frozenset(",:()\u2013\u2014-")
WORD_RE = re.compile(WORD_PATTERN)
_ORDINAL_RE = re.compile(r"\d+(?:st|nd|rd|th)$")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")

#: Token text standing for a sentence end and for a clause mark.
SENTENCE = "."
CLAUSE = ","


class Tokens:
    """The tokens of a (translated) text.

    `words[k]` is the k-th token, lowercased and spelling-corrected, or
    SENTENCE / CLAUSE for punctuation; `slots[k]` the slot names it fills;
    `fixes` are (k, corrected word) for tokens whose spelling was corrected;
    `spans[k]` is its (start, end) in the text, worked out on first use
    (most comments need none).
    """

    __slots__ = ("words", "slots", "fixes", "_raw", "_source", "_spans")

    def __init__(self, words, slots, fixes, raw, source):
        self.words: list[str] = words
        self.slots: list[frozenset[str]] = slots
        self.fixes: list[tuple[int, str]] = fixes
        self._raw: list[str] = raw
        self._source: str = source
        self._spans: list[tuple[int, int]] | None = None

    @property
    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            # Each token is the first occurrence of its text after the one
            # before: the tokenizer skipped nothing it could have matched.
            spans, position, find = [], 0, self._source.find
            for token in self._raw:
                start = find(token, position)
                position = start + len(token)
                spans.append((start, position))
            self._spans = spans
        return self._spans


class EmojiTable:
    """Emoji -> description, read once from the installed vaderSentiment package."""

    def __init__(self, table: dict[str, str]):
        self.table = table

    @classmethod
    def load(cls) -> EmojiTable:
        raw = (resources.files(VADER_PACKAGE) / EMOJI_LEXICON_FILE).read_text("utf-8")
        table: dict[str, str] = {}
        for line in raw.splitlines():
            if "\t" not in line:
                continue
            emoji, description = line.split("\t")[:2]
            key = "".join(ch for ch in emoji if ch not in _DROPPED)
            # One code point after dropping modifiers; a skin-tone variant
            # ("baby: light skin tone") never replaces its base ("baby").
            if len(key) == 1 and (key not in table or len(emoji) == 1):
                table[key] = description.strip()
        return cls(table)

    def translate(self, text: str) -> tuple[str, list[tuple[int, int, str]]]:
        """`text` with emoji replaced by their descriptions, and the spans
        (start, end, emoji) of the descriptions in the returned text."""
        if text.isascii():
            return text, []
        pieces: list[str] = []
        spans: list[tuple[int, int, str]] = []
        length = 0
        last = 0
        for match in _NON_ASCII_RE.finditer(text):
            ch = match.group()
            if ch in _DROPPED or ch == _JOINER:
                replacement = "" if ch != _JOINER else " "
            elif ch in self.table:
                if len(spans) >= MAX_EMOJI:
                    replacement = " "
                else:
                    description = self.table[ch]
                    replacement = f" {description} "
                    start = length + (match.start() - last) + 1
                    spans.append((start, start + len(description), ch))
            else:
                continue
            pieces.append(text[last : match.start()])
            pieces.append(replacement)
            length += (match.start() - last) + len(replacement)
            last = match.end()
        if not pieces:
            return text, []
        pieces.append(text[last:])
        return "".join(pieces), spans


_emoji: EmojiTable | None = None
_emoji_lock = threading.Lock()


def emoji_table() -> EmojiTable:
    """The process's emoji table, read on first use."""
    global _emoji
    if _emoji is None:
        with _emoji_lock:
            if _emoji is None:
                _emoji = EmojiTable.load()
    return _emoji


def prepare(text: str) -> tuple[str, list[tuple[int, int, str]]]:
    """Quotes folded and emoji translated; see `EmojiTable.translate`."""
    return emoji_table().translate(text.translate(_QUOTES))


class Tokenizer:
    """Splits prepared text into `Tokens`, with a spelling table and the slot
    vocabularies (word -> slot names) of one lexicon."""

    def __init__(self, spellings: dict[str, str], slot_words: dict[str, tuple[str, ...]]):
        self.spellings = spellings
        index: dict[str, set[str]] = {}
        for slot, words in slot_words.items():
            for word in words:
                index.setdefault(word, set()).add(slot)
        self.slot_index = {word: frozenset(slots) for word, slots in index.items()}

    def normalise(self, word: str) -> str:
        """A lowercase word as the matcher sees it (spelling corrected)."""
        return self.spellings.get(word, word)

    def tokens(self, text: str) -> Tokens:
        lowered = text.lower()
        # A few characters change length when lowered; then words are
        # lowered one by one so that positions stay those of `text`.
        source = lowered if len(lowered) == len(text) else text
        raw = _TOKEN_RE.findall(source)
        words: list[str] = []
        slots: list[frozenset[str]] = []
        fixes: list[tuple[int, str]] = []
        fix = self.spellings.get
        slot_of = self.slot_index.get
        empty = _EMPTY
        for token in raw:
            first = token[0]
            if first in _SENTENCE_MARKS:
                words.append(SENTENCE)
                slots.append(empty)
            elif first in _CLAUSE_MARKS:
                words.append(CLAUSE)
                slots.append(empty)
            else:
                word = token if source is lowered else token.lower()
                fixed = fix(word)
                if fixed is not None:
                    fixes.append((len(words), fixed))
                    word = fixed
                words.append(word)
                if first.isdigit():
                    slots.append(_digit_slots(word))
                elif word.endswith("ing") and len(word) > 4:
                    slots.append(slot_of(word, empty) | _ING)
                else:
                    slots.append(slot_of(word, empty))
        return Tokens(words, slots, fixes, raw, source)


_EMPTY: frozenset[str] = frozenset()
_NUMBER = frozenset({"number"})
_ING = frozenset({"ing"})
_ORDINAL = frozenset({"ordinal"})


def _digit_slots(word: str) -> frozenset[str]:
    if word.isdigit():
        return _NUMBER
    if _ORDINAL_RE.match(word) and word != "1st":
        return _ORDINAL
    return frozenset()
