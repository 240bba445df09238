"""The shared servers: one nginx launcher, one fault server, and no test code in production."""

from __future__ import annotations

import ast
import socket
from pathlib import Path

import httpx
import pytest

from harness.errors import HarnessEnvironmentError
from harness.probes.faultserver import FaultServer, Reply
from harness.probes.nginx import NginxError, start_nginx
from harness.probes.outage import outage
from tests.helpers.tools import require_tool

PACKAGE = Path(__file__).parent.parent / "harness"


def test_production_code_imports_no_test_module() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [
                f"{path.relative_to(PACKAGE)}: {n}"
                for n in names
                if n.split(".")[0] == "tests" or n.startswith("harness.testing")
            ]
    assert offenders == []


@pytest.mark.needs_nginx
def test_nginx_serves_a_directory_and_stops(tmp_path: Path) -> None:
    require_tool("nginx")
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_text("hello\n")
    (tmp_path / "run").mkdir()
    with start_nginx(tmp_path / "run", f"        root {tmp_path / 'www'};") as server:
        assert httpx.get(f"{server.url}/hello.txt", timeout=5).text == "hello\n"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/hello.txt", timeout=2)


@pytest.mark.needs_nginx
def test_a_bad_configuration_is_an_environment_error_naming_nginx_s_complaint(
    tmp_path: Path,
) -> None:
    require_tool("nginx")
    with pytest.raises(NginxError, match="unknown directive") as info:
        start_nginx(tmp_path, "        no_such_directive on;", attempts=1)
    assert isinstance(info.value, HarnessEnvironmentError)


def _http2_preface_answer(url: str) -> bytes:
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        conn.settimeout(1)
        try:
            return conn.recv(4096)
        except TimeoutError:
            return b"<no answer>"


def test_a_grpc_client_gets_the_fault_of_the_default_route() -> None:
    with FaultServer(default=Reply(fault="500")) as server:
        assert _http2_preface_answer(server.url).startswith(b"HTTP/1.1 500")
    with outage("hang") as hung:
        assert _http2_preface_answer(hung.url) == b"<no answer>"


def test_outage_modes_answer_http_clients_as_named() -> None:
    with outage("http500") as broken:
        assert httpx.get(f"{broken.url}/ac/x", timeout=5).status_code == 500
    with outage("refuse") as refused, pytest.raises(httpx.ConnectError):
        httpx.get(f"{refused.url}/ac/x", timeout=5)
