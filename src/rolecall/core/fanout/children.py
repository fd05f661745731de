"""One command per target, a few at a time, each with its target's identity.

Each child gets an explicit environment (`child_environment`: exactly what `rolecall exec`
gives), no shell, stdin from /dev/null (parallel children cannot share a terminal's input) and
a process group of its own, so that stopping the run stops everything the child started. Two
threads read its stdout and stderr line by line; whole lines go to the caller's sink under one
lock, so the lines of different targets never mix mid-line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import IO, NamedTuple

from rolecall.core.errors import CommandFailed, RolecallError
from rolecall.core.fanout.batch import Batch, Target, sibling
from rolecall.core.journal import Journal
from rolecall.core.shell_env import child_environment
from rolecall.core.sts.assumer import Assumer

Sink = Callable[[str, str, str], None]
"""Receives one line of a child: (target, "stdout" or "stderr", the line without its newline)."""

GRACE = 3.0
"""Seconds between SIGTERM and SIGKILL when a run is stopped."""

STOPPED = "stopped: the run was interrupted."
"""The error of a target whose command was stopped, or never started, by `stop`."""


class Outcome(NamedTuple):
    """What happened for one target."""

    target: str
    assumed_role_arn: str | None
    """None when the role could not be assumed."""
    exit: int | None
    """The command's exit status (128 + N when signal N ended it); None if it never ran."""
    stdout: str
    stderr: str
    seconds: float
    """From the start of the target's assumption to the end of its command."""
    error: str | None
    """Why the target failed without an exit status of its own (one sentence), or None."""

    @property
    def ok(self) -> bool:
        """The role was assumed and the command exited 0."""
        return self.error is None and self.exit == 0

    def record(self) -> dict[str, object]:
        """The JSON record of `rolecall each --output json`."""
        return dict(self._asdict())


class FanOut:
    """Runs `command` once per target of `batch`, at most `parallel` at a time.

    `start` returns at once; `wait` polls; `stop` (from any thread) starts no more commands and
    ends the running ones (SIGTERM to their process groups, SIGKILL after `GRACE` seconds).
    """

    def __init__(
        self,
        batch: Batch,
        command: Sequence[str],
        env: Mapping[str, str],
        parallel: int = 4,
        *,
        sink: Sink | None = None,
        keep_output: bool = True,
        journal: Journal | None = None,
        finished: Callable[[Outcome], None] | None = None,
    ) -> None:
        if not command:
            raise ValueError("no command")
        self.batch = batch
        self.command = list(command)
        self.env = dict(env)
        """The environment children start from (before the identity is added)."""
        self.parallel = max(1, parallel)
        self.sink = sink
        self.keep_output = keep_output
        """Keep each child's output for its `Outcome` (the JSON records and the TUI)."""
        self.journal = journal
        self.finished = finished
        """Called (from a worker thread) as each target ends."""
        self.outcomes: list[Outcome | None] = [None] * len(batch.targets)
        self._next = 0
        self._lock = threading.Lock()
        self._output = threading.Lock()
        self._stopping = threading.Event()
        self._running: dict[int, subprocess.Popen[bytes]] = {}
        self._workers: list[threading.Thread] = []

    # -- control -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker threads."""
        count = min(self.parallel, len(self.batch.targets))
        for number in range(count):
            worker = threading.Thread(target=self._work, name=f"fanout-{number}", daemon=True)
            self._workers.append(worker)
            worker.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds; True once every target has ended."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for worker in self._workers:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            worker.join(left)
            if worker.is_alive():
                return False
        return True

    def run(self) -> list[Outcome]:
        """Start, wait for the end, and return every outcome (blocking)."""
        self.start()
        while not self.wait(0.1):
            pass
        return self.results()

    def stop(self, force: bool = False) -> None:
        """Start nothing more and end the running commands (their whole process groups)."""
        again = self._stopping.is_set()
        self._stopping.set()
        kill = force or again
        with self._lock:
            running = list(self._running.values())
        for child in running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL if kill else signal.SIGTERM)
        if not kill and running:
            timer = threading.Timer(GRACE, self._kill_leftovers)
            timer.daemon = True
            timer.start()

    @property
    def stopped(self) -> bool:
        """Whether `stop` was called."""
        return self._stopping.is_set()

    def results(self) -> list[Outcome]:
        """The outcome of every target, in target order (a target that never started is
        reported as stopped)."""
        return [
            outcome or Outcome(t.role.target, None, None, "", "", 0.0, STOPPED)
            for t, outcome in zip(self.batch.targets, self.outcomes, strict=True)
        ]

    # -- workers -----------------------------------------------------------------------------

    def _kill_leftovers(self) -> None:
        with self._lock:
            running = list(self._running.values())
        for child in running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)

    def _work(self) -> None:
        assumer = sibling(self.batch.assumer)  # boto3 sessions are not shared between threads
        while True:
            with self._lock:
                index = self._next
                self._next += 1
            if index >= len(self.batch.targets):
                return
            target = self.batch.targets[index]
            if self._stopping.is_set():
                outcome = Outcome(target.role.target, None, None, "", "", 0.0, STOPPED)
            else:
                outcome = self._one(target, assumer)
            self.outcomes[index] = outcome
            if self.finished is not None:
                self.finished(outcome)

    def _one(self, target: Target, assumer: Assumer) -> Outcome:
        name = target.role.target
        started = time.monotonic()

        def failed(error: str, arn: str | None = None, code: int | None = None) -> Outcome:
            return Outcome(name, arn, code, "", "", _since(started), error)

        known = self.batch.failures.get(name)
        if known is not None:
            return failed(known.message)
        try:
            session = assumer.assume(target.role, self.batch.options)
        except RolecallError as error:
            return failed(error.message)
        arn = session.assumed_role_arn
        program = os.path.basename(self.command[0])
        if self.journal is not None:
            with self._lock:
                if any(fresh for _, fresh in assumer.last_chain):
                    self.journal.record_assumption(assumer.last_chain, used_by="each")
                self.journal.record("exec", session, program=program, used_by="each")
        if self._stopping.is_set():
            return failed(STOPPED, arn)
        try:
            child = subprocess.Popen(
                self.command,
                env=child_environment(self.env, session),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                process_group=0,
            )
        except OSError as error:
            failure = CommandFailed.starting(self.command[0], error)
            return failed(failure.message, arn, failure.exit_code)
        with self._lock:
            self._running[child.pid] = child
        if self._stopping.is_set():  # stopped while it was starting
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGTERM)
        assert child.stdout is not None and child.stderr is not None
        out: list[str] = []
        err: list[str] = []
        readers = [
            threading.Thread(target=self._pump, args=(name, "stdout", child.stdout, out)),
            threading.Thread(target=self._pump, args=(name, "stderr", child.stderr, err)),
        ]
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        status = child.wait()
        with self._lock:
            self._running.pop(child.pid, None)
        code = 128 - status if status < 0 else status
        stopped = self._stopping.is_set() and status != 0
        return Outcome(
            name,
            arn,
            code,
            "".join(out),
            "".join(err),
            _since(started),
            STOPPED if stopped else None,
        )

    def _pump(self, target: str, stream: str, pipe: IO[bytes], kept: list[str]) -> None:
        with pipe:
            for raw in iter(pipe.readline, b""):
                text = raw.decode("utf-8", "replace")
                if self.keep_output:
                    kept.append(text)
                if self.sink is not None:
                    with self._output:
                        self.sink(target, stream, text.removesuffix("\n"))


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
