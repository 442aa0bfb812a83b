"""Cost engine: allocation of reported cost (and, later, list prices and custom rates)."""
