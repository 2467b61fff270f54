"""Route every response that was never routed, e.g. after a lost task.
Safe to run at any time and as often as you like."""

from django.core.management.base import BaseCommand

from cases.services import responses_route_pending


class Command(BaseCommand):
    help = "Route feedback responses that have not been routed yet."

    def handle(self, *args, **options):
        routed = responses_route_pending()
        self.stdout.write(f"Routed {routed} response(s).")
