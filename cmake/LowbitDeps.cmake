# Third-party libraries, all Debian packages (and present on the GPU machines): OpenBLAS for CPU
# GEMM, zlib for .gz data files, threads, nlohmann-json (header-only) for safetensors headers
# and the tools' JSON files.
find_package(Threads REQUIRED)
find_package(ZLIB REQUIRED)
find_package(nlohmann_json REQUIRED)

find_library(OPENBLAS_LIBRARY NAMES openblas REQUIRED)
find_path(CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas openblas-pthread x86_64-linux-gnu/openblas-pthread REQUIRED)
message(STATUS "lowbit: OpenBLAS ${OPENBLAS_LIBRARY} (cblas.h in ${CBLAS_INCLUDE_DIR})")

# Optional image codecs for image-folder datasets (core/data/image_decode.h): libjpeg(-turbo)
# and libpng. Without one, its decoder is left out and images of that format are refused with a
# message saying so (the tests that need it skip).
find_package(JPEG)
find_package(PNG)
set(LOWBIT_WITH_JPEG OFF)
set(LOWBIT_WITH_PNG OFF)
if(JPEG_FOUND)
  set(LOWBIT_WITH_JPEG ON)
endif()
if(PNG_FOUND)
  set(LOWBIT_WITH_PNG ON)
endif()
message(STATUS "lowbit: JPEG decoder ${LOWBIT_WITH_JPEG}, PNG decoder ${LOWBIT_WITH_PNG}")
