# Shared by tools/test.sh and tools/main_job.sh (sourced, not run): the Debian 12 packages lowbit
# needs and their installation when some are missing, and timed phases. Expects `set -euo pipefail`.

# Everything the build, the tests and the main job use (dataset-fashion-mnist ships the data under
# /usr/share/datasets/fashion-mnist; libjpeg62-turbo-dev and libpng-dev give the image-folder
# decoders, libopenmpi-dev and openmpi-bin the MPI data-parallel backend and mpirun for its
# 2-rank test; the build leaves out what is missing).
LOWBIT_PACKAGES=(cmake g++ make ccache libgtest-dev libgmock-dev googletest libbenchmark-dev libopenblas-dev
                 zlib1g-dev libcli11-dev nlohmann-json3-dev libfmt-dev libjpeg62-turbo-dev libpng-dev
                 libopenmpi-dev openmpi-bin dataset-fashion-mnist)

# Prints the packages of LOWBIT_PACKAGES that dpkg does not list as installed, one a line.
lowbit_missing_packages() {
  local pkg
  for pkg in "${LOWBIT_PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]]; then
      echo "$pkg"
    fi
  done
}

# Installs the missing packages with apt-get (as root). Not root and something missing: prints
# the command to run and exits 1.
lowbit_install_deps() {
  if ! command -v dpkg-query >/dev/null; then
    echo "setup: dpkg-query not found; these scripts expect Debian 12 (bookworm)" >&2
    exit 1
  fi
  local missing
  mapfile -t missing < <(lowbit_missing_packages)
  if ((${#missing[@]} == 0)); then
    echo "setup: all ${#LOWBIT_PACKAGES[@]} packages are installed"
    return 0
  fi
  local cmd="apt-get update && apt-get install -y ${missing[*]}"
  echo "setup: missing packages: ${missing[*]}"
  if ((EUID != 0)); then
    echo "setup: not root; install them with (as root, or with sudo before each apt-get):" >&2
    echo "  $cmd" >&2
    exit 1
  fi
  echo "setup: $cmd"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
}

# Reports ccache's use; the build picks ccache up by itself when it is installed
# (cmake/LowbitToolchain.cmake), with ccache's default CCACHE_DIR unless the caller sets one.
lowbit_ccache_note() {
  if command -v ccache >/dev/null; then
    echo "setup: compiling through ccache (cache: $(ccache -k cache_dir 2>/dev/null || echo default))"
  else
    echo "setup: ccache not found; compiling without a cache"
  fi
}

# lowbit_phase NAME COMMAND [ARGS...]: runs one step and prints how long it took. A failing step
# ends the script (set -e); the EXIT trap below then names it and its time so far.
LOWBIT_PHASE=""
LOWBIT_PHASE_START=0
LOWBIT_SCRIPT_START=$SECONDS
lowbit_phase() {
  LOWBIT_PHASE=$1
  shift
  LOWBIT_PHASE_START=$SECONDS
  echo
  echo "==> ${LOWBIT_PHASE}"
  "$@"
  echo "==> ${LOWBIT_PHASE}: done in $((SECONDS - LOWBIT_PHASE_START)) s"
  LOWBIT_PHASE=""
}

lowbit_on_exit() {
  local rc=$?
  if ((rc != 0)) && [[ -n "$LOWBIT_PHASE" ]]; then
    echo "==> ${LOWBIT_PHASE}: FAILED (exit ${rc}) after $((SECONDS - LOWBIT_PHASE_START)) s" >&2
  fi
}
trap lowbit_on_exit EXIT

# Prints the total time since setup.sh was sourced.
lowbit_total() { echo "==> $1: all phases passed in $((SECONDS - LOWBIT_SCRIPT_START)) s"; }
