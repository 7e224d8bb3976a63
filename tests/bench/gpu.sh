#!/usr/bin/env bash
# The engine benchmarks on a GPU in one prepared run (meant to fit in about 8 minutes on one
# H200): Code Llama 7B's real shape with random weights, bf16, each table with its baseline
# from the same run. Not run yet: no GPU has been lent to this project's sessions so far.
#   bash tests/bench/gpu.sh [SHAPE]        # SHAPE: 7b (default), 13b, 34b
set -euo pipefail
cd "$(dirname "$0")/../.."
shape="${1:-7b}"
py=.venv/bin/python
common=(--shape "$shape" --device cuda)
"$py" tests/bench/bench_decode.py --random-weights "$shape" --device cuda --dtype bf16 \
  --prompts 512,2048,8192 --new 128 --chunk 2048
"$py" -m tests.bench.bench_keystroke "${common[@]}" --sizes 1024,4096 --trials 5
"$py" -m tests.bench.bench_windows "${common[@]}" --clients 1,2,4,8,16 --rounds 2 --new 128
"$py" -m tests.bench.bench_typing "${common[@]}" --keys 30 --baseline-keys 3
