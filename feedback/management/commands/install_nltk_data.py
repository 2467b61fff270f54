"""Install the NLTK data CVX needs (the VADER lexicon), without nltk.download()."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from feedback.sentiment import install_vader_lexicon, nltk_data_dir


class Command(BaseCommand):
    help = (
        "Copy the VADER lexicon from the vaderSentiment package into the NLTK data "
        "directory (settings.NLTK_DATA_DIR). Safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", type=Path, help="Install here instead of settings.NLTK_DATA_DIR.")

    def handle(self, *args, data_dir: Path | None = None, **options):
        target_dir = data_dir or nltk_data_dir()
        try:
            installed = install_vader_lexicon(target_dir)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"VADER lexicon installed at {installed}")
