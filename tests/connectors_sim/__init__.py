"""Local simulated social networks: tiny HTTP servers that replay documented payloads."""
