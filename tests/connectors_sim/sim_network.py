"""The "sim" network's endpoint (see ``ventanilla.ingest.connectors.sim``): takes replies with an
Idempotency-Key, answers the same id for the same key, and can be slowed down or made to fail.

    with SimServer() as server:
        net = SimNetwork(server, delay=5.0)    # every POST /replies takes 5 s
        ...
        assert len(net.posted) == 1            # replies actually published, one per key
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer, json_response


@dataclass
class SimNetwork:
    """Routes of the simulated network on a SimServer; ``posted`` maps key -> published reply."""

    server: SimServer
    delay: float = 0.0
    posted: dict[str, dict[str, object]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.route("POST", "/replies", self._post)
        self.server.route("GET", "/replies/by-key/*", self._by_key)
        self.server.route("GET", "/me", lambda req: json_response({"account": "@SimBrand"}))

    def _post(self, req: SimRequest) -> SimResponse:
        key = req.headers.get("idempotency-key")
        if not key:
            return json_response({"error": "Idempotency-Key header required"}, 400)
        with self._lock:
            # Published on receipt, like a network that commits before it answers: a client that
            # dies while waiting for the answer has posted.
            if key not in self.posted:
                number = len(self.posted) + 1
                self.posted[key] = {"id": f"sim-{number}", "url": f"https://sim.example/p/{number}",
                                    **req.json()}
            reply = self.posted[key]
        if self.delay:
            time.sleep(self.delay)
        return json_response({"id": reply["id"], "url": reply["url"]}, 201)

    def _by_key(self, req: SimRequest) -> SimResponse:
        key = req.path_params[0] if req.path_params else ""
        with self._lock:
            reply = self.posted.get(key)
        if reply is None:
            return json_response({"error": "not_found"}, 404)
        return json_response({"id": reply["id"], "url": reply["url"]})
