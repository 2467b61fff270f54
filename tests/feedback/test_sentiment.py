"""Sentiment scoring with NLTK's real VADER analyzer, and its lexicon install."""

from __future__ import annotations

import os
import stat
from io import StringIO

import nltk.data
import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from feedback import sentiment
from feedback.checks import TAG, check_vader_lexicon
from feedback.choices import SentimentLabel
from feedback.sentiment import (
    COMMENT_MAX_CHARS,
    LEXICON_RESOURCE,
    SentimentScore,
    build_analyzer,
    get_analyzer,
    install_vader_lexicon,
    lexicon_problem,
    score_many,
    score_sentiment,
    sentiment_label,
)


@pytest.fixture
def nltk_search_path(monkeypatch):
    """nltk.data.path emptied for one test and restored afterwards."""
    search_path: list[str] = []
    monkeypatch.setattr(nltk.data, "path", search_path)
    return search_path


@pytest.fixture
def without_vader_package(monkeypatch):
    monkeypatch.setattr(sentiment, "VADER_PACKAGE", "vaderSentiment_is_not_installed")
    assert sentiment.vader_source_path() is None


# --- scoring ---------------------------------------------------------------


def test_rude_agent_and_long_wait_scores_negative():
    score = score_sentiment("The agent was rude and I waited two hours")

    assert score.label == SentimentLabel.NEGATIVE
    assert score.compound <= -0.05


def test_praise_scores_positive():
    score = score_sentiment("Brilliant service, the staff were so helpful, thank you!")

    assert score.label == SentimentLabel.POSITIVE
    assert score.compound >= 0.5


def test_plain_statement_scores_neutral():
    assert score_sentiment("The parcel arrived on Tuesday") == SentimentScore(0.0, SentimentLabel.NEUTRAL)


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_or_blank_text_scores_zero_neutral(text):
    assert score_sentiment(text) == SentimentScore(compound=0.0, label=SentimentLabel.NEUTRAL)


@pytest.mark.parametrize(
    ("compound", "label"),
    [
        (-1.0, SentimentLabel.NEGATIVE),
        (-0.05, SentimentLabel.NEGATIVE),
        (-0.0499, SentimentLabel.NEUTRAL),
        (0.0, SentimentLabel.NEUTRAL),
        (0.0499, SentimentLabel.NEUTRAL),
        (0.05, SentimentLabel.POSITIVE),
        (1.0, SentimentLabel.POSITIVE),
    ],
)
def test_label_thresholds_belong_to_the_negative_and_positive_sides(compound, label):
    assert sentiment_label(compound) == label


def test_huge_text_is_scored_as_its_first_comment_max_chars():
    praise = "Brilliant service, the staff were so helpful, thank you! "
    head = (praise + "The parcel arrived on Tuesday. " * COMMENT_MAX_CHARS)[:COMMENT_MAX_CHARS]
    tail = "Terrible, awful, rude, useless. " * 40_000
    huge = head + tail
    assert len(huge) > 1_000_000

    score = score_sentiment(huge)

    assert score == score_sentiment(head)
    # The tail alone is strongly negative, so a positive score shows it was cut.
    assert score_sentiment(tail).label == SentimentLabel.NEGATIVE
    assert score.label == SentimentLabel.POSITIVE


def test_score_many_scores_each_text_in_order():
    texts = [
        "Brilliant service, the staff were so helpful, thank you!",
        "",
        "The agent was rude and I waited two hours",
    ]

    scores = score_many(iter(texts))

    assert scores == [score_sentiment(text) for text in texts]
    assert [score.label for score in scores] == ["positive", "neutral", "negative"]


def test_the_analyzer_is_built_once_per_process():
    assert get_analyzer() is get_analyzer()


# --- installing the lexicon ------------------------------------------------


def test_install_vader_lexicon_is_idempotent(tmp_path):
    data_dir = tmp_path / "nltk_data"

    first = install_vader_lexicon(data_dir)
    inode = first.stat().st_ino
    second = install_vader_lexicon(data_dir)

    assert first == second == data_dir / LEXICON_RESOURCE
    assert second.stat().st_ino == inode  # not rewritten: a rewrite is a new file
    assert sorted(p.name for p in first.parent.iterdir()) == ["vader_lexicon.txt"]


def test_installed_lexicon_has_every_source_entry_and_no_blank_line(tmp_path):
    installed = install_vader_lexicon(tmp_path / "nltk_data").read_text("utf-8")

    source_lines = sentiment.vader_source_path().read_text("utf-8").splitlines()
    assert installed.split("\n") == [line for line in source_lines if line.strip()]
    assert len(source_lines) > 7000


