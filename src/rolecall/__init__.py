"""rolecall: pick an AWS role from a catalogue, assume it, and hand the identity on.

The package root stays import-light: ``rolecall --version`` and the cached fast paths must
not pay for boto3 or Textual.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
