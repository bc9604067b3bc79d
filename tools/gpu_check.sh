#!/usr/bin/env bash
# GPU verification run for the lent H100 (device tool): builds the CUDA configuration, runs the
# CUDA tests, the CPU tests, compute-sanitizer over the CUDA tests and (optionally) the CUDA
# benchmarks, writing logs and a summary under $OUT. Not used by CI.
# Usage (on the GPU machine): bash tools/gpu_check.sh [build] [test] [cpu] [sanitize] [bench FILTER]
# The build folder lives under /tmp so that back-to-back calls on a warm machine reuse it.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-/tmp/lowbit-out}
BUILD=${LOWBIT_GPU_BUILD:-/tmp/lb-build}
mkdir -p "$OUT"
summary="$OUT/summary.txt"
note() { echo "$*" | tee -a "$summary"; }
stage() { # stage NAME TIMEOUT CMD... : runs CMD with a time limit, logs to $OUT/NAME.log
  local name=$1 limit=$2; shift 2
  local t0=$(date +%s)
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  note "stage $name: rc=$rc in $(( $(date +%s) - t0 )) s"
  return $rc
}
gtest_failures() { grep -E '^\[  FAILED  \]|^\[  PASSED  \]|tests? ran|SKIPPED \]' "$1" | sort | uniq -c | sort -rn | head -40 | tee -a "$summary"; }

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(build test cpu sanitize)
bin=$BUILD/tests/lowbit_tests

for ((i = 0; i < ${#stages[@]}; i++)); do
  case ${stages[$i]} in
  build)
    { date -u; nvidia-smi; nvcc --version; cmake --version; g++ --version | head -1; nproc; } >"$OUT/env.txt" 2>&1
    gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
    [ -f "$BUILD/CMakeCache.txt" ] || stage configure 120 cmake -S . -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
      -DLOWBIT_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a || { tail -40 "$OUT/configure.log"; exit 1; }
    stage build 480 cmake --build "$BUILD" -j"$(nproc)" --target lowbit_tests lowbit-bench lowbit_cli \
      || { grep -E 'error|Error' "$OUT/build.log" | head -40; tail -20 "$OUT/build.log"; exit 1; } ;;
  test)
    stage test_cuda 300 "$bin" --gtest_filter='*CUDA*' --gtest_output=xml:"$OUT/test_cuda.xml"
    gtest_failures "$OUT/test_cuda.log" ;;
  cpu)
    stage test_cpu 300 "$bin" --gtest_filter='-*CUDA*:Slow*:*/Slow*'
    gtest_failures "$OUT/test_cpu.log" ;;
  sanitize)
    for tool in memcheck racecheck synccheck initcheck; do
      filter='*CUDA*:-*OutOfMemory*'  # that test provokes cudaMalloc failures on purpose
      [ "$tool" = racecheck ] || [ "$tool" = synccheck ] && filter='*CUDA*Quant*:*CUDA*Reduce*:*CUDA*Xnor*:*CUDA*Binary*:*CUDA*Norm*:*CUDA*Loss*'
      stage "sanitize_$tool" 240 compute-sanitizer --tool "$tool" --error-exitcode 9 "$bin" --gtest_filter="$filter"
      grep -E 'ERROR SUMMARY|^\[  FAILED  \]|tests? ran' "$OUT/sanitize_$tool.log" | sort | uniq -c | head -20 | tee -a "$summary"
    done ;;
  bench)
    i=$((i + 1)); filter=${stages[$i]:-Cuda}
    stage bench 400 "$BUILD/bench/lowbit-bench" --benchmark_filter="$filter" \
      --benchmark_out="$OUT/bench.json" --benchmark_out_format=json --benchmark_min_time=0.2s
    tail -80 "$OUT/bench.log" ;;
  train)  # short end-to-end training runs on the GPU (Fashion-MNIST carried in .gpu-data/)
    export LOWBIT_FASHION_MNIST_DIR=$PWD/.gpu-data/fashion-mnist
    cli=$BUILD/tools/lowbit
    stage train_lenet5 150 "$cli" train --model lenet5 --dataset fashion-mnist --epochs 3 --batch-size 64 \
      --optimizer adam --lr 3e-3 --schedule cosine-iter --device cuda --out /tmp/runs/lenet5
    tail -5 "$OUT/train_lenet5.log"
    stage train_lenet5_ewgs 120 "$cli" train --model lenet5 --dataset fashion-mnist --epochs 1 --batch-size 64 \
      --optimizer adam --lr 1e-4 --quant ewgs --w-bits 2 --a-bits 2 --quant-lr 1e-4 \
      --init-from /tmp/runs/lenet5/last.safetensors --device cuda --out /tmp/runs/lenet5-ewgs
    tail -5 "$OUT/train_lenet5_ewgs.log"
    stage train_resnet20 200 "$cli" train --model resnet20 --dataset fashion-mnist --epochs 1 --batch-size 128 \
      --optimizer sgd --lr 0.1 --momentum 0.9 --weight-decay 1e-4 --schedule cosine-iter --device cuda --out /tmp/runs/resnet20
    tail -5 "$OUT/train_resnet20.log" ;;
  *) note "unknown stage ${stages[$i]}"; exit 2 ;;
  esac
done
cat "$summary"
