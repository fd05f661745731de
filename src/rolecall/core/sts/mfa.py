"""MFA codes: the six-digit check and the ledger that stops a TOTP code being sent twice.

STS refuses a code it has already seen; the ledger remembers (as hashes) which codes were used
in which 30-second step, across processes, so the user is told to wait instead.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

from rolecall.core.private_files import read_private, write_private
from rolecall.core.sts.errors import MfaCodeInvalid, MfaCodeReused

_MFA_CODE = re.compile(r"[0-9]{6}")
TOTP_STEP = 30


class MfaLedger:
    """Remembers which MFA codes were used in which 30-second step, across processes.

    STS refuses a TOTP code the second time; telling the user to wait beats a denied call.
    Only a hash of (serial, code) is stored, never the code.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        """The ledger file (private, in the cache dir)."""
        self.clock = clock

    def _load(self) -> dict[str, float]:
        data = read_private(self.path)
        try:
            entries = json.loads(data) if data else {}
        except ValueError:
            return {}
        if not isinstance(entries, dict):
            return {}
        now = self.clock()
        return {
            k: v
            for k, v in entries.items()
            if isinstance(v, int | float) and now - v < 4 * TOTP_STEP
        }

    @staticmethod
    def _digest(serial: str, code: str) -> str:
        import hashlib

        return hashlib.sha256(f"{serial}\0{code}".encode()).hexdigest()

    def check(self, serial: str, code: str) -> None:
        """Refuse a code already used within its step (and the neighbouring ones)."""
        used_at = self._load().get(self._digest(serial, code))
        if used_at is not None and self.clock() - used_at < 2 * TOTP_STEP:
            wait = int(2 * TOTP_STEP - (self.clock() - used_at)) + 1
            raise MfaCodeReused(
                "this MFA code was already used; AWS accepts each code only once.",
                hint=f"wait for the next code (up to {wait} s) and enter that one",
            )

    def record(self, serial: str, code: str) -> None:
        """Note that `code` has been sent to STS for `serial`."""
        entries = self._load()
        entries[self._digest(serial, code)] = self.clock()
        write_private(self.path, json.dumps(entries).encode())


def check_mfa_code(code: str) -> str:
    """Return `code` stripped if it is six digits, else raise `MfaCodeInvalid`."""
    code = code.strip().replace(" ", "")
    if not _MFA_CODE.fullmatch(code):
        raise MfaCodeInvalid(
            "an MFA code is six digits.", hint="type the code your authenticator shows now"
        )
    return code
