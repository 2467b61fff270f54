"""Small database expressions the apps share, written for both backends."""

from __future__ import annotations

from django.db.models import Aggregate, F, FloatField, Func, QuerySet


class Seconds(Func):
    """Seconds from `start` to `end` (two datetime columns), as a float."""

    output_field = FloatField()

    def __init__(self, end: str, start: str, **extra) -> None:
        super().__init__(F(end), F(start), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))",
                           arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="((julianday(%(expressions)s)) * 86400.0)",
                           arg_joiner=") - julianday(", **extra)


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
