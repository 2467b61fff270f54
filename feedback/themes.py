"""Themes: the terms and two-word phrases that recur across comments.

Callers pass the comments they want themes of (e.g. the negative ones); this
module only counts. It needs no NLTK data download.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from nltk.tokenize import RegexpTokenizer

from feedback.sentiment import COMMENT_MAX_CHARS
from feedback.stopwords import STOP_WORDS

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
    return (
        len(token) >= MIN_TERM_LENGTH
        and any(char.isalpha() for char in token)
        and token not in STOP_WORDS
    )


def _tokens(comment: str) -> Iterator[str]:
    # Typographic apostrophes are folded so "didn’t" matches the stop word.
    text = comment.lower().replace("\u2019", "'")
    yield from _TOKENIZER.tokenize(text)
