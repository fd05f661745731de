"""`python -m rolecall`."""

from rolecall.entry import run

run()
