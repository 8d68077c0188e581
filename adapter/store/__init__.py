"""Redis: the connection (or the embedded store), the key layout, and the repositories."""
