"""`make run`'s local settings, kept in `$CVX_DATA_DIR/local.env`.

`make run` writes the file once (mode 0600) with DJANGO_DEBUG=true, a random
DJANGO_SECRET_KEY and CVX_AUDIT_KEY, and the address it serves on. Settings
read it before anything else, for the variables the environment does not
set, so `python manage.py ...` run by hand later uses the same keys as the
server (survey links it makes verify there; its audit hashes agree). The
secret is this install's own, never a constant anyone could read in our
source and forge survey links with.

The file lives in the data directory, so anything that runs with its own
CVX_DATA_DIR (the test runner, CI, the benchmarks) never reads a
developer's file.

    python -m cvx_site.local_env --base-url http://127.0.0.1:8000
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import stat
import sys
from pathlib import Path

from cvx_site import paths
from cvx_site.env import ConfigError

FILENAME = "local.env"
_LINE = re.compile(r"([A-Z][A-Z0-9_]*)=(.*)")
# Where the file is found cannot be set in it.
_NOT_IN_FILE = {"CVX_DATA_DIR"}


def data_dir() -> Path:
    """$CVX_DATA_DIR, or var/ in a source checkout. An installed package has
    no directory of its own to write in (its own is site-packages, and the
    working directory of a service can be anything), so there it must be set."""
    value = os.environ.get("CVX_DATA_DIR", "").strip()
    if value:
        return Path(value)
    if paths.IS_CHECKOUT:
        return paths.CHECKOUT_DIR / "var"
    raise ConfigError(
        "CVX_DATA_DIR",
        "is required when CVX runs from an installed package: set it to a directory this service may write "
        "(e.g. /var/lib/cvx; collected static files and NLTK data go there, and the SQLite file when "
        "DATABASE_URL is unset)",
    )


def read(path: Path) -> dict[str, str]:
    """The file's NAME=value lines (blank lines and # comments skipped)."""
    mode = path.stat().st_mode
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ConfigError(str(path), "other accounts can write to it; run `chmod 600` on it (as its owner)")
    values = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            raise ConfigError(str(path), f"line {number}: expected NAME=value")
        if match[1] in _NOT_IN_FILE:
            raise ConfigError(str(path), f"line {number}: {match[1]} cannot be set here (it says where this file is)")
        values[match[1]] = match[2].strip()
    return values


def load(path: Path) -> list[str]:
    """Put the file's values into os.environ where the environment has none;
    the names taken. Nothing when the file does not exist."""
    if not path.exists():
        return []
    taken = {name: value for name, value in read(path).items() if name not in os.environ}
    os.environ.update(taken)
    return list(taken)


def write(path: Path, *, base_url: str) -> bool:
    """Create the file with new random keys, or, when it exists, only set its
    CVX_BASE_URL (its keys must stay: survey links and audit hashes depend on
    them). True when it was created."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        line = f"CVX_BASE_URL={base_url}"
        updated, found = re.subn(r"(?m)^CVX_BASE_URL=.*$", line, text)
        updated = updated if found else text.rstrip("\n") + f"\n{line}\n"
        if updated != text:
            path.write_text(updated, encoding="utf-8")
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    content = (
        "# make run's local settings: development only, with this install's own random keys.\n"
        "# manage.py reads them for any variable the environment does not set.\n"
        "# Keep the keys: survey links are signed with DJANGO_SECRET_KEY, and the audit\n"
        "# trail's hashes are keyed with CVX_AUDIT_KEY (verify_audit needs the same key).\n"
        "DJANGO_DEBUG=true\n"
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}\n"
        f"CVX_AUDIT_KEY={secrets.token_urlsafe(48)}\n"
        f"CVX_BASE_URL={base_url}\n"
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(content)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write make run's local settings (once) to $CVX_DATA_DIR/local.env.")
    parser.add_argument("--base-url", required=True, help="the address the development server answers on")
    args = parser.parse_args(argv)
    path = data_dir() / FILENAME
    if write(path, base_url=args.base_url):
        print(
            f"Wrote {path} (mode 0600): DJANGO_DEBUG=true and this install's own random DJANGO_SECRET_KEY and "
            "CVX_AUDIT_KEY. manage.py reads it, so commands run by hand use the same settings."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
