#!/usr/bin/env bash
# Issue #5's accuracy table: trains the float lenet5 and lenet5_ht on Fashion-MNIST, then
# fine-tunes every quantization method from the matching float checkpoint at every width it
# defines (W4A4, W2A2, W1A1), and prints a markdown table of test accuracies with the exact
# command of each row (also written to OUT/table.md; each run's folder and log are under OUT).
#
# Usage: tools/quant_sweep.sh CLI DATA_DIR DEVICE [OUT]
#   CLI       the lowbit binary (e.g. build/tools/lowbit)
#   DATA_DIR  the Fashion-MNIST folder (the four idx files)
#   DEVICE    cpu or cuda (passed to --device)
#   OUT       where runs go (default sweep-runs); running the sweep again over the same OUT keeps
#             the runs that finished (their final.safetensors and log) and redoes the others
# Environment (defaults in brackets):
#   EPOCHS [3] fine-tune epochs of each quantized run;  FP_EPOCHS [5] epochs of the float runs
#   LR [1e-3] and QUANT_LR [1e-3]: Adam learning rates of the weights and of the quantizer
#     parameters (cosine per iteration to 0, batch 64) of the runs on lenet5; LR_HT [3e-3] both
#     rates of the runs on lenet5_ht (their fixed-range levels need the latent weights to move
#     further, from the float net's ~0.05 out to the levels ±1: STE W4A4 gains 0.8 points over 1e-3);
#     FP_LR [3e-3] of the float runs
#   JOBS [1] quantized runs at a time (on a CPU with several cores: runs are single-threaded with
#     --deterministic, so JOBS = cores is the fast way there)
#   METHODS ["ewgs daq lsq dorefa pact sat aqe ste bnn xnor"]  WIDTHS ["4 2 1"]
#   LIMIT_TRAIN [0] train on the first N images only (a quick check of the script; 0 = all)
#   SEED [0]
# Which model a method gets: the methods with a learned or fitted activation range (EWGS, DAQ,
# LSQ, PACT, SAT; DoReFa's fixed [0, 1]) run on lenet5 (a ReLU before every quantized layer, as in
# the papers' ReLU nets); the methods whose activations are a sign or a ternary (BNN, XNOR-Net,
# AQE, STE at 1 bit) run on lenet5_ht (BN + HardTanh), since after a ReLU a sign sees only +1, and
# so does STE at every width (its levels have fixed ranges, [−1, 1] for weights and [0, 1] for
# activations, and only the BN after each layer makes the weights' scale free).
set -euo pipefail

if [ $# -lt 3 ]; then
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
  exit 2
fi
CLI=$1 DATA=$2 DEVICE=$3 OUT=${4:-sweep-runs}
EPOCHS=${EPOCHS:-3} FP_EPOCHS=${FP_EPOCHS:-5} LR=${LR:-1e-3} QUANT_LR=${QUANT_LR:-1e-3} LR_HT=${LR_HT:-3e-3}
FP_LR=${FP_LR:-3e-3}
JOBS=${JOBS:-1} METHODS=${METHODS:-"ewgs daq lsq dorefa pact sat aqe ste bnn xnor"} WIDTHS=${WIDTHS:-"4 2 1"}
LIMIT_TRAIN=${LIMIT_TRAIN:-0} SEED=${SEED:-0}
[ -x "$CLI" ] || { echo "quant_sweep: $CLI is not an executable" >&2; exit 2; }
[ -d "$DATA" ] || { echo "quant_sweep: data folder $DATA does not exist" >&2; exit 2; }
for m in $METHODS; do
  case $m in ewgs | daq | lsq | dorefa | pact | sat | aqe | ste | bnn | xnor) ;;
    *) echo "quant_sweep: unknown method '$m' in METHODS (known: ewgs daq lsq dorefa pact sat aqe ste bnn xnor)" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"

common=(--dataset fashion-mnist --data-dir "$DATA" --batch-size 64 --optimizer adam --schedule cosine-iter
  --deterministic --device "$DEVICE" --seed "$SEED" --log-every 0)
[ "$LIMIT_TRAIN" != 0 ] && common+=(--limit-train "$LIMIT_TRAIN")

