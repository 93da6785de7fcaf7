"""Crisis domain."""
