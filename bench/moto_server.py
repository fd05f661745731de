"""A local moto server for the STS benchmarks; started (and stopped) by `bench/run.py`.

    python bench/moto_server.py

Listens on 127.0.0.1 on a free port, prints `http://127.0.0.1:PORT` on one line once it
answers, and stops when its stdin is closed (the parent closing the pipe, or dying). Running it
in its own process keeps moto's import, memory and threads out of the timing processes.
"""

from __future__ import annotations

import sys


def main() -> int:
    """Serve until stdin reaches end of file."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"http://{host}:{port}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
