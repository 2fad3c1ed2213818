"""Typed errors a handler raises for the person in front of it; one place turns them into replies."""

from __future__ import annotations

from bot import i18n


class UserError(Exception):
    """Something the person did wrong or may not do; nothing was changed."""

    key = "error.apology"

    def __init__(self, **values: object) -> None:
        super().__init__(self.key, values)
        self.values = values

    def render(self, lang: str) -> str:
        """The reply in `lang`."""
        return i18n.t(self.key, lang, **self.values)


class UsageError(UserError):
    """Malformed command: the reply states the problem and the usage line."""

    key = "error.usage"

    def __init__(self, problem: str, *, usage: str) -> None:
        super().__init__(problem=problem, usage=usage)


class UnknownCommand(UserError):
    """No command matches what was typed."""

    key = "error.unknown_command"


class EmptyCommand(UserError):
    """Only the mention, nothing else."""

    key = "error.empty_command"


class UnknownAction(UserError):
    """A card button whose action id the bot does not (or no longer) know."""

    key = "error.unknown_action"


class Forbidden(UserError):
    """The person lacks the role the command needs; the reply names it."""

    key = "error.forbidden"

    def __init__(self, *, role: str, command: str) -> None:
        super().__init__(role=role, command=command)


class Refused(UserError):
    """A refusal with its own message: `Refused("sla.no_ticket", number="INC-1")`."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        super().__init__(**values)


class NotBound(UserError):
    """A command that needs a bound space, asked in a space no admin has bound yet."""

    key = "error.not_bound"


class WrongSpace(UserError):
    """A command used in a kind of space it does not work in."""

    key = "error.wrong_space"

    def __init__(self, *, command: str, where: list[str]) -> None:
        super().__init__(command=command, where=where)
        self.where = where

    def render(self, lang: str) -> str:
        """The reply in `lang`, naming the kinds of space it works in."""
        places = ", ".join(i18n.t(f"space.kind.{kind}", lang) for kind in self.where)
        return i18n.t(self.key, lang, command=self.values["command"], where=places)
