"""rolecall's version: a leaf that every layer may import (the package root imports the
library API, so taking the version from there would make a cycle)."""

__version__ = "0.1.0"
