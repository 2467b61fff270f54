"""Sentiment of feedback comments: NLTK's VADER analyzer, one per process,
read through the CX layer (`feedback.text`) by `score_sentiment`/`score_many`.

NLTK's analyzer reads its lexicon only through NLTK's data search path, and
NLTK refuses any directory another account could write to. The lexicon file
itself ships inside the `vaderSentiment` package, so it is copied into our own
NLTK data directory (``settings.NLTK_DATA_DIR``) on first use, or ahead of time
by ``manage.py install_nltk_data``.
"""

from __future__ import annotations

import os
import stat
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import nltk.data
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from nltk import pathsec
from nltk.sentiment.vader import SentimentIntensityAnalyzer

from feedback.choices import SentimentLabel

#: Comments are capped at ingestion; scoring truncates again so that no caller
#: can hand a worker an unbounded text.
COMMENT_MAX_CHARS = 5000

#: docs/architecture.md (Metrics): negative at or below -0.05, positive at or above 0.05.
NEGATIVE_THRESHOLD = -0.05
POSITIVE_THRESHOLD = 0.05

#: The lexicon's name inside an NLTK data directory. NLTK accepts only a
#: relative resource name here (an absolute path is refused as unsafe).
LEXICON_RESOURCE = "sentiment/vader_lexicon/vader_lexicon.txt"

VADER_PACKAGE = "vaderSentiment"
VADER_LEXICON_FILE = "vader_lexicon.txt"


@dataclass(frozen=True)
class SentimentScore:
    """VADER's compound score in [-1, 1] and its sentiment label."""

    compound: float
    label: SentimentLabel


NEUTRAL_EMPTY = SentimentScore(compound=0.0, label=SentimentLabel.NEUTRAL)


def nltk_data_dir() -> Path:
    """The NLTK data directory this project installs into and reads from."""
    return Path(getattr(settings, "NLTK_DATA_DIR", Path(settings.DATA_DIR) / "nltk_data"))


def vader_source_path() -> Path | None:
    """The lexicon file shipped in the `vaderSentiment` package, or None when
    the package or the file is missing."""
    try:
        candidate = resources.files(VADER_PACKAGE) / VADER_LEXICON_FILE
    except ModuleNotFoundError:
        return None
    path = Path(str(candidate))
    return path if path.is_file() else None


def sentiment_label(compound: float) -> SentimentLabel:
    """The sentiment label of a compound score; the thresholds belong to the
    negative and positive sides."""
    if compound <= NEGATIVE_THRESHOLD:
        return SentimentLabel.NEGATIVE
    if compound >= POSITIVE_THRESHOLD:
        return SentimentLabel.POSITIVE
    return SentimentLabel.NEUTRAL


def score_sentiment(text: str) -> SentimentScore:
    """Score one comment with the CX layer (`feedback.text`): VADER with the
    domain lexicon, phrases and emoji, using the process's current lexicon
    (`feedback.text.default_lexicon()`; `feedback.lexicon.lexicon_refresh()`
    brings it up to date with the admin's rows).

    Only the first COMMENT_MAX_CHARS characters are scored, so the result for a
    longer text equals the result for that prefix. A prefix that is empty or
    only whitespace scores 0.0 / neutral without loading the analyzer.
    """
    return score_many([text])[0]


def score_many(texts: Iterable[str]) -> list[SentimentScore]:
    """Score each text as `score_sentiment` does, in input order."""
    # feedback.text reads this module's analyzer and thresholds: imported here.
    from feedback.text import default_lexicon

    lexicon = None
    scores = []
    for text in texts:
        if not text[:COMMENT_MAX_CHARS].strip():
            scores.append(NEUTRAL_EMPTY)
            continue
        lexicon = lexicon or default_lexicon()
        analysis = lexicon.analyse(text)
        scores.append(SentimentScore(compound=analysis.compound, label=SentimentLabel(analysis.label)))
    return scores


def vader_sentiment(text: str) -> SentimentScore:
    """Plain NLTK VADER, without the CX layer: the baseline the evaluation
    (bench/eval_text.py) compares the CX layer with. Same clipping and blank
    rule as `score_sentiment`."""
    clipped = text[:COMMENT_MAX_CHARS]
    if not clipped.strip():
        return NEUTRAL_EMPTY
    compound = float(get_analyzer().polarity_scores(clipped)["compound"])
    return SentimentScore(compound=compound, label=sentiment_label(compound))


_analyzer: SentimentIntensityAnalyzer | None = None
_analyzer_lock = threading.Lock()


def get_analyzer() -> SentimentIntensityAnalyzer:
    """The process's analyzer, built on first call from `nltk_data_dir()`
    (installing the lexicon there if needed); later calls return the same one.

    Raises ImproperlyConfigured when the lexicon can be neither found nor
    installed (the `feedback.E001`/`E002` checks report the same at start-up).
    """
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                _analyzer = build_analyzer(nltk_data_dir())
    return _analyzer


