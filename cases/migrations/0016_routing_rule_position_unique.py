"""Routing rule positions become unique: the order decides which rule routes
a response, so it may not be ambiguous.

Rules that shared a position are renumbered first, in the order routing
already tried them (position, then id): each rule keeps its position unless
an earlier rule holds it or a higher one, and then takes the next one up.
So the order does not change, rules without a clash keep their numbers as
far as possible, and the result is the same on every database.
"""

from django.db import migrations, models


def new_positions(rules: list[tuple[int, int]]) -> dict[int, int]:
    """{id: new position} for the rules (id, position) that must move."""
    moved, taken = {}, -1
    for pk, position in sorted(rules, key=lambda rule: (rule[1], rule[0])):
        if position <= taken:
            position = moved[pk] = taken + 1
        taken = position
    return moved


def renumber_shared_positions(apps, schema_editor):
    RoutingRule = apps.get_model("cases", "RoutingRule")
    for pk, position in new_positions(list(RoutingRule.objects.values_list("id", "position"))).items():
        RoutingRule.objects.filter(pk=pk).update(position=position)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0015_notifications_in_app"),
    ]

    operations = [
        migrations.RunPython(renumber_shared_positions, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="routingrule",
            name="position",
            field=models.PositiveIntegerField(
                default=0, help_text="Rules are tried in this order, lowest first; no two rules share a position."
            ),
        ),
        migrations.AddConstraint(
            model_name="routingrule",
            constraint=models.UniqueConstraint(fields=("position",), name="routing_rule_position_unique"),
        ),
    ]
