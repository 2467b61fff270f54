"""Saved filters: a person's named queue views. Each belongs to one user,
who alone lists, saves and deletes theirs."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import QueryDict

from cases.models import SavedFilter
from cvx_site.errors import InvalidInput, NotFound
from cvx_site.inputs import text_problem

logger = logging.getLogger(__name__)

# The queues a filter can be saved on (cases.selectors.queue's names).
QUEUE_NAMES = ("mine", "recent", "follow_up", "closed", "team", "all")
NAME_MAX_CHARS = SavedFilter._meta.get_field("name").max_length
QUERY_MAX_CHARS = SavedFilter._meta.get_field("query").max_length
# Paging is where one is in a list, not what the list holds.
_NOT_SAVED = ("after",)


def saved_filters_of(user) -> list[SavedFilter]:
    return list(SavedFilter.objects.filter(user=user).order_by("name"))


def saved_filter_save(*, user, name: str, queue: str, query: str) -> SavedFilter:
    """Save the filters of `query` (a URL query string; the cursor dropped)
    on `queue` under `name`, replacing the user's filter of that name."""
    name = " ".join(str(name).split())
    if not name:
        raise InvalidInput("Give the filter a name.", field="name")
    if len(name) > NAME_MAX_CHARS:
        raise InvalidInput(f"At most {NAME_MAX_CHARS} characters.", field="name")
    if problem := text_problem(name):
        raise InvalidInput(f"The name {problem}.", field="name")
    if queue not in QUEUE_NAMES:
        raise InvalidInput(f"Choose one of: {', '.join(QUEUE_NAMES)}.", field="queue")
    params = QueryDict(str(query), mutable=True)
    for key in _NOT_SAVED:
        params.pop(key, None)
    query = params.urlencode()
    if len(query) > QUERY_MAX_CHARS:
        raise InvalidInput(f"The filters are longer than {QUERY_MAX_CHARS} characters.", field="query")
    if problem := text_problem(query):
        raise InvalidInput(f"The filters {problem}.", field="query")
    with transaction.atomic():
        saved, created = SavedFilter.objects.update_or_create(
            user=user, name=name, defaults={"queue": queue, "query": query}
        )
        logger.info(
            "saved filter %s %s by user %s: %s on %s",
            saved.pk,
            "created" if created else "replaced",
            user.pk,
            name,
            queue,
        )
    return saved


def saved_filter_delete(*, user, filter_id: int) -> None:
    """Delete one of the user's saved filters; NotFound for anyone else's."""
    with transaction.atomic():
        deleted, _ = SavedFilter.objects.filter(pk=filter_id, user=user).delete()
        if not deleted:
            raise NotFound("No such saved filter of yours.")
        logger.info("saved filter %s deleted by user %s", filter_id, user.pk)
