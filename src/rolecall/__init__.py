"""rolecall: pick an AWS role from a catalogue, assume it, and hand the identity on.

The package root stays import-light: ``rolecall --version`` and the cached fast paths must
not pay for boto3 or Textual.
"""

from __future__ import annotations

from rolecall.version import __version__

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: the cache-hit fast path never imports typing
if TYPE_CHECKING:
    from typing import Any

__all__ = ["__version__", "session"]


def session(target: str, **options: Any) -> Any:
    """A boto3 Session acting as `target` whose credentials refresh themselves.

    See `rolecall.core.library.session` for the options. Imported lazily: the package root
    stays cheap for the command line.
    """
    from rolecall.core.library import session as make_session

    return make_session(target, **options)
