#!/usr/bin/env bash
# Issue #7's MINW-Net accuracy table (the AQE paper's Table I layout, spec §5.6): trains the float
# network and MINW-Net with AQE for every pair of M-bit inputs and N-bit weights, M, N in
# {1, 2, 3, 16}, from scratch on Fashion-MNIST with the aqe-minw recipe (Adam 0.01, exponential
# decay, weights clipped to [-1, 1] after each step, every weight quantized with the first and
# last layers' at N bits, every layer's input but the image, the last layer's too, at M bits,
# image input and logits float), α ramped linearly per epoch from the
# paper's ½ to ALPHA_END (1: the last epoch trains the hard forward that the test uses; with the
# paper's fixed ½ a short run keeps a large gap between its mixed training forward and the hard
# test forward). "16" is the paper's
# unquantized (fp16) operand: here width 32, the tensor stays f32. Optionally (EXTRAS=1) three
# runs at M = N = 2 measure the choices the paper leaves open: the ternary weight threshold, the
# α schedule and the learning-rate decay. Prints a markdown table (rows M, columns N) and each
# run's exact command (also written to OUT/table.md; each run's folder and log are under OUT).
#
# Usage: tools/minw_sweep.sh CLI DATA_DIR DEVICE [OUT]
#   CLI       the lowbit binary (e.g. build/tools/lowbit)
#   DATA_DIR  the Fashion-MNIST folder (the four idx files)
#   DEVICE    cpu or cuda (passed to --device)
#   OUT       where runs go (default minw-runs); running the sweep again over the same OUT keeps
#             the runs that finished (their final.safetensors and log) and redoes the others
# Environment (defaults in brackets):
#   MODEL [minw_d]  WIDTH [1]: --width-mult, the conv channels' multiplier (0.25 on a small CPU)
#   EPOCHS [3]  BATCH [64]  LR [0.01]
#   GAMMA: the exponential decay per epoch [100x over the run: 0.01^(1/(EPOCHS-1)), as the
#     recipe's 0.977237 over 200 epochs]
#   ALPHA_END [1]: α of the last epoch (0.5 = the paper's fixed α)
#   BITS ["1 2 3 16"]: the widths of M and N (16 = float operand; the 16/16 pair is the FP net)
#   EXTRAS [1]: also the threshold / α / decay runs at 2/2 (0: not)
#   JOBS [1] runs at a time (runs are single-threaded with --deterministic)
#   LIMIT_TRAIN [0] train on the first N images only (0 = all)  SEED [0]
set -euo pipefail

if [ $# -lt 3 ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
fi
CLI=$1 DATA=$2 DEVICE=$3 OUT=${4:-minw-runs}
MODEL=${MODEL:-minw_d} WIDTH=${WIDTH:-1} EPOCHS=${EPOCHS:-3} BATCH=${BATCH:-64} LR=${LR:-0.01} ALPHA_END=${ALPHA_END:-1}
BITS=${BITS:-"1 2 3 16"} EXTRAS=${EXTRAS:-1} JOBS=${JOBS:-1} LIMIT_TRAIN=${LIMIT_TRAIN:-0} SEED=${SEED:-0}
if [ -z "${GAMMA:-}" ]; then
  GAMMA=$(awk -v e="$EPOCHS" 'BEGIN { printf "%.6g", (e > 1 ? exp(log(0.01) / (e - 1)) : 1) }')
fi
[ -x "$CLI" ] || { echo "minw_sweep: $CLI is not an executable" >&2; exit 2; }
[ -d "$DATA" ] || { echo "minw_sweep: data folder $DATA does not exist" >&2; exit 2; }
for b in $BITS; do
  case $b in 1 | 2 | 3 | 16) ;; *) echo "minw_sweep: BITS takes 1, 2, 3 and 16, got '$b'" >&2; exit 2 ;; esac
done
mkdir -p "$OUT"

common=(--recipe aqe-minw --model "$MODEL" --width-mult "$WIDTH" --dataset fashion-mnist --data-dir "$DATA"
  --epochs "$EPOCHS" --batch-size "$BATCH" --lr "$LR" --deterministic --device "$DEVICE"
  --seed "$SEED" --log-every 0)
[ "$LIMIT_TRAIN" != 0 ] && common+=(--limit-train "$LIMIT_TRAIN")

flag_bits() { [ "$1" = 16 ] && echo 32 || echo "$1"; }  # the paper's 16 (float operand) is width 32