def build_analyzer(data_dir: Path) -> SentimentIntensityAnalyzer:
    """A new analyzer whose lexicon comes from `data_dir`, installed there
    first when missing. Puts `data_dir` first on NLTK's search path.

    NLTK caches a loaded resource by its name for the life of the process, so
    a second analyzer built here reuses the first one's lexicon text, whatever
    `data_dir` it is given. Production builds one (`get_analyzer`).
    """
    data_dir = Path(data_dir).resolve()
    if lexicon_problem(data_dir) is not None:
        install_vader_lexicon(data_dir)
    entry = str(data_dir)
    # First, so a same-named file in ~/nltk_data or $NLTK_DATA cannot win.
    if entry in nltk.data.path:
        nltk.data.path.remove(entry)
    nltk.data.path.insert(0, entry)
    return SentimentIntensityAnalyzer(lexicon_file=LEXICON_RESOURCE)


def install_vader_lexicon(data_dir: Path) -> Path:
    """Copy vaderSentiment's lexicon to `<data_dir>/sentiment/vader_lexicon/`
    and return the installed file's path.

    Idempotent: an up-to-date copy is left untouched. The file is replaced
    atomically, so a concurrent reader sees the old or the new copy, never a
    partial one. On return NLTK will read the file from `data_dir`; otherwise
    ImproperlyConfigured says why.
    """
    data_dir = Path(data_dir)
    source = vader_source_path()
    if source is None:
        raise ImproperlyConfigured(
            f"the VADER lexicon cannot be installed: {VADER_PACKAGE}/{VADER_LEXICON_FILE} "
            f"was not found. Install the `{VADER_PACKAGE}` package pinned in pyproject.toml."
        )
    target = data_dir / LEXICON_RESOURCE
    content = _normalised_lexicon(source.read_bytes())
    if not _up_to_date(target, content):
        _make_dirs(data_dir)
        _write_atomically(target, content)
    problem = lexicon_problem(data_dir)
    if problem is not None:
        raise ImproperlyConfigured(problem)
    return target


def lexicon_problem(data_dir: Path) -> str | None:
    """Why NLTK would not load the lexicon from `data_dir`, or None if it would."""
    data_dir = Path(data_dir)
    refused = nltk_refused_path(data_dir)
    if refused is not None:
        return (
            f"NLTK refuses to read {refused}: it is owned by another account or "
            f"writable by group/others. Run `chmod go-w {refused}`."
        )
    try:
        nltk.data.find(LEXICON_RESOURCE, paths=[str(data_dir)])
    except LookupError:
        return f"the VADER lexicon is not installed at {data_dir / LEXICON_RESOURCE}"
    return None


def nltk_refused_path(data_dir: Path) -> Path | None:
    """The first existing directory or file from `data_dir` down to the lexicon
    that NLTK will not trust (owned by another account, or group/world
    writable), or None."""
    if os.name != "posix" or not pathsec.ENFORCE:
        return None
    for directory in _lexicon_dirs(Path(data_dir)):
        if not directory.exists():
            return None
        if not pathsec.is_private_dir(str(directory)):
            return directory
    target = Path(data_dir) / LEXICON_RESOURCE
    if target.exists() and not _is_private(target.stat()):
        return target
    return None


def _lexicon_dirs(data_dir: Path) -> list[Path]:
    """`data_dir` and each directory below it on the way to the lexicon."""
    dirs = [data_dir]
    for part in Path(LEXICON_RESOURCE).parent.parts:
        dirs.append(dirs[-1] / part)
    return dirs


def _is_private(st: os.stat_result) -> bool:
    # The rule NLTK applies to a data file before reading it.
    owned = st.st_uid in (os.geteuid(), 0)
    return owned and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _up_to_date(target: Path, content: bytes) -> bool:
    # NLTK's open also refuses a symlink or a hard-linked file, so such a copy
    # is replaced rather than kept.
    try:
        st = target.lstat()
    except FileNotFoundError:
        return False
    trusted = stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and _is_private(st)
    return trusted and target.read_bytes() == content


def _normalised_lexicon(raw: bytes) -> bytes:
    # NLTK splits the file on "\n" and fails on any blank line (a trailing
    # newline included), so drop blank lines and the upstream CRLF endings.
    lines = raw.decode("utf-8").splitlines()
    return "\n".join(line for line in lines if line.strip()).encode("utf-8")


def _make_dirs(data_dir: Path) -> None:
    # Directories we create get 0o755 whatever the umask: NLTK refuses a
    # group-writable one (a umask of 002 would otherwise produce it).
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    for directory in _lexicon_dirs(data_dir):
        try:
            directory.mkdir()
        except FileExistsError:
            continue
        directory.chmod(0o755)


def _write_atomically(target: Path, content: bytes) -> None:
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=".vader_lexicon.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
