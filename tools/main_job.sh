#!/usr/bin/env bash
# The main job (README): installs missing Debian packages, builds build/ with the default options
# (CUDA backend AUTO), then trains the MLP on Fashion-MNIST for one epoch on the CPU and reports
# its test accuracy.
# Usage: sudo bash tools/main_job.sh   (or as root: bash tools/main_job.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/lib/setup.sh

jobs=$(nproc)

lowbit_phase "dependencies" lowbit_install_deps
lowbit_ccache_note
lowbit_phase "configure build/" cmake -S . -B build
lowbit_phase "build build/ (-j${jobs})" cmake --build build -j"${jobs}"
lowbit_phase "train mlp on fashion-mnist (1 epoch, cpu)" \
  build/tools/lowbit train --model mlp --dataset fashion-mnist --epochs 1 --device cpu
lowbit_total "tools/main_job.sh"
