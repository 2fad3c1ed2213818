"""Shared fixtures: the database on SQLite and PostgreSQL, a settable clock, the sandbox and the
bot, and the check of every sandbox exchange against Webex's OpenAPI document.

Every test that takes `db` runs twice: on a fresh SQLite file, and on the PostgreSQL server
named by TEST_DATABASE_URL (skipped, with the reason, when it is not set or not reachable).
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.clock import SettableClock
from storage.db import Database, normalise_url
from storage.migrate import upgrade
from storage.models import Base

# One schema per test process (`pytest -n 2` runs two), so parallel runs never share tables.
PG_SCHEMA = f"servicedesk_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # Monday 10:00 in Amsterdam


def _postgres_url() -> tuple[str | None, str]:
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        return None, "TEST_DATABASE_URL is not set (set it to a PostgreSQL URL to run these)"
    url = make_url(normalise_url(raw))
    if url.get_backend_name() != "postgresql":
        return None, f"TEST_DATABASE_URL is not a PostgreSQL URL: {url.get_backend_name()}"
    try:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        engine.dispose()
    except Exception as exc:  # report why, skip rather than fail
        return None, f"PostgreSQL at TEST_DATABASE_URL is not reachable: {type(exc).__name__}"
    scoped = url.update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
    return scoped.render_as_string(hide_password=False), ""


@pytest.fixture(scope="session")
def postgres_url():
    """A migrated PostgreSQL schema for this test session, or a skip with the reason."""
    url, reason = _postgres_url()
    if url is None:
        pytest.skip(reason)
    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    return url


def _truncate(database: Database) -> None:
    names = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
        database = Database(url)
        upgrade(database.engine)
        database.dispose()
        return url
    url = request.getfixturevalue("postgres_url")
    database = Database(url)
    _truncate(database)
    database.dispose()
    return url


@pytest.fixture
def db(database_url):
    """A Database on an empty, migrated schema."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def webex_contract():
    """Every /v1 exchange of a sandbox the test served (tests/support.py's Harness, the sandbox
    tests' server) is validated against Webex's OpenAPI document when the test ends; a mismatch
    fails it (tests/contract/webex_contract.py)."""
    from tests.contract import webex_contract

    webex_contract.begin()
    yield
    mismatches = webex_contract.end()
    if mismatches:
        pytest.fail(webex_contract.report(mismatches), pytrace=False)


@pytest.fixture
def clock():
    """A clock that moves only when the test moves it."""
    return SettableClock(START)


@pytest.fixture
def harness(request, db, clock):
    """The sandbox and the bot on `db`, with the demo directory: bound spaces, roles, the rota.

    `@pytest.mark.admins("ada@…")` (on a test or a module's `pytestmark`) names the admins of the
    bot's configuration (BOT_ADMINS). A test module that wants the bare sandbox defines its own
    `harness`.
    """
    from tests.support import Harness

    marker = request.node.get_closest_marker("admins")
    h = Harness(db, clock, admins=frozenset(marker.args) if marker else frozenset())
    h.seed_directory()
    yield h
    h.close()
