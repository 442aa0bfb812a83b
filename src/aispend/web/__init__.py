"""Web interface: the JSON API (and, later, the dashboard pages)."""
