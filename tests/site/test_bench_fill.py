"""The benchmarks write their data set by COPY with their own column lists
(bench/fill.py's, and the statements written out in the other scripts), so
a column the models gain without a database default would break `make
bench` and nothing else. Checked against the migrated PostgreSQL tables
themselves: every column COPY must fill (NOT NULL, no default) is listed,
and every listed column exists (with the type a binary COPY sends)."""

from __future__ import annotations

import re
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


# A COPY statement written out in a benchmark (not built from a list).
COPY_STATEMENT = re.compile(r"COPY (\w+) \(([\w, ]+)\) FROM STDIN")


def test_every_copy_written_out_in_the_benchmarks_lists_what_its_table_requires():
    statements = [
        (path.name, table, [name.strip() for name in names.split(",")])
        for path in sorted(BENCH.glob("*.py"))
        for table, names in COPY_STATEMENT.findall(path.read_text())
        if not table.startswith("bench_")  # the benchmarks' own temporary tables
    ]
    assert statements, "no COPY statement found: the pattern no longer matches the benchmarks"
    for script, table, names in statements:
        columns = _columns(table)
        assert columns, (script, table)
        assert [name for name in names if name not in columns] == [], (script, table)
        missing = sorted(name for name, (_udt, required) in columns.items() if required and name not in names)
        assert missing == [], f"{script}: COPY {table} lacks {missing}"
