"""Cost engine: list prices, rate cards and credits, reconciliation, allocation of reported cost."""
