"""The sync engine: plans windows, paces and retries requests, commits pages with their checkpoints."""
