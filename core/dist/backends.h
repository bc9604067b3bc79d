// The backends' constructors, internal to core/dist (make_communicator in core/dist/launch.h is
// the public way in). A backend left out of the build reports that from *_built() and throws
// "lowbit was built without ..." from its constructor.
//   TCP:  core/dist/tcp_communicator.cpp (always built).
//   MPI:  core/dist/mpi_communicator.cpp (LOWBIT_WITH_MPI).
//   NCCL: kernels/cuda/nccl_communicator.cpp (LOWBIT_WITH_NCCL, CUDA builds), stand-ins in
//         kernels/no_cuda/nccl_communicator.cpp.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/dist/communicator.h"
#include "core/dist/rendezvous.h"

namespace lowbit::dist {

// Rank `rank` of `size`, connected to the others through the rendezvous at `at` (CPU buffers).
std::shared_ptr<Communicator> make_tcp_communicator(const RendezvousAddress& at, int rank, int size);

bool mpi_built();
// MPI_COMM_WORLD (initializing MPI on first use; finalized at exit).
std::shared_ptr<Communicator> make_mpi_communicator();
// Stops every process of the MPI job (MPI_Abort) when MPI is initialized; returns otherwise.
void mpi_abort_if_initialized(int code);

bool nccl_built();
// Bytes of an NCCL unique id (ncclUniqueId); 0 without NCCL.
int64_t nccl_id_bytes();
// Rank `rank` of `size` on CUDA device `device` (made the process's current device). share_id
// is called on every rank with an nccl_id_bytes() buffer: rank 0's holds the new id, which the
// function must copy into every other rank's buffer (an MPI broadcast or the TCP rendezvous).
std::shared_ptr<Communicator> make_nccl_communicator(int rank, int size, int device,
                                                     const std::function<void(void* id, int64_t bytes)>& share_id);

// Makes CUDA device `index` the process's current device (one GPU per process); throws without
// CUDA.
void use_cuda_device(int index);

}  // namespace lowbit::dist
