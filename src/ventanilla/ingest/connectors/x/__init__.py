"""X (Twitter) API v2 connector; see :mod:`ventanilla.ingest.connectors.x.connector`."""

from ventanilla.ingest.connectors.x.connector import XConnector
from ventanilla.ingest.connectors.x.items import (
    NETWORK,
    normalise,
    normalise_dm,
    normalise_tweet,
    normalise_v1_tweet,
    parse_account_activity,
)
from ventanilla.ingest.connectors.x.signing import (
    crc_response_token,
    oauth1_header,
    verify_signature,
)

__all__ = [
    "NETWORK",
    "XConnector",
    "crc_response_token",
    "normalise",
    "normalise_dm",
    "normalise_tweet",
    "normalise_v1_tweet",
    "oauth1_header",
    "parse_account_activity",
    "verify_signature",
]
