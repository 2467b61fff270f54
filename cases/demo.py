"""The demo's closed loop: routing rules, root causes and some history of
feedback and cases, so queues and metrics are not empty on first look.
Safe to run again: everything is found by name or idempotency key."""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from cases import services
from cases.choices import AssignmentStrategy, CaseKind, CaseStatus, ContactChannel, OpportunityKind, Priority
from cases.models import Case, RootCause, RoutingRule
from cases.services.routing import routing_rule_put
from feedback.scores import BANDS, CSAT_DISSATISFIED_MAX, CSAT_RANGE, DETRACTOR_MAX
from feedback.services import CREATED, feedback_ingest_many
from feedback.summaries import rebuild_daily_scores
from journeys.demo import VES_QUESTIONS, SeedResult

ROOT_CAUSES = {
    "Product": ["Connection fault", "Slow speed", "Faulty router"],
    "Process": ["Long wait", "Wrong information given", "Billing error"],
    "People": ["Rude or unhelpful staff", "Promised call-back not made"],
    "Partner": ["Installer missed the appointment"],
    "Policy": ["Contract terms"],
}

# name: (position, conditions, priority, strategy, first-contact hours, resolution hours). Text is read
# by intents (feedback.text), so a comment with no score still opens a case: compliance risk goes to the
# team's lead, churn risk is urgent, any other complaint (or high effort) is normal.
RULES = {
    "Compliance risk": (0, {"intents_any": ["compliance_risk"]}, Priority.HIGH, AssignmentStrategy.TEAM_LEAD, 4, 48),
    "Churn risk": (1, {"intents_any": ["churn_risk"]}, Priority.URGENT, AssignmentStrategy.LEAST_LOADED, 2, 24),
    "Detractors": (2, {"nps_at_most": DETRACTOR_MAX}, Priority.HIGH, AssignmentStrategy.ROUND_ROBIN, None, None),
    "Dissatisfied": (
        3,
        {"csat_at_most": CSAT_DISSATISFIED_MAX},
        Priority.NORMAL,
        AssignmentStrategy.DEFAULT_OWNER,
        None,
        None,
    ),
    "High effort": (4, {"ces_at_most": 2}, Priority.NORMAL, AssignmentStrategy.LEAST_LOADED, None, None),
    "Complaints": (
        5,
        {"intents_any": ["complaint", "high_effort"]},
        Priority.NORMAL,
        AssignmentStrategy.LEAST_LOADED,
        None,
        None,
    ),
}
# The promoter loop: promoters after an engineer's install visit are asked for a referral
# (an opportunity case, tried after every complaint rule). Needs a score: text alone never matches.
OPPORTUNITY_RULE = "Promoters after an install: referral"
OPPORTUNITY_TOUCHPOINT = "gc-install-visit"
# Rules of earlier demos, replaced by the ones above: switched off when the demo is seeded again.
RETIRED_RULES = ["Risk of leaving", "Strongly negative comments"]

NEGATIVE = [
    "The engineer never turned up and nobody called back.",
    "I waited two hours on hold, awful service.",
    "My connection keeps dropping every evening, really frustrating.",
    "The agent was rude and did not fix anything.",
    "I was billed twice and I'm thinking of switching.",
    "Slow speeds for weeks, I want to cancel my contract.",
    "Confusing website, checkout failed twice.",
]
POSITIVE = [
    "Quick and friendly help, thank you!",
    "The install was smooth and the engineer was great.",
    "Easy to order in the app, love it.",
    "Fast connection, very happy with the service.",
]
NEUTRAL = ["Got what I needed.", "It was okay.", "Average experience overall."]
# Social listening: text with no score, routed by what the comment says.
SOCIAL = [
    "Internet down again tonight, third time this week.",
    "40 minutes on hold just to report a fault",
    "Had to explain my problem to four different people, still not sorted",
    "Fed up, moving to another provider as soon as my contract ends",
    "Shout out to the engineer who fixed my line today, brilliant",
    "New router arrived, setup took five minutes",
]


