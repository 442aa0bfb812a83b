"""Reports: one query layer for the CLI, the JSON API and exports."""
