"""Start-up checks for the feedback app."""

from __future__ import annotations

from django.core.checks import CheckMessage, Error

from feedback import sentiment

#: The tag `manage.py check --tag feedback` selects these checks by.
TAG = "feedback"


def check_vader_lexicon(app_configs=None, **kwargs) -> list[CheckMessage]:
    """feedback.E001: the VADER lexicon is neither installed in the NLTK data
    directory nor available from the vaderSentiment package to install.
    feedback.E002: NLTK will refuse the data directory (or the file) because
    another account could write to it.

    Reads only; installing happens on first use or by `install_nltk_data`.
    """
    data_dir = sentiment.nltk_data_dir()
    refused = sentiment.nltk_refused_path(data_dir)
    if refused is not None:
        return [
            Error(
                f"NLTK will not read the VADER lexicon from {refused}: another account owns it or can write to it.",
                hint=f"Run `chmod go-w {refused}` (as its owner), or set NLTK_DATA_DIR elsewhere.",
                id="feedback.E002",
            )
        ]
    if sentiment.lexicon_problem(data_dir) is None or sentiment.vader_source_path() is not None:
        return []
    return [
        Error(
            f"The VADER lexicon is missing: not in the NLTK data directory {data_dir} "
            f"(as {sentiment.LEXICON_RESOURCE}), and the `{sentiment.VADER_PACKAGE}` "
            "package that ships it is not installed.",
            hint=(
                f"Install the pinned `{sentiment.VADER_PACKAGE}` package (pip install -e .) "
                "and run `manage.py install_nltk_data`; do not use nltk.download()."
            ),
            id="feedback.E001",
        )
    ]
