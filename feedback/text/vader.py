"""NLTK's VADER, scored token by token so the CX layer can say which tokens
drove a label.

`score` returns what ``SentimentIntensityAnalyzer.polarity_scores(text)``
returns as its compound, plus each token's final valence. The valence rules
are NLTK's own methods (`sentiment_valence`, `_but_check`, `score_valence`);
only two things are done here rather than inside NLTK:

- the token list. NLTK's ``SentiText`` builds, for every comment, a dictionary
  of every word joined to every punctuation mark of ``PUNC_LIST`` (17 entries
  per word, twice) only to strip one leading or trailing mark from each
  token. `vader_words` applies the same rule directly: a token loses a
  leading or trailing ``PUNC_LIST`` mark when what remains is longer than one
  character and has no punctuation. tests/feedback/test_text.py checks the two
  agree on arbitrary text.
- the loop over tokens, as NLTK 3.10's ``polarity_scores`` writes it (including
  its use of a token's first position when a token repeats), keeping the list
  of valences that ``polarity_scores`` throws away.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from nltk.sentiment.vader import SentimentIntensityAnalyzer, VaderConstants

_PUNCTUATION = frozenset(string.punctuation)
_MARKS = tuple(sorted(set(VaderConstants.PUNC_LIST), key=len, reverse=True))
_TOKEN_RE = re.compile(r"\S+")


def _bare(word: str) -> bool:
    return len(word) > 1 and not any(ch in _PUNCTUATION for ch in word)


def _strip_mark(token: str) -> str:
    for mark in _MARKS:
        if token.endswith(mark) and _bare(token[: -len(mark)]):
            return token[: -len(mark)]
    for mark in _MARKS:
        if token.startswith(mark) and _bare(token[len(mark) :]):
            return token[len(mark) :]
    return token


def vader_words(text: str) -> tuple[list[str], list[int]]:
    """The tokens NLTK's ``SentiText(text).words_and_emoticons`` holds, and
    where each starts in `text`."""
    words: list[str] = []
    offsets: list[int] = []
    for match in _TOKEN_RE.finditer(text):
        token = match.group()
        if len(token) > 1:
            words.append(_strip_mark(token) if token[0] in _PUNCTUATION or token[-1] in _PUNCTUATION else token)
            offsets.append(match.start())
    return words, offsets


def _words(text: str) -> list[str]:
    # vader_words without the offsets, for the common case that needs none.
    return [
        _strip_mark(token) if token[0] in _PUNCTUATION or token[-1] in _PUNCTUATION else token
        for token in text.split()
        if len(token) > 1
    ]


@dataclass
class _SentiView:
    # What `sentiment_valence` reads of a SentiText.
    words_and_emoticons: list[str]
    is_cap_diff: bool


def _cap_differential(words: list[str]) -> bool:
    upper = sum(1 for word in words if word.isupper())
    return 0 < len(words) - upper < len(words)


def score(
    analyzer: SentimentIntensityAnalyzer, text: str, *, offsets: bool = True
) -> tuple[float, list[str], list[int], list[float]]:
    """(compound, tokens, their offsets in `text` — empty unless `offsets` —,
    each token's valence)."""
    if offsets:
        words, starts = vader_words(text)
    else:
        words, starts = _words(text), []
    view = _SentiView(words, _cap_differential(words))
    lexicon = analyzer.lexicon
    boosters = analyzer.constants.BOOSTER_DICT
    first_index: dict[str, int] = {}
    for index, word in enumerate(words):
        first_index.setdefault(word, index)
    last = len(words) - 1
    sentiments: list[float] = []
    for item in words:
        i = first_index[item]
        lower = item.lower()
        if lower in boosters or (lower == "kind" and i < last and words[i + 1].lower() == "of"):
            sentiments.append(0)
        elif lower not in lexicon:
            sentiments.append(0)  # what sentiment_valence appends for such a token
        else:
            sentiments = analyzer.sentiment_valence(0, view, item, i, sentiments)
    sentiments = analyzer._but_check(words, sentiments)
    compound = analyzer.score_valence(sentiments, text)["compound"]
    return float(compound), words, starts, sentiments