# Demo customers are named, so a reply template's {{ customer.name }} reads
# as a person: customer<k>@example.com is FIRST_NAMES[k % 12] LAST_NAMES[k // 12 % 10].
FIRST_NAMES = ["Amara", "Ben", "Chloe", "Dev", "Elena", "Femi", "Grace", "Hugo", "Isla", "Jonah", "Kiri", "Leo"]
LAST_NAMES = ["Adams", "Brooks", "Costa", "Dias", "Evans", "Fraser", "Gill", "Hughes", "Ito", "Jones"]

# name: (team slug, or None for every team's cases; subject; body). Placeholders
# are cases.messaging.render's. An admin's later edits are kept on re-runs.
REPLY_TEMPLATES = {
    "Apology and next step": (
        None,
        "Your feedback about {{ case.touchpoint }} ({{ case.number }})",
        "Hello {{ customer.name }},\n\n"
        "Thank you for telling us how {{ case.touchpoint }} went, and I am sorry it let you down. "
        "I am looking into it now and will come back to you with what we will do about it.\n\n"
        "If you would rather talk it through, reply with a good time to call you.\n\n"
        "Kind regards,\n{{ agent.name }}\n\nReference: {{ case.number }}",
    ),
    "Billing correction": (
        "care",
        "Your bill ({{ case.number }})",
        "Hello {{ customer.name }},\n\n"
        "I have checked your account and corrected the charge you told us about. "
        "The refund shows on your next bill; reply to this email if anything still looks wrong.\n\n"
        "{{ agent.first_name }}, Customer care\n\nReference: {{ case.number }}",
    ),
    "Engineer visit rebooked": (
        "stores",
        "Your engineer visit ({{ case.number }})",
        "Hello {{ customer.name }},\n\n"
        "I am sorry the visit did not go as promised. I have booked a new appointment and will "
        "confirm the day and time by email; reply to this one if it does not suit you.\n\n"
        "{{ agent.first_name }}, Stores & field\n\nReference: {{ case.number }}",
    ),
}


def seed_reply_templates(people: SeedResult) -> int:
    """The demo's reply templates, found by name (an existing one is left as
    an admin may have edited it). Returns how many were created."""
    from cases.messaging.models import ReplyTemplate

    created = 0
    for name, (team, subject, body) in REPLY_TEMPLATES.items():
        if ReplyTemplate.objects.filter(name=name).exists():
            continue
        template = ReplyTemplate(name=name, team=people.teams[team] if team else None, subject=subject, body=body)
        template.full_clean()  # the placeholders checked as the admin checks them
        template.save()
        created += 1
    return created


def seed_cases(people: SeedResult, *, history: int = 240) -> int:
    """Rules, root causes, reply templates and (on the first run) `history`
    responses from the last 90 days, routed into cases, some of them worked.
    Returns how many responses were created."""
    for parent, children in ROOT_CAUSES.items():
        top, _ = RootCause.objects.get_or_create(parent=None, name=parent)
        for child in children:
            RootCause.objects.get_or_create(parent=top, name=child)
    for name, (position, conditions, priority, strategy, first, resolve) in RULES.items():
        routing_rule_put(
            name=name,
            position=position,
            fields={
                "active": True,
                "priority": priority,
                "strategy": strategy,
                "first_contact_sla_hours": first,
                "resolution_sla_hours": resolve,
                **conditions,
            },
        )
    promoters = routing_rule_put(
        name=OPPORTUNITY_RULE,
        position=len(RULES),
        fields={
            "active": True,
            "nps_at_least": BANDS["promoter"][0],
            "opens": CaseKind.OPPORTUNITY,
            "opportunity_kind": OpportunityKind.REFERRAL,
            "priority": Priority.NORMAL,
            "strategy": AssignmentStrategy.DEFAULT_OWNER,
        },
    )
    if OPPORTUNITY_TOUCHPOINT in people.touchpoints:
        promoters.touchpoints.set([people.touchpoints[OPPORTUNITY_TOUCHPOINT]])
    RoutingRule.objects.filter(name__in=RETIRED_RULES).update(active=False)
    seed_reply_templates(people)
    created = _history(people, history)
    if created:
        services.responses_route_pending()
        _work_some_cases()
        _work_some_opportunities()
        rebuild_daily_scores()  # the insights read the summary; don't wait for the worker
    return created


