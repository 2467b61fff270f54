"""The case writes and reads that bypass the ORM for speed, fenced here.

Each one keeps its plain ORM path beside it, which it must equal
(tests/cases/test_persistence.py) and which bench/bench_transition.py times
it against; what each saves is measured there and written in the README's
benchmark section. Nothing else in the apps builds SQL by hand for a case.

- `lock_case`: every transition starts by locking its case. The query is
  `selectors.cases_to_act_on(actor)` (the visibility rule, the case's team
  and whether the actor is in it) with FOR UPDATE, compiled by the ORM once
  per database and scope of the rule; each call only fills in the actor's
  and the case's ids and builds the instances from the row. It saves the
  ORM's building and compiling of that query on every transition. Plain
  path: `lock_case_orm`.
- `write_event_and_case`: on PostgreSQL the event's INSERT and the case's
  UPDATE are one statement (a data-modifying WITH), so one round trip
  instead of two. Plain path: the two ORM saves, which every other backend
  uses.

The generic fast path of the other apps, a binary COPY for bulk inserts,
is `cvx_site.db.bulk_insert` (feedback uses it, and may not import cases).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.db import connections, router

from cases.models import Case, CaseEvent
from cases.selectors import case_scope, cases_to_act_on
from journeys.models import Team

# --- locking a case --------------------------------------------------------------

# Stand-ins for the actor's and the case's ids while the query is compiled;
# the plan records where they land among the parameters. Far outside any id
# a table holds.
_ACTOR_ID = -(2**62) - 11
_CASE_ID = -(2**62) - 13


@dataclass(frozen=True)
class _LockPlan:
    sql: str | None  # None: the scope lets the actor see no case at all
    params: tuple = ()
    actor_at: tuple[int, ...] = ()  # indexes of params that take the actor's id
    case_at: tuple[int, ...] = ()  # ... and the case's
    converters: tuple = ()  # (column index, converters, expression): what the ORM applies to each column
    case_columns: tuple[tuple[int, ...], tuple[str, ...]] = ((), ())  # indexes, attnames
    team_columns: tuple[tuple[int, ...], tuple[str, ...]] = ((), ())
    in_team_column: int = -1


_LOCK_PLANS: dict[tuple[str, str], _LockPlan] = {}  # by (database alias, scope)


def lock_case(case_id: int, actor) -> tuple[Case | None, bool]:
    """The case if `actor` may see it (row-locked until the transaction
    ends, its team loaded) and whether the actor is in or leads its team;
    (None, False) when there is no such case or the actor may not see it.
    Call inside transaction.atomic(). The same result as lock_case_orm."""
    scope = case_scope(actor)
    connection = connections[router.db_for_write(Case)]
    plan = _LOCK_PLANS.get((connection.alias, scope)) or _lock_plan(connection, scope)
    if plan.sql is None:
        return None, False
    params = list(plan.params)
    for index in plan.actor_at:
        params[index] = actor.pk
    for index in plan.case_at:
        params[index] = case_id
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None, False
    if plan.converters:
        row = list(row)
        for index, converters, expression in plan.converters:
            for convert in converters:
                row[index] = convert(row[index], expression, connection)
    (case_at, case_names), (team_at, team_names) = plan.case_columns, plan.team_columns
    case = Case.from_db(connection.alias, case_names, [row[i] for i in case_at])
    case.team = Team.from_db(connection.alias, team_names, [row[i] for i in team_at])
    case.actor_in_team = bool(row[plan.in_team_column])
    return case, case.actor_in_team


def lock_case_orm(case_id: int, actor) -> tuple[Case | None, bool]:
    """lock_case by the ORM, query built and compiled on each call."""
    case = next(iter(_lock_query(actor, case_scope(actor), case_id)), None)
    return (case, case.actor_in_team) if case is not None else (None, False)


def _lock_query(actor, scope: str, case_id: int):
    return cases_to_act_on(actor, scope=scope).select_for_update(of=("self",)).filter(pk=case_id).order_by()


def _lock_plan(connection, scope: str) -> _LockPlan:
    """Compile lock_case_orm's query for `scope` with stand-in ids and note
    where they went. The selector reads the actor only through its id once
    the scope is given, so a stand-in user with the stand-in id compiles to
    the same SQL as any actor of that scope."""
    stand_in = get_user_model()(pk=_ACTOR_ID)
    queryset = _lock_query(stand_in, scope, _CASE_ID)
    compiler = queryset.query.get_compiler(connection=connection)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        plan = _LockPlan(sql=None)
    else:
        case_at = tuple(i for i, p in enumerate(params) if p == _CASE_ID)
        if not case_at:
            raise RuntimeError("lock_case: the case's id is not a parameter of the compiled query")
        select = compiler.select
        case_fields = tuple(compiler.klass_info["select_fields"])
        (team_info,) = compiler.klass_info["related_klass_infos"]
        team_fields = tuple(team_info["select_fields"])
        converters = compiler.get_converters([column for column, _, _ in select])
        plan = _LockPlan(
            sql=sql,
            params=tuple(params),
            case_at=case_at,
            actor_at=tuple(i for i, p in enumerate(params) if p == _ACTOR_ID),
            converters=tuple((i, tuple(found), expression) for i, (found, expression) in converters.items()),
            case_columns=(case_fields, tuple(select[i][0].target.attname for i in case_fields)),
            team_columns=(team_fields, tuple(select[i][0].target.attname for i in team_fields)),
            in_team_column=compiler.annotation_col_map["actor_in_team"],
        )
    _LOCK_PLANS[connection.alias, scope] = plan
    return plan


# --- appending an event and moving the case ----------------------------------------

# Backends that can insert the event and update the case in one statement (a
# data-modifying WITH); the tests switch it off to compare with the ORM path.
ONE_STATEMENT_VENDORS = frozenset({"postgresql"})
_EVENT_FIELDS = tuple(f for f in CaseEvent._meta.concrete_fields if not f.primary_key)
_WRITE_SQL: dict[tuple[str, ...], str] = {}  # by the case's columns: a few shapes, one per kind of change


def write_event_and_case(event: CaseEvent, case: Case, columns) -> None:
    """Insert the new `event` and update `columns` (field names or attnames)
    of `case`. Like save() without signals (the models have no receivers).
    On PostgreSQL one statement; elsewhere (and in the ORM path the tests
    compare with) the two ORM saves."""
    connection = connections[router.db_for_write(Case, instance=case)]
    if connection.vendor not in ONE_STATEMENT_VENDORS:
        event.save(force_insert=True, using=connection.alias)
        case.save(update_fields=list(columns), using=connection.alias)
        return
    fields = tuple(Case._meta.get_field(name) for name in columns)
    params = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in _EVENT_FIELDS]
    params += [f.get_db_prep_save(f.pre_save(case, False), connection) for f in fields]
    params.append(case.pk)
    with connection.cursor() as cursor:
        cursor.execute(_one_statement_sql(connection, tuple(f.column for f in fields)), params)
        row = cursor.fetchone()
    if row is None:  # cannot happen under the caller's row lock; no half-written chain either way
        raise Case.DoesNotExist(f"Case {case.pk} vanished while it was locked.")
    event.pk = row[0]
    event._state.adding, event._state.db = False, connection.alias


def _one_statement_sql(connection, case_columns: tuple[str, ...]) -> str:
    sql = _WRITE_SQL.get(case_columns)
    if sql is None:
        quote, event_meta, case_meta = connection.ops.quote_name, CaseEvent._meta, Case._meta
        event_pk = quote(event_meta.pk.column)
        # Names from the models' metadata, quoted by the backend; values are parameters.
        sql = _WRITE_SQL[case_columns] = (
            f"WITH e AS (INSERT INTO {quote(event_meta.db_table)} "  # nosec B608
            f"({', '.join(quote(f.column) for f in _EVENT_FIELDS)}) "
            f"VALUES ({', '.join(['%s'] * len(_EVENT_FIELDS))}) RETURNING {event_pk}) "
            f"UPDATE {quote(case_meta.db_table)} SET {', '.join(f'{quote(c)} = %s' for c in case_columns)} "
            f"FROM e WHERE {quote(case_meta.db_table)}.{quote(case_meta.pk.column)} = %s RETURNING e.{event_pk}"
        )
    return sql
