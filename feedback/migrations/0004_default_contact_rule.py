from django.db import migrations


def forwards(apps, schema_editor):
    ContactRule = apps.get_model("feedback", "ContactRule")
    if not ContactRule.objects.exists():
        ContactRule.objects.create(name="Default", max_surveys=2, period_days=30, no_survey_while_case_open=True)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0003_survey_invitations")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
