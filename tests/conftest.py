"""Shared fixtures: the database on SQLite and PostgreSQL, a settable clock, the sandbox and the
bot, and the check of every sandbox exchange against Webex's OpenAPI document.

Every test that takes `db` runs twice: on a fresh SQLite file, and on the PostgreSQL server
named by TEST_DATABASE_URL (skipped, with the reason, when it is not set or not reachable).

Two tiers: `make test-fast` runs the tests marked `fast` (every test not marked postgres, e2e,
http, process, browser, reliability, serial or sweep; the marks are given here) on SQLite, in process;
`make test` runs them all.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.clock import SettableClock
from storage.db import Database, normalise_url
from storage.migrate import upgrade
from storage.models import metadata
from tests import profiles  # noqa: F401  (registers the "fast" profile --hypothesis-profile names)
from tests.contract import webex_contract as contract
from tests.harness import HTTP, IN_PROCESS, Harness
from tests.harness.sqlite import RestoredSqlite, migrated_file

# One schema per test process (`pytest -n 2` runs two), so parallel runs never share tables.
PG_SCHEMA = f"servicedesk_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Monday 10:00 in Amsterdam
TESTS = Path(__file__).resolve().parent
# Marks of the tests `make test-fast` leaves to `make test`.
SLOW_MARKS = ("postgres", "e2e", "http", "process", "browser", "reliability", "serial", "sweep")
# Folders whose every test talks over real HTTP on loopback.
HTTP_FOLDERS = ("e2e", "reliability", "sandbox")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what talks over real HTTP by its folder, and everything else as the fast tier."""
    for item in items:
        folder = Path(str(item.path)).relative_to(TESTS).parts[0]
        if folder in HTTP_FOLDERS:
            item.add_marker(pytest.mark.http)
        if "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
        if not any(item.get_closest_marker(mark) for mark in SLOW_MARKS):
            item.add_marker(pytest.mark.fast)


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
    names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
    with database.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(scope="session")
def restored_sqlite(tmp_path_factory) -> RestoredSqlite:
    """This test process's SQLite database, migrated once (tests/harness/sqlite.py)."""
    folder = tmp_path_factory.mktemp("sqlite")
    return RestoredSqlite(folder / "bot.db", migrated_file(folder / "template.db"))


@pytest.fixture
def sqlite_database(restored_sqlite) -> Iterator[Database]:
    """An empty, migrated SQLite database."""
    database = restored_sqlite.fresh()
    yield database
    restored_sqlite.release()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request) -> str:
    """The URL of an empty, migrated database of each kind."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_database").url
    url = request.getfixturevalue("postgres_url")
    database = Database(url)
    _truncate(database)
    database.dispose()
    return url


@pytest.fixture
def db(request, database_url) -> Iterator[Database]:
    """A Database on an empty, migrated schema."""
    if database_url.startswith("sqlite"):
        yield request.getfixturevalue("sqlite_database")  # which closes its connections after the test
        return
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture(autouse=True)
def webex_contract():
    """Every /v1 exchange of a sandbox the test served (tests/harness's Harness, the sandbox
    tests' server) is validated against Webex's OpenAPI document when the test ends; a mismatch
    fails it (tests/contract/webex_contract.py)."""
    contract.begin()
    yield
    mismatches = contract.end()
    if mismatches:
        pytest.fail(contract.report(mismatches), pytrace=False)


@pytest.fixture
def clock():
    """A clock that moves only when the test moves it."""
    return SettableClock(START)


@pytest.fixture
def harness(request, db, clock) -> Iterator[Harness]:
    """The sandbox and the bot on `db`, in process, with the demo directory: bound spaces, roles, the rota.

    Marks (on a test or a module's `pytestmark`) change it:
    - `admins("ada@…")`: the admins of the bot's configuration (BOT_ADMINS);
    - `bare`: the sandbox's people and spaces only, nothing bound or granted in the bot;
    - `customer_space(title, org, email, language=…)`: one more space, bound to a new organisation;
    - `prepare.with_args(step)`: `step(harness)` runs last, for what one module needs;
    - `http`: the sandbox and the bot talk over real HTTP on loopback, not in process.
    """
    admins = request.node.get_closest_marker("admins")
    h = Harness(
        db,
        clock,
        admins=frozenset(admins.args) if admins else frozenset(),
        transport=HTTP if request.node.get_closest_marker("http") else IN_PROCESS,
    )
    try:
        if request.node.get_closest_marker("bare") is None:
            h.seed_directory()
        for space in request.node.iter_markers("customer_space"):
            h.add_customer_space(*space.args, **space.kwargs)
        for step in request.node.iter_markers("prepare"):
            step.args[0](h)
        yield h
    finally:
        h.close()
