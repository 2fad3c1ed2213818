"""The bot's Webex client for the in-process harness: WebexClient itself, recording every call.

It is the real client (the SDK, its paging and the translation of failures into the kinds the
runtime knows), so the runtime sees no difference; the sandbox answers it in this process
(tests/harness/loopback.py), so the sandbox's strictness and the contract check of every
exchange apply as over HTTP.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.webex import WebexClient, WebexFailure


@dataclass(frozen=True)
class WebexCall:
    """One call of the bot to Webex: the method, its arguments, and what it returned or raised."""

    method: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    result: Any = None
    failure: WebexFailure | None = None


class RecordingWebex(WebexClient):
    """A WebexClient that keeps `calls`, in order, from every thread of the bot."""

    def __init__(self, *, access_token: str, base_url: str, **kwargs: Any) -> None:
        super().__init__(access_token=access_token, base_url=base_url, **kwargs)
        self.calls: list[WebexCall] = []

    def calls_to(self, method: str) -> list[WebexCall]:
        """The calls of one method, in order."""
        return [call for call in self.calls if call.method == method]


def _recorded(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: RecordingWebex, *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(self, *args, **kwargs)
        except WebexFailure as failure:
            self.calls.append(WebexCall(name, args, kwargs, failure=failure))
            raise
        self.calls.append(WebexCall(name, args, kwargs, result=result))
        return result

    return call


# Every public method of the client, whatever it grows to, is recorded.
for _name, _method in inspect.getmembers(WebexClient, inspect.isfunction):
    if not _name.startswith("_"):
        setattr(RecordingWebex, _name, _recorded(_name, _method))
