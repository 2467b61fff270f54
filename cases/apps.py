from django.apps import AppConfig


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"

    def ready(self) -> None:
        from django.core import checks

        from cases.checks import check_audit_key
        from feedback.signals import responses_ingested

        checks.register(check_audit_key)

        from cases.selectors import cases_visible_to
        from feedback.selectors import customer_scopes
        from feedback.surveys import ordinary_survey_guards

        responses_ingested.connect(queue_routing, dispatch_uid="cases.queue_routing")
        from cases.webhooks.outbox import responses_ingested as queue_feedback_webhooks

        responses_ingested.connect(queue_feedback_webhooks, dispatch_uid="cases.webhooks")
        from cases.webhooks.outbox import customer_erased
        from feedback.privacy import erasure_hooks

        if customer_erased not in erasure_hooks:
            erasure_hooks.append(customer_erased)
        from cases.journey_hooks import journey_promoted
        from journeys.services import promotion_hooks

        if journey_promoted not in promotion_hooks:
            promotion_hooks.append(journey_promoted)
        if open_case_guard not in ordinary_survey_guards:
            ordinary_survey_guards.append(open_case_guard)
        # A customer of a case the user may see is a customer they may see.
        if cases_visible_to not in customer_scopes:
            customer_scopes.append(cases_visible_to)


def queue_routing(sender, response_ids, **kwargs) -> None:
    """Glue only: route new responses in a django-q2 task after they commit."""
    from django.db import transaction
    from django_q.tasks import async_task

    ids = list(response_ids)
    transaction.on_commit(lambda: async_task("cases.tasks.route_responses", ids))


def open_case_guard(customer) -> str | None:
    """Contact rule: no ordinary survey while the customer has an open case."""
    from cases.choices import OPEN_STATUSES
    from cases.models import Case

    if Case.objects.filter(customer=customer, status__in=OPEN_STATUSES).exists():
        return "The customer has an open case."
    return None
