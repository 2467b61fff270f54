"""How the repository is put together: importing settings has no side
effects, migrations run only frozen code, and no file points to a document
outside the repository."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Every top-level package of the repository: a new app is covered at once.
PROJECT_PACKAGES = frozenset(p.parent.name for p in ROOT.glob("*/__init__.py"))
IMPORTERS = {"import_module", "import_string", "__import__"}
SKIPPED_DIRS = {".git", ".venv", "var", "node_modules", "__pycache__", "results"}
TEXT_SUFFIXES = {".py", ".md", ".html", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".css", ".js"}
OUTSIDE_POINTERS = ["shared/" + "DESIGN", "../" + "shared", "DESIGN" + ".md", "STYLE" + ".md"]


def _python(code: str, data_dir: Path) -> subprocess.CompletedProcess:
    # The embedded default (SQLite) whichever database the suite runs on.
    env = {
        **os.environ,
        "CVX_DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "DATABASE_OWNER_URL": "",
        "DJANGO_SECRET_KEY": "dev-only",
        "DJANGO_DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": "cvx_site.settings",
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_importing_settings_creates_no_directory(tmp_path):
    result = _python("import cvx_site.settings as s; print(s.STATIC_ROOT)", tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "data" / "static")
    assert list(tmp_path.iterdir()) == []


def test_starting_django_makes_the_sqlite_files_directory_and_nothing_else(tmp_path):
    code = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    result = _python(code, tmp_path / "data")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["cvx.sqlite3"]


def project_imports(source: str) -> list[str]:
    """The project modules a Python source imports: import statements
    (relative ones included) and import_module/import_string/__import__
    calls with a literal name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = ["." * node.level + (node.module or "")]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) in IMPORTERS
        ):
            names = [node.args[0].value]
        else:
            continue
        found += [name for name in names if name.startswith(".") or name.split(".")[0] in PROJECT_PACKAGES]
    return found


def _migrations() -> list[Path]:
    return sorted(p for p in ROOT.glob("*/migrations/*.py") if p.name != "__init__.py")


def test_the_check_sees_every_way_to_import_project_code():
    assert {"cases", "feedback", "journeys", "cvx_site"} <= PROJECT_PACKAGES
    source = (
        "import journeys.validators\nfrom feedback.scores import NPS_RANGE\nfrom . import sibling\n"
        "from cases import models as m\nimportlib.import_module('cases.services')\n"
        "import_string('cvx_site.inputs.parse_id')\n"
        "import re\nfrom django.db import migrations\nimport_module(name)\n"
    )
    assert project_imports(source) == [
        "journeys.validators",
        "feedback.scores",
        ".",
        "cases",
        "cases.services",
        "cvx_site.inputs.parse_id",
    ]


@pytest.mark.parametrize("path", _migrations(), ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_migrations_run_only_frozen_code(path):
    """A migration runs as written on every install, however the project's
    code changes later: it copies what it needs and reaches models through
    apps.get_model, never by importing the project."""
    assert project_imports(path.read_text(encoding="utf-8")) == []


def _text_files():
    for directory, subdirectories, files in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in files:
            path = Path(directory, name)
            if path.suffix in TEXT_SUFFIXES or name in {"Makefile", "Procfile", "Procfile.dev"}:
                yield path


def test_no_file_points_to_a_document_outside_the_repository():
    here = Path(__file__).resolve()
    pointing = [
        f"{path.relative_to(ROOT)}: {pointer}"
        for path in _text_files()
        if path != here
        for pointer in OUTSIDE_POINTERS
        if pointer in path.read_text(encoding="utf-8", errors="replace")
    ]
    assert pointing == []
    assert "docs/architecture.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / "docs" / "architecture.md").is_file()
