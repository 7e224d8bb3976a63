#!/usr/bin/env bash
# The engine on a GPU in one prepared run: its correctness tests on CUDA in bf16 and fp16
# (the compiled step included), then the benchmarks with Code Llama 7B's real shape and
# random weights in bf16, each table with its baseline from the same run. Every table
# and test log is written to $OUT (default /tmp/tandem-gpu).
#
#   bash tests/bench/gpu.sh [SHAPE]         # SHAPE: 7b (default), 13b, 34b
#   bash tests/bench/gpu.sh --cpu           # the same script on the CPU: no CUDA install,
#                                           # fp32, the tiny shape, short runs (a dry run)
#   bash tests/bench/gpu.sh --no-tests      # the benchmarks only
#
# Python: $PYTHON if set; else .venv/bin/python when its torch sees a GPU; else a
# .venv-gpu with the CUDA build of torch from $TORCH_INDEX (default cu128).
set -euo pipefail
cd "$(dirname "$0")/../.."
cpu=0
tests=1
shape=7b
for arg in "$@"; do
  case "$arg" in
    --cpu) cpu=1 ;;
    --no-tests) tests=0 ;;
    -h | --help) sed -n 2,13p "$0"; exit 0 ;;
    *) shape="$arg" ;;
  esac
done
OUT="${OUT:-/tmp/tandem-gpu}"
mkdir -p "$OUT"
say() { printf '\n=== %s\n' "$*" | tee -a "$OUT/summary.txt"; }

cuda_ok() { "$1" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; }

if [ -n "${PYTHON:-}" ]; then
  py="$PYTHON"
elif [ "$cpu" = 1 ]; then
  py=.venv/bin/python
elif cuda_ok .venv/bin/python; then
  py=.venv/bin/python
else
  say "installing the CUDA build of torch into .venv-gpu"
  [ -x .venv-gpu/bin/python ] || python3 -m venv .venv-gpu
  .venv-gpu/bin/pip install -q --disable-pip-version-check "torch==2.13.*" \
    --index-url "${TORCH_INDEX:-https://download.pytorch.org/whl/cu128}"
  .venv-gpu/bin/pip install -q --disable-pip-version-check -e '.[local,test]'
  py=.venv-gpu/bin/python
fi

if [ "$cpu" = 1 ]; then
  device=cpu dtypes=(fp32) shape=tiny
  runs=(--runs 2 --steps 5 --requests 1,2) prompts=256,512 new=8 keys=(--keys 4 --baseline-keys 2)
  clients=1,2 sizes=256 decode_extra=(--runs 2)
else
  device=cuda dtypes=(bf16 fp16)
  runs=(--runs 7 --steps 50) prompts=512,2048,8192 new=128 keys=(--keys 30 --baseline-keys 3)
  clients=1,2,4,8,16 sizes=1024,4096 decode_extra=(--runs 5)
fi
"$py" -c 'import torch, transformers; print("torch", torch.__version__, "transformers",
transformers.__version__, "cuda", torch.cuda.is_available(),
torch.cuda.get_device_name() if torch.cuda.is_available() else "")' | tee -a "$OUT/summary.txt"

status=0
[ "$tests" = 1 ] || dtypes=()
for dtype in "${dtypes[@]}"; do
  say "engine correctness tests on $device in $dtype (the compiled step included)"
  TANDEM_TEST_DEVICE=$device TANDEM_TEST_DTYPE=$dtype TANDEM_TEST_COMPILE=1 \
    "$py" -m pytest -q -p no:cacheprovider -s tests/unit/engine/test_decode.py \
    tests/integration/test_engine_parity.py >"$OUT/tests-$dtype.txt" 2>&1 || status=1
  tail -n 3 "$OUT/tests-$dtype.txt" | tee -a "$OUT/summary.txt"
done

bench() {  # NAME COMMAND...: run one benchmark, its table to $OUT/NAME.md
  local name="$1"
  shift
  say "$name: $*"
  "$@" >"$OUT/$name.md" 2>"$OUT/$name.log" || { status=1; tail -n 5 "$OUT/$name.log"; }
  cat "$OUT/$name.md" >>"$OUT/summary.txt"
}
dt=$([ "$cpu" = 1 ] && echo fp32 || echo bf16)
bench step "$py" -m tests.bench.bench_step --shape "$([ "$cpu" = 1 ] && echo tiny || echo "$shape")" \
  --device "$device" --dtype "$dt" --compiled "${runs[@]}"
bench decode "$py" -m tests.bench.bench_decode --random-weights "$shape" --device "$device" \
  --dtype "$dt" --prompts "$prompts" --new "$new" --batch 1,8 "${decode_extra[@]}"
common=(--shape "$shape" --device "$device")
bench keystroke "$py" -m tests.bench.bench_keystroke "${common[@]}" --sizes "$sizes" --trials 5
bench windows "$py" -m tests.bench.bench_windows "${common[@]}" --clients "$clients" --rounds 2 \
  --new "$new"
bench typing "$py" -m tests.bench.bench_typing "${common[@]}" "${keys[@]}"
say "done (status $status); tables and logs in $OUT"
exit "$status"
