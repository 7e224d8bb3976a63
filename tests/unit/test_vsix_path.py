"""One place for the VS Code .vsix: where `npm run package` writes it is where the READMEs install it from."""

from __future__ import annotations

import json
import re

from tests.paths import ROOT

PLUGIN = ROOT / "editor-plugins" / "vscode"
VSIX = "artifacts/tandem-vscode.vsix"  # relative to the repository's root


def test_npm_run_package_writes_where_the_install_command_reads() -> None:
    script = json.loads((PLUGIN / "package.json").read_text())["scripts"]["package"]
    out = re.search(r"--out (\S+)", script)
    assert out, script
    assert (PLUGIN / out.group(1)).resolve() == ROOT / VSIX
    readme = (PLUGIN / "README.md").read_text()
    assert f"code --install-extension {VSIX}" in readme
    assert "npm ci && npm run package" in readme  # the .vsix alone, without the test run
    assert "editor-plugins/vscode/artifacts" not in readme
    run_all = (ROOT / "tests" / "run-all.sh").read_text()
    assert "npm run -s package" in run_all and f"test -s {VSIX}" in run_all
    assert "editor-plugins/vscode/artifacts" not in run_all
    e2e = (
        PLUGIN / "test" / "e2e" / "harness.mjs"
    ).read_text()  # both e2e scenarios install from it
    assert "export const VSIX = path.join(ROOT, 'artifacts', 'tandem-vscode.vsix')" in e2e
