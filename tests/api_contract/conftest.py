"""The cases tests' fixtures these tests use too: the detractor rule, a root
cause and a routed case (tests/cases/conftest.py)."""

from tests.cases import conftest as cases_fixtures

detractor_rule = cases_fixtures.detractor_rule
make_case = cases_fixtures.make_case
root_cause = cases_fixtures.root_cause
