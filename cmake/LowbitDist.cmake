# The optional data-parallel backends of core/dist: MPI (OpenMPI from Debian: libopenmpi-dev,
# openmpi-bin) and NCCL (nccl.h + libnccl, CUDA builds only; NVIDIA ships it with the toolkit or
# as libnccl-dev). LOWBIT_MPI / LOWBIT_NCCL: AUTO builds a backend when it is found, ON fails the
# configure step when it is not, OFF never looks. A backend left out is refused at run time with
# a message saying that lowbit was built without it.
#   -> LOWBIT_WITH_MPI, LOWBIT_WITH_NCCL (NCCL_INCLUDE_DIR, NCCL_LIBRARY); lowbit_add_dist_backends()
set(LOWBIT_MPI "AUTO" CACHE STRING "Build the MPI backend: AUTO, ON or OFF")
set_property(CACHE LOWBIT_MPI PROPERTY STRINGS AUTO ON OFF)
set(LOWBIT_NCCL "AUTO" CACHE STRING "Build the NCCL backend (CUDA builds): AUTO, ON or OFF")
set_property(CACHE LOWBIT_NCCL PROPERTY STRINGS AUTO ON OFF)

set(LOWBIT_WITH_MPI OFF)
if(NOT LOWBIT_MPI STREQUAL "OFF")
  enable_language(C)  # FindMPI's C component needs it (lowbit calls the C API from C++)
  find_package(MPI COMPONENTS C QUIET)
  if(MPI_C_FOUND)
    set(LOWBIT_WITH_MPI ON)
  elseif(LOWBIT_MPI STREQUAL "ON")
    message(FATAL_ERROR "LOWBIT_MPI=ON but MPI was not found (apt-get install libopenmpi-dev openmpi-bin)")
  endif()
endif()

set(LOWBIT_WITH_NCCL OFF)
if(NOT LOWBIT_NCCL STREQUAL "OFF" AND LOWBIT_WITH_CUDA)
  find_path(NCCL_INCLUDE_DIR nccl.h
            HINTS ${CUDAToolkit_INCLUDE_DIRS} ${CUDAToolkit_LIBRARY_ROOT}/include ENV NCCL_ROOT
            PATH_SUFFIXES include)
  find_library(NCCL_LIBRARY NAMES nccl
               HINTS ${CUDAToolkit_LIBRARY_DIR} ${CUDAToolkit_LIBRARY_ROOT}/lib ${CUDAToolkit_LIBRARY_ROOT}/lib64
                     ENV NCCL_ROOT
               PATH_SUFFIXES lib lib64 lib/x86_64-linux-gnu)
  if(NCCL_INCLUDE_DIR AND NCCL_LIBRARY)
    set(LOWBIT_WITH_NCCL ON)
  endif()
endif()
if(LOWBIT_NCCL STREQUAL "ON" AND NOT LOWBIT_WITH_NCCL)
  message(FATAL_ERROR "LOWBIT_NCCL=ON but NCCL cannot be built: CUDA backend ${LOWBIT_WITH_CUDA}, "
                      "nccl.h='${NCCL_INCLUDE_DIR}' libnccl='${NCCL_LIBRARY}' (set NCCL_ROOT)")
endif()
message(STATUS "lowbit: data-parallel backends: MPI ${LOWBIT_WITH_MPI}, NCCL ${LOWBIT_WITH_NCCL}")

# Compiles the backends into `objects` (only the MPI and NCCL sources see LOWBIT_WITH_MPI /
# LOWBIT_WITH_NCCL and the headers' folders, so every other source compiles as without them) and
# appends their libraries to the list named by `link_deps_var`.
function(lowbit_add_dist_backends objects link_deps_var)
  set(deps ${${link_deps_var}})
  if(LOWBIT_WITH_MPI)
    set(src ${PROJECT_SOURCE_DIR}/core/dist/mpi_communicator.cpp)
    set_property(SOURCE ${src} APPEND PROPERTY COMPILE_DEFINITIONS LOWBIT_WITH_MPI=1)
    set_property(SOURCE ${src} APPEND PROPERTY INCLUDE_DIRECTORIES ${MPI_C_INCLUDE_DIRS})
    list(APPEND deps MPI::MPI_C)
  endif()
  if(LOWBIT_WITH_NCCL)
    set(src ${PROJECT_SOURCE_DIR}/kernels/cuda/nccl_communicator.cpp)
    set_property(SOURCE ${src} APPEND PROPERTY COMPILE_DEFINITIONS LOWBIT_WITH_NCCL=1)
    set_property(SOURCE ${src} APPEND PROPERTY INCLUDE_DIRECTORIES ${NCCL_INCLUDE_DIR})
    list(APPEND deps ${NCCL_LIBRARY})
  endif()
  set(${link_deps_var} ${deps} PARENT_SCOPE)
endfunction()
