"""`python -m rolecall`."""

from rolecall.cli import run

run()