def _history(people: SeedResult, count: int) -> int:
    rnd, now = random.Random(7), timezone.now()
    ves_rnd = random.Random(13)  # its own sequence: the rest of the history stays as it was
    slugs = sorted(people.touchpoints)
    items = []
    for n in range(count):
        mood = rnd.random()
        category = "detractor" if mood < 0.3 else "passive" if mood < 0.55 else "promoter"
        nps = rnd.randint(*BANDS[category])
        comment = rnd.choice({"detractor": NEGATIVE, "passive": NEUTRAL, "promoter": POSITIVE}[category])
        # Effort follows mood: detractors often worked hard, promoters rarely.
        ces = rnd.randint(*{"detractor": (1, 5), "passive": (2, 7), "promoter": (5, 7)}[category])
        item = {
            "touchpoint": rnd.choice(slugs),
            "source": "demo",
            "external_id": f"demo-{n}",
            "nps": nps,
            "csat": max(CSAT_RANGE[0], min(CSAT_RANGE[1], round(nps / 2))),
            "ces": ces,
            "comment": comment,
            "occurred_at": now - timedelta(days=rnd.uniform(0, 90)),
            "customer": _customer(rnd.randint(1, 120)),
        }
        if item["touchpoint"] in VES_QUESTIONS and ves_rnd.random() < 0.7:
            # Better able to do things after a good experience, mostly.
            item["ves"] = ves_rnd.randint(*{"detractor": (1, 3), "passive": (2, 4), "promoter": (4, 5)}[category])
        if n % 8 == 7:
            item.update(source="social", kind="indirect", nps=None, csat=None, ces=None, comment=rnd.choice(SOCIAL))
            item.pop("ves", None)
        items.append(item)
    outcomes = feedback_ingest_many(items=items)
    return sum(o.status == CREATED for o in outcomes)


def _customer(k: int) -> dict:
    name = f"{FIRST_NAMES[k % len(FIRST_NAMES)]} {LAST_NAMES[k // len(FIRST_NAMES) % len(LAST_NAMES)]}"
    return {"email": f"customer{k}@example.com", "name": name}


def _work_some_cases() -> None:
    """Move a share of the demo's complaints along, through the services."""
    rnd = random.Random(11)
    causes = list(RootCause.objects.filter(parent__isnull=False))
    complaints = Case.objects.filter(kind=CaseKind.COMPLAINT, status=CaseStatus.NEW, owner__isnull=False)
    for case in complaints.select_related("owner"):
        roll, owner = rnd.random(), case.owner
        if roll < 0.25:
            continue
        services.case_acknowledge(case_id=case.pk, actor=owner)
        if roll < 0.45:
            continue
        services.case_log_contact(
            case_id=case.pk,
            actor=owner,
            channel=rnd.choice(ContactChannel.values),
            note="Called the customer, apologised and agreed the next step.",
        )
        if roll < 0.7:
            continue
        services.case_resolve(
            case_id=case.pk,
            actor=owner,
            root_cause=rnd.choice(causes),
            note="Fixed the underlying problem and confirmed with the customer.",
        )


def _work_some_opportunities() -> None:
    """Move the demo's opportunities along, through the services: some left
    open, some contacted, and won (mostly with an amount), lost or unanswered."""
    rnd = random.Random(17)
    opportunities = Case.objects.filter(kind=CaseKind.OPPORTUNITY, status=CaseStatus.NEW, owner__isnull=False)
    for n, case in enumerate(opportunities.select_related("owner").order_by("pk")):
        # The first five cover every state; the rest at random.
        state = (
            ("open", "contacted", "won", "lost", "no_answer")[n]
            if n < 5
            else rnd.choice(("open", "contacted", "won", "won", "lost", "no_answer"))
        )
        if state == "open":
            continue
        if state == "no_answer":
            services.case_no_answer(case_id=case.pk, actor=case.owner, note="Two calls, no answer.")
            continue
        services.case_log_contact(
            case_id=case.pk,
            actor=case.owner,
            channel=ContactChannel.PHONE,
            note="Thanked them for the feedback and asked about recommending us.",
        )
        if state == "won":
            amount = rnd.choice((None, 120, 240, 480)) if n >= 5 else 240
            services.case_win(case_id=case.pk, actor=case.owner, amount=amount, note="Referred a neighbour.")
        elif state == "lost":
            services.case_lose(case_id=case.pk, actor=case.owner, note="Happy, but no one to refer.")
