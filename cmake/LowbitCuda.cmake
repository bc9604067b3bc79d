# LOWBIT_CUDA=AUTO|ON|OFF -> LOWBIT_WITH_CUDA. AUTO builds the CUDA backend when a CUDA compiler,
# the toolkit and cuDNN are all found; ON fails when one is missing; OFF never looks.
set(LOWBIT_WITH_CUDA OFF)
if(NOT LOWBIT_CUDA MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "LOWBIT_CUDA must be AUTO, ON or OFF (got '${LOWBIT_CUDA}')")
endif()

if(NOT LOWBIT_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit QUIET)
  endif()
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND)
    # cuDNN sits in the toolkit's folders on some systems and in the system's on others.
    find_path(CUDNN_INCLUDE_DIR cudnn.h
              HINTS ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_ROOT}/include ENV CUDNN_ROOT
              PATH_SUFFIXES include)
    find_library(CUDNN_LIBRARY NAMES cudnn
                 HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib ${CUDAToolkit_LIBRARY_ROOT}/lib64 ENV CUDNN_ROOT
                 PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
  endif()
  if(CMAKE_CUDA_COMPILER AND CUDAToolkit_FOUND AND CUDNN_INCLUDE_DIR AND CUDNN_LIBRARY)
    set(LOWBIT_WITH_CUDA ON)
  elseif(LOWBIT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "LOWBIT_CUDA=ON but the CUDA backend cannot be built: compiler='${CMAKE_CUDA_COMPILER}' "
                        "toolkit=${CUDAToolkit_FOUND} cudnn.h='${CUDNN_INCLUDE_DIR}' libcudnn='${CUDNN_LIBRARY}'")
  else()
    message(STATUS "lowbit: CUDA toolkit or cuDNN not found; building the CPU backend only")
  endif()
endif()

if(LOWBIT_WITH_CUDA)
  enable_language(CUDA)
  # CMake 3.25 does not know that nvcc >= 12 takes -std=c++20; tell it (newer CMake knows).
  if(NOT DEFINED CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
  endif()
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  message(STATUS "lowbit: CUDA ${CUDAToolkit_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}, cuDNN ${CUDNN_LIBRARY}")
endif()
