"""The `cvx` command (pyproject's console script) and manage.py: Django's
command-line utility with CVX's settings, e.g. `cvx migrate`, `cvx qcluster`."""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvx_site.settings")
    from django.core.management import execute_from_command_line

    from cvx_site.env import ConfigError

    try:
        execute_from_command_line(sys.argv)
    except ConfigError as exc:
        # A bad environment value is an operator's mistake, not a bug: name
        # the variable and stop, without a traceback from deep in Django.
        sys.stderr.write(f"CVX configuration error: {exc}\n")
        sys.exit(2)
