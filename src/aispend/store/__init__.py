"""Storage: schema, migrations and the write path for facts."""
