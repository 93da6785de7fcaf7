"""Simulated feeds: RSS 2.0 and Atom documents served with ETag and Last-Modified.

A conditional GET whose ``If-None-Match`` matches the current ETag gets a 304; adding an
entry changes the document and its ETag.
"""

from __future__ import annotations

import hashlib
import time
from email.utils import formatdate
from pathlib import Path

from tests.connectors_sim.server import SimRequest, SimResponse, SimServer, text_response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "connectors" / "rss"
CONTENT_TYPES = {"rss": "application/rss+xml; charset=utf-8",
                 "atom": "application/atom+xml; charset=utf-8"}


def fixture(name: str) -> str:
    """A recorded feed document from ``tests/fixtures/connectors/rss``."""
    return (FIXTURES / name).read_text(encoding="utf-8")


class FeedSim:
    """Feeds served at ``/feeds/{name}``."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.documents: dict[str, str] = {}
        self.modified: dict[str, float] = {}
        server.route("GET", "/feeds/*", self._feed)

    def publish(self, name: str, document: str) -> str:
        """Serve ``document`` at ``/feeds/{name}``; return the path."""
        self.documents[name] = document
        self.modified[name] = time.time()
        return f"/feeds/{name}"

    def load(self) -> list[str]:
        """Serve the recorded review feed (RSS) and blog feed (Atom); return their paths."""
        return [self.publish("reviews.rss", fixture("reviews.rss.xml")),
                self.publish("blog.atom", fixture("blog.atom.xml"))]

    def add_rss_item(self, name: str, guid: str, title: str, text: str) -> None:
        """Put a new ``<item>`` first in an RSS feed."""
        item = (f"<item><title>{title}</title><link>https://opiniones.example/r/{guid}</link>"
                f"<guid isPermaLink=\"false\">{guid}</guid>"
                f"<pubDate>{formatdate(time.time(), usegmt=True)}</pubDate>"
                f"<description>{text}</description></item>")
        document = self.documents[name]
        at = document.index("<item>")
        self.publish(name, document[:at] + item + document[at:])

    def etag(self, name: str) -> str:
        """The current strong ETag of a feed."""
        return '"' + hashlib.sha256(self.documents[name].encode()).hexdigest()[:16] + '"'

    def _feed(self, req: SimRequest) -> SimResponse:
        name = "/".join(req.path_params)
        if name not in self.documents:
            return text_response("not found", 404)
        etag = self.etag(name)
        headers = {"etag": etag,
                   "last-modified": formatdate(self.modified[name], usegmt=True),
                   "cache-control": "max-age=300"}
        if req.headers.get("if-none-match") == etag:
            return SimResponse(304, b"", headers)
        kind = "atom" if name.endswith("atom") else "rss"
        return text_response(self.documents[name], content_type=CONTENT_TYPES[kind],
                             headers=headers)
