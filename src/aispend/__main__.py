"""`python -m aispend` runs the CLI."""

from aispend.cli import main

main()
