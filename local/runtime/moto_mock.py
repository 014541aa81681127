"""moto's mock as a LocalAws runs it: the runtime's patches to moto (moto_patches.py), the in-process
Lambdas' patches, the mock itself and, in server mode, the moto server on loopback. They are started in
that order and stopped in the reverse one, so this is kept in one place apart from the deployment.
"""

from __future__ import annotations

from typing import Any

from local.runtime.lambdas import InProcessLambdas, clear_left_environment
from local.runtime.moto_patches import runtime_patches


class MotoMock:
    """The process-wide mock and what goes with it; `stop` is safe after a start that failed half way."""

    def __init__(self, lambdas: InProcessLambdas, *, fast_time: bool) -> None:
        self._lambdas = lambdas
        self._fast_time = fast_time
        self._patches: list[Any] = []
        self._mock: Any = None
        self._server: Any = None

    def start(self, *, server: bool, server_port: int) -> str | None:
        """Start it all; the moto server's URL in server mode."""
        from moto import mock_aws

        self._patches = runtime_patches(self._fast_time)
        for patch in self._patches:
            patch.start()
        self._lambdas.start()
        self._mock = mock_aws(
            config={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
        )
        self._mock.start()
        if not server:
            return None
        from moto.server import ThreadedMotoServer

        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=server_port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        self._lambdas.stop()
        clear_left_environment()
        while self._patches:
            self._patches.pop().stop()
