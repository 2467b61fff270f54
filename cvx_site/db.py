"""Small database expressions the apps share, written for both backends."""

from __future__ import annotations

import contextlib
import operator
import re
from collections.abc import Iterator, Sequence
from typing import TypeVar

from django.db import connections, router, transaction
from django.db.models import Aggregate, F, FloatField, Func, Model, QuerySet

M = TypeVar("M", bound=Model)


class Seconds(Func):
    """Seconds from `start` to `end` (two datetime columns), as a float."""

    output_field = FloatField()

    def __init__(self, end: str, start: str, **extra) -> None:
        super().__init__(F(end), F(start), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - ", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class PercentileCont(Aggregate):
    """PostgreSQL's PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY expr)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percentile: float, **extra) -> None:
        super().__init__(expression, percentile=float(percentile), **extra)


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks: the same answer as
    PostgreSQL's PERCENTILE_CONT, for backends without it."""
    if not sorted_values:
        return None
    position = p * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def grouped(queryset: QuerySet, keys: list[str], **aggregates) -> list[dict]:
    """`aggregates` per distinct `keys`, in key order (one overall row without keys)."""
    if not keys:
        return [queryset.aggregate(**aggregates)]
    return list(queryset.values(*keys).annotate(**aggregates).order_by(*keys))


# Field types whose Python value psycopg dumps as-is for the column's type.
_COPY_AS_IS = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateTimeField",
    "FloatField",
    "ForeignKey",
    "IntegerField",
    "JSONField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
}


def bulk_insert(objs: Sequence[M]) -> Sequence[M]:
    """Insert new instances of one model and set their primary keys, like
    `bulk_create` (no save(), no signals; constraint violations raise
    IntegrityError and write nothing).

    On PostgreSQL the rows go in with one binary COPY, their ids taken from
    the table's sequence first: faster than bulk_create's INSERTs for the
    write stage of ingestion (bench/bench_ingest.py; figures in the README's
    Benchmarks). Elsewhere it is bulk_create, the plain path
    tests/site/test_bulk_insert.py holds it equal to. The one fast path of
    this kind outside cases/persistence.py, which has the case-specific
    ones: feedback uses it and may not import cases. Values are written as they are on the
    instances: defaults are applied by the model's __init__, and a model
    with a field type psycopg cannot take as-is is refused.
    """
    if not objs:
        return objs
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        return model._default_manager.bulk_create(objs, batch_size=500)
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    unsupported = [f.name for f in [meta.pk, *fields] if f.get_internal_type() not in _COPY_AS_IS]
    if unsupported:
        raise TypeError(f"bulk_insert cannot COPY {model.__name__} fields {unsupported}; use bulk_create.")
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [meta.pk, *fields])
    # "varchar(40)" -> "varchar": psycopg wants the type's name.
    types = [re.sub(r"\(.*\)$", "", f.db_type(connection)) for f in [meta.pk, *fields]]
    _take_related_ids(objs, [f for f in fields if f.is_relation])
    values = operator.attrgetter(*(f.attname for f in fields))
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objs)],
        )
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for pk, obj in zip(ids, objs):
                copy.write_row((pk, *values(obj)) if len(fields) > 1 else (pk, values(obj)))
    for pk, obj in zip(ids, objs):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias
    return objs


def _take_related_ids(objs: Sequence[Model], relations: list) -> None:
    """obj.customer_id from obj.customer when that was saved after being
    assigned, as bulk_create does; an unsaved related object is an error."""
    for obj in objs:
        for field in relations:
            if getattr(obj, field.attname) is None and field.is_cached(obj):
                related = field.get_cached_value(obj)
                if related is not None:
                    if related.pk is None:
                        raise ValueError(f"bulk_insert: {field.name} of {obj!r} is not saved.")
                    setattr(obj, field.attname, related.pk)


@contextlib.contextmanager
def planned_as_lookup(using: str = "default") -> Iterator[None]:
    """Plan the enclosed queries without parallel workers and without JIT
    compilation on PostgreSQL (elsewhere: nothing changes).

    For queries that find a few rows through indexes but that the planner
    prices as big ones. It keeps no statistics of the words in a full-text
    match, so it guesses a fixed share of the table; on a large table that
    guess crosses the thresholds for starting parallel workers and for
    compiling the plan, each of which then costs many times the index
    lookups themselves. The two settings are local to a transaction (a
    savepoint inside one) and put back as they were when the block ends."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    inside_a_transaction = connection.in_atomic_block
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('max_parallel_workers_per_gather'), current_setting('jit'),"
                " set_config('max_parallel_workers_per_gather', '0', true), set_config('jit', 'off', true)"
            )
            workers, jit = cursor.fetchone()[:2]
        yield
        if not inside_a_transaction:
            return  # the commit ends them
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('max_parallel_workers_per_gather', %s, true), set_config('jit', %s, true)",
                [workers, jit],
            )
