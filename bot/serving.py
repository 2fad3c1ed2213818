"""Serve a WSGI app with waitress, in the foreground or on a background thread."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from waitress.server import create_server

log = logging.getLogger(__name__)


@dataclass
class RunningServer:
    """A waitress server running on a daemon thread; `port` is the bound port."""

    server: object
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


def stop_server(server, thread: threading.Thread | None) -> None:
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
        for channel in list(server._map.values()):
            if channel is not server.trigger:
                channel.close()
        server.trigger.close()

    _in_loop(server, stop_accepting)
    server.task_dispatcher.shutdown(timeout=5)
    _in_loop(server, close_all)
    if thread is not None:
        thread.join(timeout=10)


def _in_loop(server, thunk) -> None:
    """Run `thunk` on the serving loop; if the loop has already closed its trigger, run it here."""
    try:
        server.trigger.pull_trigger(thunk)
    except OSError:
        thunk()


def make_server(app, *, host: str, port: int, threads: int = 8):
    """Create (but do not start) a waitress server; port 0 picks a free port."""
    return create_server(app, host=host, port=port, threads=threads, ident="servicedesk", clear_untrusted_proxy_headers=True)


def serve_in_thread(app, *, host: str = "127.0.0.1", port: int = 0, threads: int = 8) -> RunningServer:
    """Start `app` on a daemon thread and return once the socket is bound."""
    server = make_server(app, host=host, port=port, threads=threads)
    bound_port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.run, name=f"http-{bound_port}", daemon=True)
    thread.start()
    log.debug("serving %s on %s:%s", getattr(app, "name", app), host, bound_port)
    return RunningServer(server=server, thread=thread, host=host, port=bound_port)
