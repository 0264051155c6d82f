"""``cedar serve`` as a process: one worker and two (the worker factory), and a store that
does not load (an error message, no traceback)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from .helpers import EXAMPLES, ROOT

START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


@pytest.mark.parametrize("workers", [1, 2])
def test_cedar_serve_process(workers: int) -> None:
    port = _free_port()
    command = [sys.executable, "-m", "cedarlang.cli", "serve", str(EXAMPLES / "todo"), "--port", str(port)]
    process = subprocess.Popen([*command, "--workers", str(workers)], env=_env(), stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/authzen-configuration", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, "cedar serve did not start"
                time.sleep(0.1)
        assert answer.json()["access_evaluation_endpoint"] == f"http://127.0.0.1:{port}/access/v1/evaluation"
        body = {
            "subject": {"type": "user", "id": "CiRmZDE2MTRkMy1jMzlhLTQ3ODEtYjdiZC04Yjk2ZjVhNTEwMGQSBWxvY2Fs"},
            "action": {"name": "can_create_todo"},
            "resource": {"type": "todo", "id": "t1"},
        }
        for _ in range(4):  # several connections: with two workers both answer
            assert httpx.post(f"http://127.0.0.1:{port}/access/v1/evaluation", json=body).json() == {
                "decision": True
            }
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_a_store_that_does_not_load_is_reported(tmp_path: Path) -> None:
    (tmp_path / "policies.cedar").write_text("permit (principal, action, resource) when { 1 + };\n")
    result = subprocess.run(
        [sys.executable, "-m", "cedarlang.cli", "serve", str(tmp_path), "--port", str(_free_port())],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "cannot load policies policies.cedar" in result.stderr and "Traceback" not in result.stderr
