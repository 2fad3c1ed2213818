"""HTTP without sockets: requests to a registered address are answered by a WSGI app in this process.

The bot's Webex client, the sandbox's webhook deliveries and a test's own `requests.post` all go
through `requests`; while an address is registered, every `requests.Session` hands the requests
for it to its app (werkzeug builds the WSGI environ as a server would), and everything else still
goes to the network. A request that took longer than its read timeout raises ReadTimeout after the
app has answered, as a slow server's would: the request took effect, the caller does not know.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPResponse
from werkzeug.test import EnvironBuilder, run_wsgi_app

WsgiApp = Callable[..., Any]
Timeout = float | tuple[float | None, float | None] | None

_numbers = itertools.count(1)


def _body(body: object) -> bytes:
    """The bytes of a prepared request's body: bytes, text, a file-like (a multipart encoder) or chunks."""
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    read = getattr(body, "read", None)
    if read is not None:
        data = read()
        return data.encode("utf-8") if isinstance(data, str) else data
    return b"".join(c.encode("utf-8") if isinstance(c, str) else c for c in body)  # type: ignore[attr-defined]


def _read_timeout(timeout: Timeout) -> float | None:
    return timeout[1] if isinstance(timeout, tuple) else timeout


class WsgiAdapter(BaseAdapter):
    """A requests transport that calls a WSGI app instead of opening a connection."""

    def __init__(self, app: WsgiApp) -> None:
        super().__init__()
        self.app = app

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Timeout = None,
        verify: bool | str = True,
        cert: object = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Answer `request` with the app's response."""
        assert request.url is not None and request.method is not None
        url = urlsplit(request.url)
        builder = EnvironBuilder(
            path=url.path or "/",
            base_url=f"{url.scheme}://{url.netloc}",
            query_string=url.query,
            method=request.method,
            headers=list(request.headers.items()),
            input_stream=BytesIO(_body(request.body)),
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
        )
        started = time.monotonic()
        try:
            app_iter, status, headers = run_wsgi_app(self.app, builder.get_environ(), buffered=True)
            try:
                data = b"".join(app_iter)
            finally:
                close = getattr(app_iter, "close", None)
                if close is not None:
                    close()
        finally:
            builder.close()
        limit = _read_timeout(timeout)
        if limit is not None and time.monotonic() - started > limit:
            raise requests.ReadTimeout(f"in-process read timed out ({limit} s)", request=request)
        code, _, reason = status.partition(" ")
        response = requests.Response()
        response.status_code = int(code)
        response.reason = reason
        response.headers = CaseInsensitiveDict(headers.items())
        response.raw = HTTPResponse(
            body=BytesIO(data),
            headers=dict(headers.items()),
            status=int(code),
            reason=reason,
            preload_content=False,
            decode_content=False,
        )
        response.encoding = get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        # requests types `connection` as its HTTPAdapter; any adapter does.
        response.connection = self  # type: ignore[assignment]
        return response

    def close(self) -> None:
        """Nothing to release: there is no connection."""


class Loopback:
    """The addresses answered in this process, and the patch on `requests.Session` that routes them."""

    def __init__(self) -> None:
        self._apps: dict[str, WsgiAdapter] = {}
        self._lock = threading.Lock()
        self._original: Callable[..., BaseAdapter] | None = None

    def register(self, name: str, app: WsgiApp) -> str:
        """Answer requests to a new address with `app`; returns the address (no trailing slash):
        http://<name>.invalid while that is free, so every test's exchanges name the same hosts."""
        with self._lock:
            base = f"http://{name}.invalid"
            while base + "/" in self._apps:
                base = f"http://{name}-{next(_numbers)}.invalid"
            self._apps[base + "/"] = WsgiAdapter(app)
            if self._original is None:
                self._install()
        return base

    def unregister(self, base: str) -> None:
        """Stop answering `base`; once nothing is registered, sessions are as requests made them."""
        with self._lock:
            self._apps.pop(base + "/", None)
            if not self._apps and self._original is not None:
                requests.Session.get_adapter = self._original  # type: ignore[method-assign]
                self._original = None

    def adapter_for(self, url: str) -> WsgiAdapter | None:
        """The adapter answering `url`, if any."""
        with self._lock:
            return next((adapter for prefix, adapter in self._apps.items() if url.startswith(prefix)), None)

    def _install(self) -> None:
        original = requests.Session.get_adapter
        self._original = original
        loopback = self

        def get_adapter(session: requests.Session, url: str) -> BaseAdapter:
            return loopback.adapter_for(url) or original(session, url)

        requests.Session.get_adapter = get_adapter  # type: ignore[method-assign,assignment]


loopback = Loopback()


@dataclass
class InProcessServer:
    """An app answering at `url` in this process: the in-process twin of bot.serving.RunningServer."""

    url: str

    def stop(self) -> None:
        """Stop answering."""
        loopback.unregister(self.url)


def serve_in_process(name: str, app: WsgiApp) -> InProcessServer:
    """Answer requests to a new address named after `name` with `app`."""
    return InProcessServer(loopback.register(name, app))
