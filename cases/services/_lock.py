"""Locking a case for an action: the case row, its team, and whether the
actor is in or leads that team, from one query whose SQL is built once.

Every transition starts here, so the ORM's per-call query building (most of
the Python in a transition) is done once per database, not per call
(bench/bench_transition.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connections, router

from cases.models import Case
from journeys.models import Team


@dataclass(frozen=True)
class _Plan:
    sql: str
    converters: tuple  # (column index, converters, expression) for the columns that need converting


_PLANS: dict[str, _Plan] = {}  # by database vendor
_CASE_FIELDS = tuple(Case._meta.concrete_fields)
_TEAM_FIELDS = tuple(Team._meta.concrete_fields)
_CASE_NAMES = tuple(f.attname for f in _CASE_FIELDS)
_TEAM_NAMES = tuple(f.attname for f in _TEAM_FIELDS)


def lock_case(case_id: int, actor) -> tuple[Case | None, bool]:
    """The case (row-locked until the transaction ends, its team loaded) and
    whether `actor` is a member or the lead of its team (the rule of
    journeys.selectors.teams_of, which the tests hold this to); (None, False)
    when there is no such case. Call inside transaction.atomic()."""
    connection = connections[router.db_for_write(Case)]
    plan = _PLANS.get(connection.vendor) or _plan(connection)
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [actor.pk, actor.pk, case_id])
        row = cursor.fetchone()
    if row is None:
        return None, False
    if plan.converters:
        row = list(row)
        for index, converters, expression in plan.converters:
            for convert in converters:
                row[index] = convert(row[index], expression, connection)
    n = len(_CASE_FIELDS)
    case = Case.from_db(connection.alias, _CASE_NAMES, row[:n])
    case.team = Team.from_db(connection.alias, _TEAM_NAMES, row[n:n + len(_TEAM_FIELDS)])
    return case, bool(row[-1])


def _plan(connection) -> _Plan:
    quote, features = connection.ops.quote_name, connection.features
    case_table, team_table = quote(Case._meta.db_table), quote(Team._meta.db_table)
    case_team = f"{case_table}.{quote(Case._meta.get_field('team').column)}"
    members = Team._meta.get_field("members")
    membership = members.remote_field.through._meta
    member_team = quote(membership.get_field(members.m2m_field_name()).column)
    member_user = quote(membership.get_field(members.m2m_reverse_field_name()).column)
    columns = [f"{case_table}.{quote(f.column)}" for f in _CASE_FIELDS]
    columns += [f"{team_table}.{quote(f.column)}" for f in _TEAM_FIELDS]
    # Only names from the models' metadata, quoted by the backend, go into the
    # text; every value is a parameter.
    sql = (
        f"SELECT {', '.join(columns)}, ({team_table}.{quote(Team._meta.get_field('lead').column)} = %s "  # nosec B608
        f"OR EXISTS (SELECT 1 FROM {quote(membership.db_table)} WHERE {member_user} = %s "
        f"AND {member_team} = {case_team})) "
        f"FROM {case_table} INNER JOIN {team_table} ON {case_team} = {team_table}.{quote(Team._meta.pk.column)} "
        f"WHERE {case_table}.{quote(Case._meta.pk.column)} = %s"
    )
    if features.has_select_for_update_of:
        sql += " " + connection.ops.for_update_sql(of=(case_table,))
    elif features.has_select_for_update:
        sql += " " + connection.ops.for_update_sql()
    # What the ORM would apply to each column: e.g. SQLite's text datetimes and 0/1 booleans.
    converters = []
    for index, (field, table) in enumerate([*((f, Case._meta.db_table) for f in _CASE_FIELDS),
                                            *((f, Team._meta.db_table) for f in _TEAM_FIELDS)]):
        expression = field.get_col(table)
        found = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
        if found:
            converters.append((index, tuple(found), expression))
    plan = _PLANS[connection.vendor] = _Plan(sql, tuple(converters))
    return plan
