"""The sandbox tests' fixtures, for the contract tests that serve a sandbox."""

from tests.sandbox.conftest import server, state  # noqa: F401 (fixtures)
