"""The benchmarks' data set (bench/fill.py) is written by binary COPY with
its own column lists, so a column the models gain without a database
default would break `make bench` and nothing else. Checked against the
migrated PostgreSQL tables themselves: every column COPY must fill (NOT
NULL, no default) is listed, and every listed column exists with the type
the COPY sends."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def fill_module():
    sys.path.insert(0, str(BENCH))
    try:
        import fill

        yield fill
    finally:
        sys.path.remove(str(BENCH))


def _columns(table: str) -> dict[str, tuple[str, bool]]:
    """column -> (its type's name, whether COPY must give it a value)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, udt_name, is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'"
            " FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
        return {name: (udt, required) for name, udt, required in cursor.fetchall()}


@pytest.mark.parametrize(
    "table, listed",
    [
        ("feedback_feedbackresponse", "RESPONSE_COLUMNS"),
        ("cases_case", "CASE_COLUMNS"),
        ("cases_routedresponse", "ROUTED_COLUMNS"),
    ],
)
def test_the_bench_copy_lists_every_column_the_table_requires(fill_module, table, listed):
    columns = _columns(table)
    assert columns, table
    copied = dict(getattr(fill_module, listed))
    missing = sorted(name for name, (_udt, required) in columns.items() if required and name not in copied)
    assert missing == [], f"bench/fill.py {listed} lacks {missing}: COPY would write NULL into NOT NULL columns"
    wrong = {name: (sent, columns.get(name, ("no such column",))[0]) for name, sent in copied.items()}
    assert {name: pair for name, pair in wrong.items() if pair[0] != pair[1]} == {}
