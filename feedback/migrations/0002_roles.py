from django.db import migrations

from journeys.roles import grant_role_permissions

JOURNEY_READ = ["journeys.view_journey", "journeys.view_stage", "journeys.view_touchpoint", "journeys.view_team"]

ROLE_PERMISSIONS = {
    "Frontline": ["feedback.view_feedbackresponse", "feedback.view_customer"],
    "Team lead": ["feedback.view_feedbackresponse", "feedback.view_customer"],
    "CX admin": [
        "feedback.view_feedbackresponse", "feedback.add_feedbackresponse", "feedback.view_all_feedback",
        "feedback.view_customer", "feedback.change_customer", "feedback.view_customeridentity",
    ],
    "Integration": JOURNEY_READ + [
        "feedback.view_feedbackresponse", "feedback.add_feedbackresponse", "feedback.view_all_feedback",
        "feedback.view_customer",
    ],
}


def create_roles(apps, schema_editor):
    grant_role_permissions(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("journeys", "0002_roles")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