def test_installed_lexicon_is_loaded_by_nltk_from_that_directory(tmp_path, nltk_search_path):
    data_dir = tmp_path / "nltk_data"
    installed = install_vader_lexicon(data_dir)
    nltk_search_path.append(str(data_dir))

    # cache=False: NLTK caches resources by name, so this proves a real read.
    text = nltk.data.load("nltk:" + LEXICON_RESOURCE, format="text", cache=False)
    analyzer = build_analyzer(data_dir)

    assert text == installed.read_text("utf-8")
    assert text.count("\n") > 7000
    assert analyzer.lexicon["rude"] < 0 < analyzer.lexicon["helpful"]
    assert analyzer.polarity_scores("so helpful")["compound"] > 0
    assert nltk_search_path[0] == str(data_dir.resolve())


def test_install_under_a_loose_umask_still_gives_directories_nltk_accepts(tmp_path):
    data_dir = tmp_path / "nltk_data"
    previous = os.umask(0o002)
    try:
        install_vader_lexicon(data_dir)
    finally:
        os.umask(previous)

    for directory in [data_dir, data_dir / "sentiment", data_dir / "sentiment" / "vader_lexicon"]:
        assert not directory.stat().st_mode & (stat.S_IWGRP | stat.S_IWOTH), directory
    assert lexicon_problem(data_dir) is None


def test_install_replaces_a_group_writable_copy(tmp_path):
    installed = install_vader_lexicon(tmp_path / "nltk_data")
    installed.chmod(0o666)

    install_vader_lexicon(tmp_path / "nltk_data")

    assert stat.S_IMODE(installed.stat().st_mode) == 0o644


def test_group_writable_data_dir_is_reported_not_silently_skipped(tmp_path):
    data_dir = tmp_path / "nltk_data"
    install_vader_lexicon(data_dir)
    data_dir.chmod(0o775)

    assert "chmod go-w" in lexicon_problem(data_dir)
    with pytest.raises(ImproperlyConfigured, match="NLTK refuses to read"):
        install_vader_lexicon(data_dir)


def test_install_without_the_vader_package_says_what_to_install(tmp_path, without_vader_package):
    with pytest.raises(ImproperlyConfigured, match="vaderSentiment_is_not_installed"):
        install_vader_lexicon(tmp_path / "nltk_data")

    assert not (tmp_path / "nltk_data").exists()


def test_install_nltk_data_command_installs_and_prints_where(tmp_path):
    out = StringIO()

    call_command("install_nltk_data", data_dir=tmp_path / "nltk_data", stdout=out)

    installed = tmp_path / "nltk_data" / LEXICON_RESOURCE
    assert installed.is_file()
    assert str(installed) in out.getvalue()


# --- the system check --------------------------------------------------------


def test_check_passes_with_the_configured_data_dir():
    assert check_vader_lexicon() == []


def test_check_passes_when_the_lexicon_is_not_installed_yet_but_installable(settings, tmp_path):
    settings.NLTK_DATA_DIR = tmp_path / "empty"

    assert check_vader_lexicon() == []


def test_check_reports_e001_when_lexicon_is_nowhere(settings, tmp_path, without_vader_package):
    (tmp_path / "empty").mkdir()
    settings.NLTK_DATA_DIR = tmp_path / "empty"

    errors = check_vader_lexicon()

    assert [error.id for error in errors] == ["feedback.E001"]
    assert str(tmp_path / "empty") in errors[0].msg
    assert "install_nltk_data" in errors[0].hint


def test_check_is_registered_with_django_under_the_feedback_tag(settings, tmp_path, without_vader_package):
    settings.NLTK_DATA_DIR = tmp_path / "empty"

    assert [error.id for error in run_checks(tags=[TAG])] == ["feedback.E001"]


def test_check_accepts_an_installed_lexicon_without_the_vader_package(settings, tmp_path, monkeypatch):
    data_dir = tmp_path / "nltk_data"
    install_vader_lexicon(data_dir)
    settings.NLTK_DATA_DIR = data_dir
    monkeypatch.setattr(sentiment, "VADER_PACKAGE", "vaderSentiment_is_not_installed")

    assert check_vader_lexicon() == []


def test_check_reports_e002_when_nltk_would_refuse_the_data_dir(settings, tmp_path):
    data_dir = tmp_path / "nltk_data"
    data_dir.mkdir(mode=0o700)
    data_dir.chmod(0o777)
    settings.NLTK_DATA_DIR = data_dir

    errors = check_vader_lexicon()

    assert [error.id for error in errors] == ["feedback.E002"]
    assert f"chmod go-w {data_dir}" in errors[0].hint
