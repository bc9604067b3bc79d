#!/usr/bin/env bash
# The main job (README): installs missing Debian packages, builds build/ with the default options
# (CUDA backend AUTO), trains the binary (W1A1, BNN) bnn_lenet on Fashion-MNIST, exports it to a
# .lbm deploy model and runs it with `lowbit infer`, which prints the deploy model's and the
# training graph's test accuracy and throughput and the deploy speed-up.
# Device: the GPU when `nvidia-smi` works and the build has the CUDA backend (10 epochs), else the
# CPU (2 epochs, a few minutes on 2 cores). The run lives in runs/main_job/ and is redone from
# scratch on every call, so the job can be repeated.
# Usage: sudo bash tools/main_job.sh   (or as root: bash tools/main_job.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/lib/setup.sh

jobs=$(nproc)
lowbit=build/tools/lowbit
run=runs/main_job

lowbit_phase "dependencies" lowbit_install_deps
lowbit_ccache_note
lowbit_phase "configure build/" cmake -S . -B build
lowbit_phase "build build/ (-j${jobs})" cmake --build build -j"${jobs}"

# A CUDA build links cuDNN; a GPU answers nvidia-smi.
device=cpu
epochs=2
libs=$(ldd build/core/liblowbit.so 2>/dev/null || true)
if [[ "${libs}" == *libcudnn* ]] && command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then
  device=cuda
  epochs=10
fi
echo "main job: training on ${device} (${epochs} epochs)"

rm -rf "${run}"
mkdir -p "${run}"
lowbit_phase "train bnn_lenet W1A1 (bnn) on fashion-mnist (${epochs} epochs, ${device})" \
  "${lowbit}" train --model bnn_lenet --dataset fashion-mnist --quant bnn --w-bits 1 --a-bits 1 \
  --optimizer adam --lr 3e-3 --schedule cosine-iter --batch-size 64 --epochs "${epochs}" --device "${device}" \
  --log-every 300 --out "${run}/train"
lowbit_phase "export to ${run}/bnn_lenet.lbm" \
  "${lowbit}" export --checkpoint "${run}/train" --out "${run}/bnn_lenet.lbm"
lowbit_phase "infer on cpu (deploy model vs training graph)" \
  "${lowbit}" infer "${run}/bnn_lenet.lbm" --dataset fashion-mnist --device cpu
if [[ "${device}" == cuda ]]; then
  lowbit_phase "infer on cuda (deploy model vs training graph)" \
    "${lowbit}" infer "${run}/bnn_lenet.lbm" --dataset fashion-mnist --device cuda
fi
lowbit_total "tools/main_job.sh"
