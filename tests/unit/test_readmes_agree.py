"""The READMEs give one way to run a host and one default socket, the one the code uses."""

from __future__ import annotations

import pytest

from model_host.rpc.address import default_socket_path
from tests.paths import ROOT

READMES = [
    ROOT / "README.md",
    ROOT / "editor-plugins" / "nvim" / "README.md",
    ROOT / "editor-plugins" / "vscode" / "README.md",
]
DEFAULT_SOCKET = "unix:$XDG_RUNTIME_DIR/tandem/host.sock"


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_one_way_to_run_a_host(readme) -> None:  # type: ignore[no-untyped-def]
    text = readme.read_text()
    assert "python -m model_host" not in text  # `tandem-host` everywhere
    assert "/tmp/tandem.sock" not in text  # not the default: the server would not look there
    assert "tandem-host --model" in text
    assert DEFAULT_SOCKET in text


def test_the_default_socket_is_the_one_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", "/run/user/1000")
    assert f"unix:{default_socket_path()}" == DEFAULT_SOCKET.replace(
        "$XDG_RUNTIME_DIR", "/run/user/1000"
    )
