"""Run the API under uvicorn, with TCP_NODELAY kept on in multi-worker mode, and stop it
on SIGTERM/SIGINT with the clean-up (the embedded server's release) done first."""

from __future__ import annotations

import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


class TcpConfig(uvicorn.Config):
    """A uvicorn config whose pre-bound listener says it is TCP.

    uvicorn binds the listener for its worker processes with ``proto`` 0; accepted sockets
    inherit it and asyncio only sets TCP_NODELAY when ``proto`` is IPPROTO_TCP, so every
    keep-alive request then waits ~40 ms for the client's delayed ACK (uvicorn issue #3149,
    measured here: 44 ms for /api/v1/health with 2 workers, 1 ms with one).
    """

    def bind_socket(self) -> socket.socket:
        """The listener uvicorn would bind, re-wrapped with proto = IPPROTO_TCP."""
        sock = super().bind_socket()
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        tcp.set_inheritable(True)
        return tcp


def run_server(app: str, *, workers: int, **options: Any) -> None:
    """Serve the ASGI app (an import string); worker processes when workers > 1."""
    if workers <= 1:
        uvicorn.run(app, **options)
        return
    config = TcpConfig(app, workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()


#: The signals that stop `registry serve`.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopSignal(BaseException):
    """A stop signal arrived; raised so that finally blocks and exit hooks run.

    A BaseException, as KeyboardInterrupt: ``except Exception`` must not swallow it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stop_signals() -> Iterator[None]:
    """SIGTERM and SIGINT stop the block (with StopSignal), not the process.

    By default SIGTERM ends Python at once: no finally block, no exit hook. uvicorn handles
    both signals while it serves (draining in-flight requests), then raises the signal again
    at the handler it found, which is this one. Further signals wait for the clean-up. At the
    end the signal is delivered again to the handler from before, so the process ends as it
    would have (SIGTERM: killed by it; SIGINT: KeyboardInterrupt).
    """
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)
        if len(received) == 1:
            raise StopSignal(signum)

    before = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield
    except StopSignal:
        pass
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)
    if received:
        signal.raise_signal(received[0])
