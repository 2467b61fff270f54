"""Fixtures of the feedback tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _builtin_lexicon_after_tuning():
    """A test that tuned the CX lexicon leaves the process on the built-in
    one: its rows are rolled back, and scoring that reads no database
    (`feedback.sentiment.score_sentiment`) must not keep them."""
    yield
    from feedback import lexicon

    if lexicon.lexicon_is_tuned():
        lexicon.forget_lexicon()