# The settings of one method at one width: "MODEL|FLAGS", or nothing when the method does not
# define that width. Every method's layer flags are here; the choices are explained in
# README.md's results section.
method_setup() { # method bits
  local m=$1 b=$2
  case $m in
    ewgs | daq) echo "lenet5|--quant-options output_scale=1" ;;            # the papers' learned output scale
    lsq) [ "$b" -ge 2 ] && echo "lenet5|" ;;                                 # signed weights need 2 bits
    dorefa | pact) echo "lenet5|--quant-options output_scale=1" ;;          # tanh-normalized weights: scale back
    sat) echo "lenet5|" ;;                                                   # rescaled weights, fitted clip
    aqe) [ "$b" -le 2 ] && echo "lenet5_ht|--aqe-alpha-start 0.5 --aqe-alpha-end 1" ;;  # α ½ → 1: hard at the end
    ste) echo "lenet5_ht|" ;;                                                # fixed ranges: BN sets the scale
    bnn | xnor) [ "$b" = 1 ] && echo "lenet5_ht|" ;;                         # binary only
  esac
  return 0
}

# A run folder whose final checkpoint and log exist: a sweep started again over the same OUT keeps it.
finished() { [ -f "$1/final.safetensors" ] && [ "$(accuracy_of "$1.log")" != failed ]; }

accuracy_of() { # log -> "90.72" (the last "test accuracy" line) or "failed"
  local a
  a=$(grep -o 'test accuracy [0-9.]*%' "$1" 2>/dev/null | tail -1 | grep -o '[0-9.]*' || true)
  echo "${a:-failed}"
}

# ---- float models (both at once when JOBS > 1) ----
declare -A fp_acc fp_cmd
for model in lenet5 lenet5_ht; do
  cmd=("$CLI" train --model "$model" "${common[@]}" --epochs "$FP_EPOCHS" --lr "$FP_LR" --out "$OUT/fp_$model")
  fp_cmd[$model]="${cmd[*]}"
  if finished "$OUT/fp_$model"; then echo "== float $model: kept from an earlier sweep" >&2; continue; fi
  echo "== float $model" >&2
  rm -rf "${OUT:?}/fp_$model"
  if [ "$JOBS" -gt 1 ]; then "${cmd[@]}" >"$OUT/fp_$model.log" 2>&1 & else "${cmd[@]}" >"$OUT/fp_$model.log" 2>&1 || true; fi
done
wait
for model in lenet5 lenet5_ht; do
  [ -f "$OUT/fp_$model/final.safetensors" ] || { echo "quant_sweep: float $model failed, see $OUT/fp_$model.log" >&2; exit 1; }
  fp_acc[$model]=$(accuracy_of "$OUT/fp_$model.log")
done

# ---- quantized runs (JOBS at a time) ----
rows=()
for m in $METHODS; do
  for b in $WIDTHS; do
    setup=$(method_setup "$m" "$b")
    [ -n "$setup" ] || continue
    model=${setup%%|*} flags=${setup#*|}
    name="${m}_w${b}a${b}"
    lr=$LR qlr=$QUANT_LR
    [ "$model" = lenet5_ht ] && lr=$LR_HT qlr=$LR_HT
    # shellcheck disable=SC2206  # flags are words by design
    cmd=("$CLI" train --model "$model" "${common[@]}" --epochs "$EPOCHS" --lr "$lr" --quant-lr "$qlr"
      --init-from "$OUT/fp_$model/final.safetensors" --quant "$m" --w-bits "$b" --a-bits "$b" $flags --out "$OUT/$name")
    rows+=("$m|$b|$model|$name|${cmd[*]}")
    if finished "$OUT/$name"; then echo "== $name: kept from an earlier sweep" >&2; continue; fi
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
    echo "== $name" >&2
    rm -rf "${OUT:?}/$name"  # an unfinished run of an earlier sweep: the trainer refuses an existing run folder
    "${cmd[@]}" >"$OUT/$name.log" 2>&1 &
  done
done
wait || true

# ---- the table ----
{
  echo "Fashion-MNIST test accuracy; float models trained $FP_EPOCHS epochs, quantized runs fine-tuned $EPOCHS epochs"
  echo "from them (first and last layers in float). Device: $DEVICE."
  echo
  echo "| Method | W/A bits | Model | Test accuracy | vs float | Command |"
  echo "| --- | --- | --- | --- | --- | --- |"
  for model in lenet5 lenet5_ht; do
    echo "| float | 32/32 | $model | ${fp_acc[$model]}% | — | \`${fp_cmd[$model]}\` |"
  done
  for row in "${rows[@]}"; do
    IFS='|' read -r m b model name cmd <<<"$row"
    acc=$(accuracy_of "$OUT/$name.log")
    if [ "$acc" = failed ]; then
      diff="—"
    else
      diff=$(awk -v a="$acc" -v f="${fp_acc[$model]}" 'BEGIN { printf "%+.2f", a - f }')
      acc="$acc%"
    fi
    echo "| $m | $b/$b | $model | $acc | $diff | \`$cmd\` |"
  done
} | tee "$OUT/table.md"
