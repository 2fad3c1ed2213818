"""Serve a WSGI app with waitress, in the foreground or on a background thread."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

if TYPE_CHECKING:  # the WSGI types exist for type checkers only
    from _typeshed.wsgi import WSGIApplication

log = logging.getLogger(__name__)

# The webhook endpoint is public, and waitress's defaults let a hundred slow clients lock
# everyone out: it holds at most 100 connections, and one that sends a header line every few
# seconds is never idle, so never closed. Here: many more connections (polled: select() stops
# at 1024 descriptors), each request due whole (headers and body) within REQUEST_TIMEOUT_S of
# its first byte, a connection idle between requests closed after IDLE_TIMEOUT_S, and headers
# of at most MAX_HEADER_BYTES (a webhook delivery's are far smaller), so the connections cannot
# fill memory either. In front of the bot a reverse proxy does the same for every client
# (docs/operations.md).
CONNECTION_LIMIT = 1000
REQUEST_TIMEOUT_S = 10
IDLE_TIMEOUT_S = 10
MAX_HEADER_BYTES = 32 * 1024
# How often waitress looks for idle connections (its default, 30 s, would triple IDLE_TIMEOUT_S).
_CLEANUP_INTERVAL_S = 1
# Descriptors beyond the connections: the database, Webex, temporary files, the loop's trigger.
_SPARE_DESCRIPTORS = 256


class _TimedChannel(HTTPChannel):
    """A connection that must deliver each request whole within REQUEST_TIMEOUT_S of its first byte."""

    _request_began: float | None = None

    def received(self, data: bytes) -> bool:
        began = time.monotonic() if self.request is None else self._request_began
        result = super().received(data)
        # Still in the middle of a request (maybe a pipelined next one): its clock keeps running.
        self._request_began = began if self.request is not None else None
        return result

    def readable(self) -> bool:
        # Asked on every turn of the serving loop (at least once a second).
        if (
            self._request_began is not None
            and not self.requests
            and time.monotonic() - self._request_began > REQUEST_TIMEOUT_S
        ):
            log.debug(
                "closing a connection from %s: its request took more than %d s to arrive", self.addr, REQUEST_TIMEOUT_S
            )
            self._request_began = None
            self.will_close = True  # the loop's next write pass closes it
            return False
        return super().readable()


def _allow_descriptors(wanted: int) -> None:
    """Raise this process's soft limit on open files to `wanted` where the hard limit allows."""
    try:
        # Here, not at the top: the module exists on Unix only, and elsewhere the limit is left alone.
        import resource
    except ImportError:  # not on Unix
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        log.debug("open files limit raised from %d to %d", soft, target)


def bound(server: BaseWSGIServer) -> int:
    """The port `server` listens on."""
    if server.socket is None:
        raise RuntimeError("the server has closed its socket")
    port: int = server.socket.getsockname()[1]
    return port


@dataclass
class RunningServer:
    """A waitress server running on a daemon thread; `port` is the bound port."""

    server: BaseWSGIServer
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL of the server, without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        """Close the listening socket, end the serving loop and its task threads."""
        stop_server(self.server, self.thread)


def stop_server(server: BaseWSGIServer, thread: threading.Thread | None) -> None:
    """Stop a waitress server started with `run()` on `thread`.

    waitress's loop runs while its socket map has channels, and open keep-alive connections
    are channels too. So: stop accepting, let running requests finish (their answers are
    flushed by the loop, woken through the trigger), then close every channel, the trigger
    last, from inside the loop, which then ends by itself.
    """

    def stop_accepting() -> None:
        if server.socket is not None:
            server.del_channel()
            server.socket.close()

    def close_all() -> None:
        loop: Any = server  # the serving loop's channel map and trigger are not in waitress's type stubs
        for channel in list(loop._map.values()):
            if channel is not loop.trigger:
                channel.close()
        loop.trigger.close()

    _in_loop(server, stop_accepting)
    server.task_dispatcher.shutdown(timeout=5)
    _in_loop(server, close_all)
    if thread is not None:
        thread.join(timeout=10)


def _in_loop(server: BaseWSGIServer, thunk: Callable[[], None]) -> None:
    """Run `thunk` on the serving loop; if the loop has already closed its trigger, run it here."""
    loop: Any = server  # the trigger is not in waitress's type stubs
    try:
        loop.trigger.pull_trigger(thunk)
    except OSError:
        thunk()


def make_server(
    app: WSGIApplication, *, host: str, port: int, threads: int = 8, max_body: int | None = None
) -> BaseWSGIServer:
    """Create (but do not start) a waitress server; port 0 picks a free port.

    `max_body`: the largest request body, in bytes, waitress reads; a longer one is answered
    413 and its connection closed, before the application sees it (by Content-Length at once,
    a chunked body as soon as it has gone past). None: waitress's own limit, 1 GB.
    """
    _allow_descriptors(CONNECTION_LIMIT + _SPARE_DESCRIPTORS)
    limits: dict[str, Any] = {} if max_body is None else {"max_request_body_size": max_body}
    server = create_server(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="servicedesk",
        clear_untrusted_proxy_headers=True,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_TIMEOUT_S,
        cleanup_interval=_CLEANUP_INTERVAL_S,
        max_request_header_size=MAX_HEADER_BYTES,
        asyncore_use_poll=True,
        **limits,
    )
    # One host and port: one server, not the several of a MultiSocketServer.
    assert isinstance(server, BaseWSGIServer)
    server.channel_class = _TimedChannel
    return server


def serve_in_thread(
    app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0, threads: int = 8, max_body: int | None = None
) -> RunningServer:
    """Start `app` on a daemon thread and return once the socket is bound."""
    server = make_server(app, host=host, port=port, threads=threads, max_body=max_body)
    bound_port = bound(server)
    thread = threading.Thread(target=server.run, name=f"http-{bound_port}", daemon=True)
    thread.start()
    log.debug("serving %s on %s:%s", getattr(app, "name", app), host, bound_port)
    return RunningServer(server=server, thread=thread, host=host, port=bound_port)
