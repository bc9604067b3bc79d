# Third-party libraries, all Debian packages (and present on the GPU machines): OpenBLAS for CPU
# GEMM, zlib for .gz data files, threads, nlohmann-json (header-only) for safetensors headers
# and the tools' JSON files.
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)

find_library(OPENBLAS_LIBRARY NAMES openblas REQUIRED)
find_path(CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas openblas-pthread x86_64-linux-gnu/openblas-pthread REQUIRED)
message(STATUS "lowbit: OpenBLAS ${OPENBLAS_LIBRARY} (cblas.h in ${CBLAS_INCLUDE_DIR})")
