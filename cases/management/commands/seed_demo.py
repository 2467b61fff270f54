"""Load the demo organisation; safe to run again.

It lives in `cases`, the top app, because the demo spans every app and the
lower apps may not import the higher ones.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cases.demo import seed_cases
from feedback.surveys.demo import seed_survey_definitions
from journeys.demo import seed_journeys


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo organisation: journeys, teams, people."

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Give every demo login a new password and print it."
        )
        parser.add_argument(
            "--history", type=int, default=240, help="How many past feedback responses to create on the first run."
        )

    def handle(self, *args, reset_passwords: bool = False, history: int = 240, **options):
        if history < 0:
            raise CommandError("--history must be 0 or more.")
        result = seed_journeys(reset_passwords=reset_passwords)
        history = seed_cases(result, history=history)
        seed_survey_definitions(result.touchpoints)
        self.stdout.write(
            f"Demo organisation ready: {len(result.teams)} teams, {len(result.touchpoints)} touchpoints, "
            f"{len(result.users)} people, {history} new feedback responses."
        )
        if result.new_logins:
            self.stdout.write(
                self.style.WARNING("Demo logins (shown only now; `seed_demo --reset-passwords` makes new ones):")
            )
            for username, password in result.new_logins.items():
                self.stdout.write(f"  {username:<14} {password}")
        else:
            self.stdout.write("Demo logins exist already; `seed_demo --reset-passwords` prints new passwords.")
        if result.new_token:
            self.stdout.write(
                f"API token of demo.integration: {result.new_token}\n"
                f"  e.g. curl -H 'Authorization: Token {result.new_token}' "
                f"{settings.CVX_BASE_URL.rstrip('/')}/api/v1/cases/"
            )
