#!/usr/bin/env bash
# The test command (README; CI runs it through .ci/run): installs missing Debian packages, builds
# build/ with the default options (CUDA backend AUTO) and runs every test except the slow ones,
# then builds build-asan/ (AddressSanitizer + UBSan, CPU only) and runs the CPU tests there.
# Usage: sudo bash tools/test.sh   (or as root: bash tools/test.sh)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tools/lib/setup.sh

jobs=$(nproc)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

lowbit_phase "dependencies" lowbit_install_deps
lowbit_ccache_note
lowbit_phase "configure build/" cmake -S . -B build
lowbit_phase "build build/ (-j${jobs})" cmake --build build -j"${jobs}"
lowbit_phase "test build/ (all but slow)" ctest --test-dir build -LE slow --output-on-failure -j2
lowbit_phase "configure build-asan/" cmake -S . -B build-asan -DLOWBIT_SANITIZE=ON -DLOWBIT_CUDA=OFF \
  -DLOWBIT_BUILD_BENCH=OFF -DLOWBIT_BUILD_TOOLS=OFF
lowbit_phase "build build-asan/ (-j${jobs})" cmake --build build-asan -j"${jobs}"
lowbit_phase "test build-asan/ (cpu)" ctest --test-dir build-asan -L cpu -E install_consumer --output-on-failure -j2
lowbit_total "tools/test.sh"
