"""Deactivating a person who still owns open cases: their cases go to the
people chosen for each team first, through the reassign transition, so
every move is in the case's audit trail."""

from __future__ import annotations

from collections.abc import Mapping

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from cases.choices import OPEN_STATUSES
from cases.models import Case
from cases.services.transitions import case_reassign
from cvx_site.errors import DomainError, InvalidInput


def open_cases_owned_by(person) -> QuerySet[Case]:
    """Every open case `person` owns, whoever asks: the cases that would be
    left with an inactive owner. Pages list them through cases_visible_to."""
    return Case.objects.filter(owner=person, status__in=OPEN_STATUSES).select_related("team").order_by("team", "pk")


def person_deactivate(*, actor, person, owners_by_team: Mapping[int, object], note: str = "") -> list[Case]:
    """Give each open case of `person` to the owner chosen for its team
    (`owners_by_team`: team id -> user or user id) with case_reassign (one
    `case.assigned` event per case, by `actor`), then deactivate `person`.

    All or nothing: one transaction; when a team has no owner chosen or a
    reassignment is refused (the actor may not, the owner is not an active
    member of the team, the case changed meanwhile), nothing is changed and
    the error names the case. Returns the reassigned cases."""
    User = get_user_model()
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        if not person.is_active:
            raise InvalidInput(f"{person.get_username()} is already inactive.", field="person")
        if person.pk == actor.pk:
            raise InvalidInput("You cannot deactivate yourself.", field="person")
        note = note.strip() or f"{person.get_username()} was deactivated."
        moved = []
        for case in open_cases_owned_by(person):
            owner = owners_by_team.get(case.team_id)
            if owner in (None, ""):
                raise InvalidInput(
                    f"Choose who takes {person.get_username()}'s cases in {case.team} (case {case.number}).",
                    field=f"team_{case.team_id}",
                )
            try:
                moved.append(case_reassign(case_id=case.pk, actor=actor, owner=owner, note=note))
            except DomainError as exc:
                # The same kind of error, saying which case stopped the whole move.
                raise type(exc)(
                    f"Case {case.number} ({case.team}): {exc.message} Nothing was changed.",
                    field=f"team_{case.team_id}",
                ) from exc
        person.is_active = False
        person.save(update_fields=["is_active"])
    return moved
