"""The README's table of commands by role says what the router's registry says.

Every command a person can see is listed under each role that may use it, and under no other; the
kinds of space its rows name together are the ones it works in. Who may do what is written once, at
registration; this keeps the page a newcomer reads from drifting from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.router import Command, Router
from bot.security import (
    ADMIN,
    AGENT,
    ANYWHERE,
    CUSTOMER,
    ENGINEER,
    GROUP_SPACES,
    IN_CUSTOMER,
    IN_DIRECT,
    IN_STAFF,
    PROBLEM_MANAGER,
    STAFF_ROLES,
)
from tests.harness import command_router

README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "## Commands by role"
EVERYONE = "everyone"
# The words the table's "who" and "where" columns may use, and what they stand for.
WHO: dict[str, frozenset[str]] = {
    EVERYONE: frozenset({EVERYONE}),
    "staff": STAFF_ROLES,
    CUSTOMER: frozenset({CUSTOMER}),
    AGENT: frozenset({AGENT}),
    ENGINEER: frozenset({ENGINEER}),
    PROBLEM_MANAGER: frozenset({PROBLEM_MANAGER}),
    ADMIN: frozenset({ADMIN}),
}
WHERE: dict[str, frozenset[str]] = {
    "anywhere": ANYWHERE,
    "group spaces": GROUP_SPACES,
    "customer spaces": frozenset({IN_CUSTOMER}),
    "staff space": frozenset({IN_STAFF}),
    "1:1": frozenset({IN_DIRECT}),
}
_CELL = re.compile(r"(?<!\\)\|")
_COMMAND = re.compile(r"`(/[^`]+)`")


_REGISTRY = command_router()


def registry() -> Router:
    """The router the bot runs with, every family registered."""
    return _REGISTRY


@dataclass(frozen=True)
class Row:
    """One line of the table: who, where, and the commands it names."""

    line: int
    who: frozenset[str]
    where: frozenset[str]
    commands: tuple[str, ...]


def _words(cell: str, vocabulary: dict[str, frozenset[str]], line: int) -> frozenset[str]:
    found: set[str] = set()
    for word in (w.strip() for w in cell.split(",")):
        assert word in vocabulary, f"README.md line {line}: {word!r} is none of {sorted(vocabulary)}"
        found |= vocabulary[word]
    return frozenset(found)


def _command(text: str, found: Router, line: int) -> Command:
    matched = found.match(text.replace("\\|", "|"))
    assert matched is not None, f"README.md line {line}: `{text}` is no registered command"
    return matched[0]


def _rows(found: Router) -> list[Row]:
    """The table under SECTION, its header and rule left out."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = lines.index(SECTION)
    rows: list[Row] = []
    for number, text in enumerate(lines[start + 1 :], start=start + 2):
        if text.startswith("## "):
            break
        if not text.startswith("|"):
            continue
        cells = [cell.strip() for cell in _CELL.split(text.strip().strip("|"))]
        if cells[0] in ("who", "") or set(cells[0]) <= {"-", ":"}:
            continue
        assert len(cells) == 4, f"README.md line {number}: a row has who, where, command and what it does"
        names = tuple(_command(t, found, number).name for t in _COMMAND.findall(cells[2]))
        assert names, f"README.md line {number}: the command column names no command"
        rows.append(Row(number, _words(cells[0], WHO, number), _words(cells[1], WHERE, number), names))
    assert rows, f"README.md has no table under {SECTION!r}"
    return rows


ROWS = _rows(registry())


def _visible() -> list[Command]:
    return sorted((c for c in registry().commands.values() if not c.hidden), key=lambda c: c.name)


@pytest.mark.parametrize("who", sorted(WHO.keys() - {"staff"}))
def test_each_role_is_listed_with_exactly_the_commands_it_may_use(who: str) -> None:
    listed = {name for row in ROWS if who in row.who for name in row.commands}
    may = {c.name for c in _visible() if (c.roles & {who} if who != EVERYONE else not c.roles)}
    assert sorted(may - listed) == [], f"README.md: add these under {who!r}"
    assert sorted(listed - may) == [], f"README.md: {who!r} may not use these"


@pytest.mark.parametrize("name", [c.name for c in _visible()])
def test_each_command_is_listed_where_it_works(name: str) -> None:
    command = next(c for c in _visible() if c.name == name)
    rows = [row for row in ROWS if name in row.commands]
    assert rows, f"README.md: /{name} is missing from the table"
    listed = frozenset().union(*(row.where for row in rows))
    assert listed == command.spaces, f"README.md: /{name} works in {sorted(command.spaces)}, not {sorted(listed)}"


def test_hidden_commands_are_not_listed() -> None:
    hidden = {c.name for c in registry().commands.values() if c.hidden}
    assert hidden & {name for row in ROWS for name in row.commands} == set()
