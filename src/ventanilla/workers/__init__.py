"""Workers domain."""
