"""aispend: a self-hostable AI token spend manager."""

__version__ = "0.1.0"
