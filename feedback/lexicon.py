"""The CX lexicon this installation scores with: the built-in one of
`feedback.text` plus what CX admins add in the admin.

`analyse_comments` is what ingestion and `rescore_feedback` call: it reads
every comment with the current lexicon.
"""

from __future__ import annotations

from collections.abc import Iterable

from feedback.text import Analysis, CXLexicon, default_lexicon


def current_lexicon() -> CXLexicon:
    """The lexicon to score with now."""
    return default_lexicon()


def analyse_comments(texts: Iterable[str]) -> list[Analysis]:
    """`feedback.text` Analysis of each text, in order, all with the current
    lexicon. Blank texts are neutral with no intents; a batch without any
    text (scores only) builds and checks nothing, and its analyses name no
    lexicon."""
    texts = list(texts)
    if not any(texts):
        return [Analysis(0.0, "neutral", (), (), "") for _text in texts]
    lexicon = current_lexicon()
    return [lexicon.analyse(text) for text in texts]
