"""Chat channel tests."""
