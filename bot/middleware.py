"""The ordered steps around every handler, in the transaction that closes the event's inbox row.

Each step is a small callable given the call and the rest of the chain (`next_step`): it may
act before or after the rest, or answer and stop. STEPS is the order, outermost first:
the bot's own events are dropped, the sender is named, a failure is answered, the per-person
rate limit holds back, the command's time is measured, and the actor is authorised before the
handler runs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session

from bot import i18n
from bot.clock import AMSTERDAM
from bot.context import Context, Event, RuntimeView, build_context
from bot.errors import UserError
from bot.events import CardSubmitEvent, LeaveEvent, MessageEvent
from bot.routes import Route
from bot.routes import authorise as check_route
from bot.security import rate_check
from bot.webex import RateLimited, Transient, Unauthorized
from storage import directory

log = logging.getLogger(__name__)


class SenderUnnamed(Exception):
    """The directory has no name for a message's sender: the worker asks Webex, outside any
    transaction, and hands the event in again."""


@dataclass
class Call:
    """One event on its way to its handler, in the transaction that closes its inbox row.

    `start_over` undoes the transaction so far and closes the row again with a status (and
    error); the worker provides it, as it owns the row's lease.
    """

    session: Session
    event: Event
    runtime: RuntimeView
    received_at: datetime
    start_over: Callable[[str, str | None], None]
    name_asked: bool = False
    _ctx: Context | None = field(default=None, repr=False)
    _route: Route | None = field(default=None, repr=False)

    @property
    def ctx(self) -> Context:
        """Who acts where, read from the directory at first use (after the sender is named)."""
        if self._ctx is None:
            self._ctx = build_context(self.session, self.event, self.runtime)
        return self._ctx

    @property
    def route(self) -> Route:
        """What the event runs, resolved by the router at first use (a refusal when nothing)."""
        if self._route is None:
            self._route = self.runtime.router.resolve(self.ctx)
        return self._route

    def begin_again(self, status: str, error: str | None) -> Context:
        """Undo the transaction, close the row with `status`, and read the context anew."""
        self.start_over(status, error)
        self._ctx = None
        return self.ctx


Next = Callable[[Call], None]
Step = Callable[[Call, Next], None]


def _is_command(event: Event) -> bool:
    """A message or a card press: what people send, as opposed to the bot's joins and removals."""
    return isinstance(event, MessageEvent | CardSubmitEvent)


def drop_own_events(call: Call, next_step: Next) -> None:
    """The bot's own message needs no answer (the endpoint drops most; a delivery that did not
    name the webhook's creator arrives here): its row is closed ignored and nothing runs."""
    event = call.event
    if _is_command(event) and event.sender.person_id == call.runtime.webex.identity().person_id:
        call.start_over("ignored", None)
        return
    next_step(call)


def name_sender(call: Call, next_step: Next) -> None:
    """A message carries only its sender's email: the name comes from the directory, which reads the
    person row build_context reads anyway, or else from Webex (SenderUnnamed)."""
    event = call.event
    if isinstance(event, MessageEvent) and not event.sender.display_name and not call.name_asked:
        known = directory.person(call.session, email=event.sender.email)
        if known is None or not known.display_name:
            raise SenderUnnamed()
        call.event = replace(event, sender=replace(event.sender, display_name=known.display_name))
    next_step(call)


def apologise(call: Call, next_step: Next) -> None:
    """A refusal is answered with its reason, a failing handler with an apology; either undoes what
    the handler did (the whole transaction, not a savepoint: two round trips fewer for every command
    that succeeds) and closes the row again. A handler's own Webex call that will work later is
    left to the worker, which retries the event as it would a failed read."""
    try:
        next_step(call)
    except UserError as exc:
        ctx = call.begin_again("done", None)
        if not isinstance(call.event, LeaveEvent):  # the bot is no longer in that space
            ctx.reply(exc.render(ctx.lang))
    except (RateLimited, Transient, Unauthorized):
        raise
    except Exception as exc:  # one bad handler must not stop the worker
        log.exception("handler failed")
        ctx = call.begin_again("failed", f"{type(exc).__name__}: {exc}")
        if not isinstance(call.event, LeaveEvent):
            ctx.reply(i18n.t("error.apology", ctx.lang))


def rate_limit(call: Call, next_step: Next) -> None:
    """Count a command or press against its sender's limit; over it, one answer saying from when it
    may be sent again, then silence. Acknowledgements, presses answering the bot's cards and P1
    requests are neither counted nor held back (the router knows which)."""
    if not _is_command(call.event) or call.runtime.router.unlimited(call.event):
        next_step(call)
        return
    ctx = call.ctx
    limit = call.runtime.settings.rate_limit
    rate = rate_check(ctx.session, email=ctx.actor.email, now=ctx.now(), limit=limit)
    if rate.verdict == "warn" and rate.again_at is not None:
        ctx.reply(ctx.t("rate.slow_down", limit=limit, time=rate.again_at.astimezone(AMSTERDAM).strftime("%H:%M:%S")))
    if rate.verdict == "ok":
        next_step(call)


def record_metrics(call: Call, next_step: Next) -> None:
    """The time a command or press took in its handler, and since its event was stored, by family
    (commands that were refused or failed are not counted)."""
    if not _is_command(call.event):
        next_step(call)
        return
    started = time.perf_counter()
    next_step(call)
    call.runtime.metrics.command_done(
        call.route.family,
        handler_s=time.perf_counter() - started,
        since_stored_s=(call.ctx.now() - call.received_at).total_seconds(),
    )


def authorise(call: Call, next_step: Next) -> None:
    """Resolve what the event runs and refuse it to an actor without the role, or in the wrong kind of
    space (bot/routes.py `authorise` is the one place that decides)."""
    check_route(call.ctx, call.route)
    next_step(call)


def run_handler(call: Call) -> None:
    """The end of the chain: the handler, with the event's arguments."""
    call.route.run(call.ctx)


STEPS: tuple[Step, ...] = (drop_own_events, name_sender, apologise, rate_limit, record_metrics, authorise)


def chain(steps: Sequence[Step] = STEPS, handler: Next = run_handler) -> Next:
    """`steps` around `handler`, the first outermost."""
    run = handler
    for step in reversed(steps):
        run = _link(step, run)
    return run


def _link(step: Step, rest: Next) -> Next:
    def linked(call: Call) -> None:
        step(call, rest)

    return linked
