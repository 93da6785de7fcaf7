"""A tiny threaded HTTP server on 127.0.0.1 that plays a social network for connector tests.

Each simulator (``x.py``, ``meta.py``, ...) registers routes on a :class:`SimServer`; tests
inject faults (a 429 with a reset header, a burst of 500s, an expired token) and read the
request log to check what a connector actually sent.

    with SimServer() as sim:
        sim.route("GET", "/2/users/me", lambda req: json_response({"data": {...}}))
        sim.fail_with_rate_limit(reset_in=30)          # next request only
        sim.fail_with_status(500, times=3)             # next three requests
        sim.expire_token()                             # 401 until sim.renew_token()
        connector = XConnector(settings, creds, base_url=sim.base_url)
        ...
        assert sim.requests_to("POST", "/2/tweets")[0].json()["text"] == "Hola"

Routes match on method and exact path; a path may end in ``/*`` to match a prefix, and a
handler can read ``req.path_params`` (the rest after the prefix, split on ``/``).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(slots=True)
class SimRequest:
    """One request the simulator received (also what handlers get)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    path_params: list[str] = field(default_factory=list)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """First value of query parameter ``name`` (or form field, for urlencoded bodies)."""
        values = self.query.get(name)
        if values:
            return values[0]
        form = self.form()
        values = form.get(name)
        return values[0] if values else default

    def form(self) -> dict[str, list[str]]:
        """The body parsed as application/x-www-form-urlencoded (empty when it is not)."""
        ctype = self.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in ctype:
            return {}
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass(slots=True)
class SimResponse:
    """What a handler answers."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[SimRequest], SimResponse]


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> SimResponse:
    """A JSON answer."""
    all_headers = {"content-type": "application/json; charset=utf-8"}
    all_headers.update(headers or {})
    return SimResponse(status, json.dumps(data).encode("utf-8"), all_headers)


def text_response(
    text: str | bytes,
    status: int = 200,
    content_type: str = "text/plain; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> SimResponse:
    """A text (or XML) answer."""
    body = text.encode("utf-8") if isinstance(text, str) else text
    all_headers = {"content-type": content_type}
    all_headers.update(headers or {})
    return SimResponse(status, body, all_headers)


@dataclass(slots=True)
class Fault:
    """An answer served instead of the route's, for the next ``times`` matching requests.

    ``path_prefix`` limits the fault to some paths (None: any). ``times`` None: until cleared.
    """

    response: Callable[[], SimResponse]
    times: int | None = 1
    path_prefix: str | None = None

    def matches(self, path: str) -> bool:
        """Whether this fault applies to ``path``."""
        return self.path_prefix is None or path.startswith(self.path_prefix)


class SimServer:
    """A threaded HTTP server bound to 127.0.0.1 on a random free port."""

    def __init__(self) -> None:
        self._routes: dict[tuple[str, str], Handler] = {}
        self._prefix_routes: list[tuple[str, str, Handler]] = []
        self._faults: list[Fault] = []
        # Checked after faults, before routes: a non-None answer is served instead (token checks).
        self.guards: list[Callable[[SimRequest], SimResponse | None]] = []
        self._lock = threading.Lock()
        self.requests: list[SimRequest] = []
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        # The default 401 body; simulators replace it with their network's documented one.
        self.expired_token_response: Callable[[], SimResponse] = lambda: json_response(
            {"error": "invalid_token", "error_description": "The access token expired"}, 401
        )
        self.rate_limit_headers: Callable[[float], dict[str, str]] = lambda reset_in: {
            "retry-after": str(int(reset_in))
        }
        self.rate_limit_body: Any = {"error": "rate_limited"}

    # -- set-up ---------------------------------------------------------------------------

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Serve ``handler`` for ``method path`` (``/prefix/*`` matches any path below)."""
        if path.endswith("/*"):
            self._prefix_routes.append((method.upper(), path[:-1], handler))
            self._prefix_routes.sort(key=lambda r: -len(r[1]))
        else:
            self._routes[(method.upper(), path)] = handler

    def start(self) -> SimServer:
        """Start serving in a daemon thread."""
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                server._dispatch(self)

            def setup(self) -> None:
                # Headers and body go out in two writes: without NODELAY, Nagle plus the
                # client's delayed ACK costs 40 ms a request.
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                super().setup()

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        assert self._httpd is not None, "start() the simulator first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- faults ---------------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Serve ``fault`` before any route."""
        with self._lock:
            self._faults.append(fault)

    def fail_with_rate_limit(
        self, reset_in: float = 30, *, times: int = 1, path_prefix: str | None = None
    ) -> None:
        """Answer 429 with the simulator's rate-limit headers (reset ``reset_in`` s away)."""
        def response() -> SimResponse:
            return json_response(self.rate_limit_body, 429, self.rate_limit_headers(reset_in))

        self.inject(Fault(response, times, path_prefix))

    def fail_with_status(
        self, status: int = 500, *, times: int = 3, path_prefix: str | None = None
    ) -> None:
        """Answer ``status`` (a 5xx burst by default) for the next ``times`` requests."""
        body = {"error": "internal", "status": status}
        self.inject(Fault(lambda: json_response(body, status), times, path_prefix))

    def expire_token(self, *, path_prefix: str | None = None) -> None:
        """Answer the network's expired-token 401 until :meth:`renew_token`."""
        self.inject(Fault(self.expired_token_response, None, path_prefix))

    def renew_token(self) -> None:
        """Stop answering 401 (clears every standing fault)."""
        with self._lock:
            self._faults = [f for f in self._faults if f.times is not None]

    def clear_faults(self) -> None:
        """Remove every pending fault."""
        with self._lock:
            self._faults.clear()

    # -- request log ----------------------------------------------------------------------

    def requests_to(self, method: str, path: str) -> list[SimRequest]:
        """Requests received for ``method path`` (exact path), in order."""
        with self._lock:
            return [r for r in self.requests if r.method == method.upper() and r.path == path]

    def clear_log(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self.requests.clear()

    # -- serving --------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fault.matches(path):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _find(self, method: str, path: str) -> tuple[Handler | None, list[str]]:
        handler = self._routes.get((method, path))
        if handler is not None:
            return handler, []
        for r_method, prefix, r_handler in self._prefix_routes:
            if r_method == method and path.startswith(prefix):
                return r_handler, [p for p in path[len(prefix):].split("/") if p]
        return None, []

    def _dispatch(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        length = int(http.headers.get("content-length") or 0)
        body = http.rfile.read(length) if length else b""
        request = SimRequest(
            method=http.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in http.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(request)
        fault = self._take_fault(request.path)
        guarded = None if fault is not None else next(
            (r for r in (g(request) for g in list(self.guards)) if r is not None), None)
        if fault is not None:
            response = fault.response()
        elif guarded is not None:
            response = guarded
        else:
            handler, params = self._find(request.method, request.path)
            request.path_params = params
            if handler is None:
                response = json_response(
                    {"error": "not_found", "path": request.path, "method": request.method}, 404
                )
            else:
                try:
                    response = handler(request)
                except Exception as exc:  # a bug in a simulator shows up as a 599 with text
                    response = text_response(f"simulator error: {exc!r}", 599)
        http.send_response(response.status)
        headers = {k.lower(): v for k, v in response.headers.items()}
        headers.setdefault("content-length", str(len(response.body)))
        for name, value in headers.items():
            http.send_header(name, value)
        http.end_headers()
        if http.command != "HEAD":
            http.wfile.write(response.body)
