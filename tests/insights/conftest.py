"""The insight tests use the cases tests' root cause and detractor rule."""

from tests.cases.conftest import detractor_rule, root_cause  # noqa: F401 - fixtures
