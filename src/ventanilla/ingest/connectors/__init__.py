"""Connectors: one module per network, each turning the network's items into IncomingPost."""
