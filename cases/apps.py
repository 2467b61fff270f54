from django.apps import AppConfig


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"

    def ready(self) -> None:
        from feedback.signals import responses_ingested

        responses_ingested.connect(queue_routing, dispatch_uid="cases.queue_routing")


def queue_routing(sender, response_ids, **kwargs) -> None:
    """Glue only: route new responses in a django-q2 task after they commit."""
    from django.db import transaction
    from django_q.tasks import async_task

    ids = list(response_ids)
    transaction.on_commit(lambda: async_task("cases.tasks.route_responses", ids))
