"""The shape the insights package promises, read from the source with ast:
pages and API are siblings (neither reaches the other through its
imports), the lower apps never import cases, and no module reaches for
another module's underscore names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("journeys", "feedback", "cases", "cvx_site")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for app in APPS for path in sorted((ROOT / app).rglob("*.py"))}


def imports_of(module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken from it, line) for every import in
    `module`, at any depth (function-level imports count), relative ones
    resolved."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((base, [alias.name for alias in node.names], node.lineno))
    return found


def project_targets(module: str) -> set[str]:
    """The project modules importing `module` runs: `from a import b`
    reaches `a.b` when that is a module, else `a`; and their packages."""
    targets = set()
    for base, names, _line in imports_of(module):
        subs = {f"{base}.{name}" for name in names} & MODULES.keys()
        targets |= subs
        if base in MODULES and (not subs or set(names) - {sub.rpartition(".")[2] for sub in subs}):
            targets.add(base)
    parts = [target.split(".") for target in targets]
    return targets | {".".join(p[:i]) for p in parts for i in range(1, len(p))} & MODULES.keys()


def reachable(start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for target in project_targets(todo.pop()) - seen:
            seen.add(target)
            todo.append(target)
    return seen


def test_the_modules_are_found():
    assert {
        "cases.insights.views",
        "cases.insights.api",
        "cases.insights.queries",
        "feedback.selectors",
        "feedback.summaries",
    } <= MODULES.keys()
    assert "cases.insights.queries" in reachable("cases.insights.views")
    assert "cases.insights.queries" in reachable("cases.insights.api")


@pytest.mark.parametrize(
    "page_or_api, sibling",
    [
        ("cases.insights.views", "cases.insights.api"),
        ("cases.insights.api", "cases.insights.views"),
        ("cases.insights.views", "cases.api.views"),
        ("cases.insights.api", "cases.views"),
    ],
)
def test_pages_and_api_never_import_each_other(page_or_api, sibling):
    assert sibling not in reachable(page_or_api)


@pytest.mark.parametrize("app", ["journeys", "feedback"])
def test_lower_apps_never_import_cases(app):
    higher = {"journeys": ("feedback", "cases"), "feedback": ("cases",)}[app]
    wrong = [
        f"{module}:{line} imports {base}"
        for module in MODULES
        if module.split(".")[0] == app
        for base, _names, line in imports_of(module)
        if base.split(".")[0] in higher
    ]
    assert wrong == []


def test_no_module_imports_another_modules_underscore_names():
    wrong = []
    for module in MODULES:
        for base, names, line in imports_of(module):
            if base.split(".")[0] not in APPS:
                continue  # a library's private name is its own business
            wrong += [
                f"{module}:{line} imports {base}.{name}"
                for name in names
                if name.startswith("_") and not name.startswith("__")
            ]
    assert wrong == []


def test_no_module_reaches_into_an_imported_modules_underscore_names():
    wrong = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                aliases.update(
                    {
                        alias.asname or alias.name.split(".")[0]: alias.name
                        for alias in node.names
                        if alias.name.split(".")[0] in APPS
                    }
                )
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in APPS:
                aliases.update(
                    {
                        alias.asname or alias.name: f"{node.module}.{alias.name}"
                        for alias in node.names
                        if f"{node.module}.{alias.name}" in MODULES
                    }
                )
        wrong += [
            f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ]
    assert wrong == []
