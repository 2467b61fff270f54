import datetime

import django.db.models.deletion
from django.db import migrations, models

COUNTERS = (
    "responses",
    "nps_responses",
    "promoters",
    "detractors",
    "csat_responses",
    "csat_satisfied",
    "ces_responses",
    "ces_sum",
    "ces_low_effort",
    "negative",
)


def weeks_from_days(apps, schema_editor):
    """Sum the existing daily rows into weekly ones, so the summary reads
    right without waiting for `manage.py refresh_scores`."""
    DailyScore = apps.get_model("feedback", "DailyScore")
    WeeklyScore = apps.get_model("feedback", "WeeklyScore")
    db = schema_editor.connection.alias
    weeks: dict[tuple, list[int]] = {}
    for touchpoint, day, *counts in DailyScore.objects.using(db).values_list("touchpoint_id", "day", *COUNTERS):
        totals = weeks.setdefault((touchpoint, day - datetime.timedelta(days=day.weekday())), [0] * len(COUNTERS))
        for i, count in enumerate(counts):
            totals[i] += count
    WeeklyScore.objects.using(db).bulk_create(
        [
            WeeklyScore(touchpoint_id=touchpoint, week=week, **dict(zip(COUNTERS, totals)))
            for (touchpoint, week), totals in sorted(weeks.items())
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0006_customer_erased_at"),
        ("journeys", "0002_roles"),
    ]

    operations = [
        migrations.CreateModel(
            name="WeeklyScore",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("responses", models.PositiveIntegerField(default=0)),
                ("nps_responses", models.PositiveIntegerField(default=0)),
                ("promoters", models.PositiveIntegerField(default=0)),
                ("detractors", models.PositiveIntegerField(default=0)),
                ("csat_responses", models.PositiveIntegerField(default=0)),
                ("csat_satisfied", models.PositiveIntegerField(default=0)),
                ("ces_responses", models.PositiveIntegerField(default=0)),
                ("ces_sum", models.PositiveIntegerField(default=0)),
                ("ces_low_effort", models.PositiveIntegerField(default=0)),
                ("negative", models.PositiveIntegerField(default=0)),
                ("week", models.DateField(help_text="The Monday (UTC) the week starts on.")),
                (
                    "touchpoint",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="weekly_scores",
                        to="journeys.touchpoint",
                    ),
                ),
            ],
            options={
                "ordering": ["-week", "touchpoint"],
                "indexes": [models.Index(fields=["week", "touchpoint"], name="weekly_score_week_touchpoint")],
                "constraints": [models.UniqueConstraint(fields=("touchpoint", "week"), name="weekly_score_unique")],
            },
        ),
        migrations.RunPython(weeks_from_days, migrations.RunPython.noop, elidable=True),
    ]
