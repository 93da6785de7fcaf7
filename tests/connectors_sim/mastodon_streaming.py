"""A simulated Mastodon streaming server (Server-Sent Events), beside a :class:`MastodonSim`.

Serves the documented endpoints ``GET /api/v1/streaming/user``,
``/api/v1/streaming/user/notification``, ``/api/v1/streaming/hashtag?tag=`` and the
multiplexed form ``/api/v1/streaming?stream=user:notification`` (or ``user``, ``hashtag``
with ``tag``), on a port of its own, as real instances do: the instance announces it in
``GET /api/v1/instance`` → ``urls.streaming_api`` (``ws://`` form), which clients follow.

Events are what Mastodon writes: ``event: notification`` / ``event: update`` and one
``data:`` line of JSON, then a blank line; a ``:)`` comment on connect and a ``:thump``
heartbeat comment whenever ``heartbeat`` seconds pass without an event (15 s on a real
instance; short here, so clients notice a stop quickly). The body is chunked.

    streaming = MastodonStreamingSim(sim).start()
    ...wait_for_connections(1)...
    sim.add_mention("…")            # stored in the simulator and pushed to open streams
    streaming.drop()                # every open stream ends abruptly (no final chunk)
    streaming.refuse(503, times=2)  # the next two connections are refused
"""

from __future__ import annotations

import json
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.connectors_sim.mastodon import TOKEN, MastodonSim
from tests.connectors_sim.server import SimRequest, SimResponse, json_response

_DROP = object()
_END = object()


@dataclass
class _Stream:
    kind: str  # "user", "user:notification" or "hashtag"
    tag: str | None
    events: queue.Queue[Any] = field(default_factory=queue.Queue)

    def wants(self, event: str, tag: str | None) -> bool:
        if self.kind == "hashtag":
            return event == "update" and tag is not None and tag.lower() == (self.tag or "").lower()
        if self.kind == "user:notification":
            return event == "notification"
        return event == "notification" or (event == "update" and tag is None)


class MastodonStreamingSim:
    """The streaming server of one simulated instance."""

    def __init__(self, sim: MastodonSim, *, heartbeat: float = 0.2) -> None:
        self.sim = sim
        self.heartbeat = heartbeat
        self._lock = threading.Condition()
        self._streams: list[_Stream] = []
        self._refusals: list[int] = []
        self.connections = 0  # streams opened since start
        self.sent: list[tuple[str, dict[str, Any]]] = []  # events written to a stream
        self.requests: list[str] = []  # paths with query, in order
        self._httpd: ThreadingHTTPServer | None = None
        sim.publishers.append(self._publish)
        sim.server.route("GET", "/api/v1/instance", self._instance)
        sim.server.route("GET", "/api/v1/instance/", self._instance)

    # -- control ------------------------------------------------------------------------

    def start(self) -> MastodonStreamingSim:
        """Serve on a free 127.0.0.1 port in a daemon thread."""
        streaming = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                streaming._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        """End every stream and stop serving."""
        with self._lock:
            for stream in self._streams:
                stream.events.put(_END)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._publish in self.sim.publishers:
            self.sim.publishers.remove(self._publish)

    def __enter__(self) -> MastodonStreamingSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "start() the streaming simulator first"
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def drop(self) -> int:
        """Cut every open stream abruptly (as a restarting proxy would); returns how many."""
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            stream.events.put(_DROP)
        return len(streams)

    def refuse(self, status: int = 503, *, times: int = 1) -> None:
        """Answer the next ``times`` connections with ``status`` instead of a stream."""
        with self._lock:
            self._refusals += [status] * times

    @property
    def open_streams(self) -> int:
        with self._lock:
            return len(self._streams)

    def wait_for_connections(self, count: int, timeout: float = 10.0) -> bool:
        """Wait until ``count`` streams were opened since start (a bounded wait, not a timing)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self.connections < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
        return True

    # -- the instance's announcement ------------------------------------------------------

    def _instance(self, req: SimRequest) -> SimResponse:
        ws = self.base_url.replace("http://", "ws://")
        return json_response({
            "uri": "brand.example", "title": "Brand social", "version": "4.3.0",
            "short_description": "", "description": "", "email": "admin@brand.example",
            "urls": {"streaming_api": ws}, "languages": ["es"], "registrations": False,
            "approval_required": False, "invites_enabled": False,
            "stats": {"user_count": 1, "status_count": 1, "domain_count": 1},
        })

    # -- publishing -----------------------------------------------------------------------

    def _publish(self, event: str, payload: dict[str, Any], tag: str | None) -> None:
        with self._lock:
            streams = [s for s in self._streams if s.wants(event, tag)]
        for stream in streams:
            stream.events.put((event, payload))

    # -- serving --------------------------------------------------------------------------

    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(http.path)
        query = parse_qs(parts.query)
        self.requests.append(http.path)
        token = (http.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or \
            (query.get("access_token") or [""])[0]
        kind, tag = self._which(parts.path, query)
        with self._lock:
            refusal = self._refusals.pop(0) if self._refusals else None
        if kind is None:
            self._answer(http, 404, {"error": "Not found"})
            return
        if token != TOKEN:
            self._answer(http, 401, {"error": "Error: Invalid access token"})
            return
        if refusal is not None:
            self._answer(http, refusal, {"error": "Error: streaming unavailable"})
            return
        stream = _Stream(kind, tag)
        with self._lock:  # subscribed before the client can see the answer: nothing slips by
            self._streams.append(stream)
            self.connections += 1
            self._lock.notify_all()
        try:
            http.send_response(200)
            http.send_header("Content-Type", "text/event-stream")
            http.send_header("Cache-Control", "no-store")
            http.send_header("Transfer-Encoding", "chunked")
            http.end_headers()
            self._chunk(http, b":)\n")
            while True:
                try:
                    item = stream.events.get(timeout=self.heartbeat)
                except queue.Empty:
                    self._chunk(http, b":thump\n")
                    continue
                if item is _DROP:
                    http.close_connection = True
                    http.connection.shutdown(socket.SHUT_RDWR)  # no final chunk: a broken stream
                    return
                if item is _END:
                    http.wfile.write(b"0\r\n\r\n")
                    http.close_connection = True
                    return
                event, payload = item
                data = json.dumps(payload, separators=(",", ":"))
                self._chunk(http, f"event: {event}\ndata: {data}\n\n".encode())
                with self._lock:
                    self.sent.append((event, payload))
        except OSError:
            http.close_connection = True  # the client went away
        finally:
            with self._lock:
                if stream in self._streams:
                    self._streams.remove(stream)

    @staticmethod
    def _which(path: str, query: dict[str, list[str]]) -> tuple[str | None, str | None]:
        tag = (query.get("tag") or [None])[0]
        if path == "/api/v1/streaming/user":
            return "user", None
        if path == "/api/v1/streaming/user/notification":
            return "user:notification", None
        if path == "/api/v1/streaming/hashtag" and tag:
            return "hashtag", tag
        if path.rstrip("/") == "/api/v1/streaming":
            stream = (query.get("stream") or [""])[0]
            if stream in ("user", "user:notification"):
                return stream, None
            if stream == "hashtag" and tag:
                return "hashtag", tag
        return None, None

    @staticmethod
    def _chunk(http: BaseHTTPRequestHandler, data: bytes) -> None:
        http.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        http.wfile.flush()

    @staticmethod
    def _answer(http: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        http.send_response(status)
        http.send_header("Content-Type", "application/json; charset=utf-8")
        http.send_header("Content-Length", str(len(data)))
        http.end_headers()
        http.wfile.write(data)
