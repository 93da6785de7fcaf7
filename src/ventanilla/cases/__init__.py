"""Cases domain."""
