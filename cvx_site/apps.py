from pathlib import Path

from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The site itself: no models; its system checks, and the SQLite file's directory."""

    name = "cvx_site"
    verbose_name = "CVX site"

    def ready(self) -> None:
        from django.core import checks

        from cvx_site.checks import TAG, check_console_email

        checks.register(check_console_email, TAG)
        make_sqlite_directories()


def make_sqlite_directories() -> None:
    """Create the directory of each SQLite database file (and of its test
    database), which SQLite will not do: the embedded default keeps its file
    in CVX_DATA_DIR, which need not exist before the first command. Here
    rather than in settings, so importing settings creates nothing."""
    from django.conf import settings

    for database in settings.DATABASES.values():
        if not database["ENGINE"].endswith("sqlite3"):
            continue
        for name in (database.get("NAME"), database.get("TEST", {}).get("NAME")):
            if name and str(name) != ":memory:" and not str(name).startswith("file:"):
                Path(name).parent.mkdir(parents=True, exist_ok=True)
