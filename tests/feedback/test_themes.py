"""Themes: recurring terms and two-word phrases across comments."""

from __future__ import annotations

from feedback.sentiment import COMMENT_MAX_CHARS
from feedback.stopwords import STOP_WORDS
from feedback.themes import Theme, comment_themes, extract_themes

COMMENTS = [
    "The wait time was awful. Wait time, again!",
    "Awful wait time; nobody called back.",
    "Nobody called me back about the REFUND 2024",
    "Refund ok",
]


def test_themes_match_the_hand_counted_expectation():
    # Each count is the number of comments holding the phrase; ties go alphabetically.
    assert extract_themes(COMMENTS, top=20) == [
        Theme("awful", 2),
        Theme("back", 2),
        Theme("called", 2),
        Theme("nobody", 2),
        Theme("nobody called", 2),
        Theme("refund", 2),
        Theme("time", 2),
        Theme("wait", 2),
        Theme("wait time", 2),
        Theme("awful wait", 1),
        Theme("called back", 1),
    ]


def test_top_keeps_only_the_highest_ranked_themes():
    assert extract_themes(COMMENTS, top=3) == [Theme("awful", 2), Theme("back", 2), Theme("called", 2)]
    assert extract_themes(COMMENTS, top=0) == []


def test_a_phrase_repeated_in_one_comment_counts_once():
    themes = extract_themes(["slow slow slow", "Slow!"])

    assert themes == [Theme("slow", 2), Theme("slow slow", 1)]


def test_stop_words_short_tokens_and_numbers_are_not_themes():
    comment = "I would also get it on 12 05 2024, they didn’t and we’re ok"

    assert comment_themes(comment) == set()


def test_typographic_apostrophes_are_folded_into_stop_words():
    assert "didn't" in STOP_WORDS
    assert comment_themes("didn’t refund") == {"refund"}


def test_bigrams_do_not_bridge_a_removed_word_or_punctuation():
    assert comment_themes("delivery was late") == {"delivery", "late"}
    assert comment_themes("delivery, late") == {"delivery", "late"}
    assert comment_themes("delivery 42 late") == {"delivery", "late"}
    assert comment_themes("Delivery LATE") == {"delivery", "late", "delivery late"}


def test_themes_read_each_comment_only_up_to_the_cap():
    comment = "." * (COMMENT_MAX_CHARS - 1) + " refund"

    assert extract_themes([comment]) == []
    assert extract_themes([comment[COMMENT_MAX_CHARS - 10 :]]) == [Theme("refund", 1)]


def test_themes_accept_any_iterable_of_comments():
    assert extract_themes(comment for comment in ["Refund late", "late refund"]) == [
        Theme("late", 2),
        Theme("refund", 2),
        Theme("late refund", 1),
        Theme("refund late", 1),
    ]