accuracy_of() { # log -> "90.72" (the last "test accuracy" line) or "failed"
  local a
  a=$(grep -o 'test accuracy [0-9.]*%' "$1" 2>/dev/null | tail -1 | grep -o '[0-9.]*' || true)
  echo "${a:-failed}"
}

declare -A cmd_of  # run name -> command
order=()
start() { # name args...: runs the CLI with the common flags and args into OUT/name, JOBS at a time
  local name=$1
  shift
  local cmd=("$CLI" train "${common[@]}") # the schedules unless args set them (the CLI refuses a flag twice)
  [[ " $* " == *" --gamma "* ]] || cmd+=(--gamma "$GAMMA")
  [[ " $* " == *" --aqe-alpha-end "* ]] || cmd+=(--aqe-alpha-end "$ALPHA_END")
  cmd+=("$@" --out "$OUT/$name")
  cmd_of[$name]="${cmd[*]}"
  order+=("$name")
  if [ -f "$OUT/$name/final.safetensors" ] && [ "$(accuracy_of "$OUT/$name.log")" != failed ]; then
    echo "== $name: kept from an earlier sweep" >&2
    return
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
  echo "== $name ($(date -u +%H:%M:%S))" >&2
  rm -rf "${OUT:?}/$name"  # an unfinished run of an earlier sweep: the trainer refuses an existing run folder
  "${cmd[@]}" >"$OUT/$name.log" 2>&1 &
}

start fp --quant none --w-bits 32 --a-bits 32
for m in $BITS; do
  for n in $BITS; do
    [ "$m" = 16 ] && [ "$n" = 16 ] && continue
    start "m${m}_n${n}" --w-bits "$(flag_bits "$n")" --a-bits "$(flag_bits "$m")"
  done
done
if [ "$EXTRAS" = 1 ]; then
  start x_delta_fixed --w-bits 2 --a-bits 2 --quant-options delta=0.5  # ternary weights: Δ = ½ instead of 0.7·mean|W|
  start x_alpha_fixed --w-bits 2 --a-bits 2 --aqe-alpha-end 0.5        # the paper's fixed α = ½
  start x_no_decay --w-bits 2 --a-bits 2 --gamma 1                     # constant lr instead of the decay
fi
wait || true

cell() { # name -> "87.12%" or "failed"
  local a
  a=$(accuracy_of "$OUT/$1.log")
  [ "$a" = failed ] && echo failed || echo "$a%"
}

# ---- the table ----
{
  limit="all 60,000 training images"
  [ "$LIMIT_TRAIN" != 0 ] && limit="the first $LIMIT_TRAIN training images"
  echo "Fashion-MNIST test accuracy (10,000 images) of $MODEL (--width-mult $WIDTH) trained from scratch with AQE,"
  echo "$EPOCHS epochs on $limit, batch $BATCH, Adam lr $LR × $GAMMA per epoch, α ½ → $ALPHA_END. Rows: M-bit inputs;"
  echo "columns: N-bit weights (16 = float operand, f32 here). Device: $DEVICE."
  echo
  header="| M \\ N |" rule="| --- |"
  for n in $BITS; do header+=" $n |" rule+=" --- |"; done
  echo "$header"
  echo "$rule"
  for m in $BITS; do
    row="| $m |"
    for n in $BITS; do
      if [ "$m" = 16 ] && [ "$n" = 16 ]; then row+=" — |"; else row+=" $(cell "m${m}_n${n}") |"; fi
    done
    echo "$row"
  done
  echo
  echo "Float network (32/32): $(cell fp)."
  if [ "$EXTRAS" = 1 ]; then
    echo
    echo "Open choices at M = N = 2 (the table's cell: $(cell m2_n2): ternary weight Δ = 0.7·mean|W|, α ½ → $ALPHA_END,"
    echo "lr × $GAMMA per epoch), one change each:"
    echo
    echo "| Change | Test accuracy |"
    echo "| --- | --- |"
    echo "| ternary weight threshold fixed Δ = ½ | $(cell x_delta_fixed) |"
    echo "| α fixed at ½ (the paper) | $(cell x_alpha_fixed) |"
    echo "| no learning-rate decay (gamma 1) | $(cell x_no_decay) |"
  fi
  echo
  echo "Commands:"
  echo
  for name in "${order[@]}"; do echo "- $name: \`${cmd_of[$name]}\`"; done
} | tee "$OUT/table.md"
