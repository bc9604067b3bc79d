// How this process was launched, and the Communicator that fits (core/dist/communicator.h).
//   mpirun -np N lowbit train ...    OpenMPI's OMPI_COMM_WORLD_{RANK,SIZE,LOCAL_RANK} (MPICH's
//                                    PMI_RANK/PMI_SIZE too): backend mpi on the CPU, nccl on GPUs
//                                    (the NCCL id goes from rank 0 through MPI);
//   lowbit launch --nproc-per-node N -- train ...   (core/dist/process_launcher.h), or by hand
//   RANK=r WORLD_SIZE=N [LOCAL_RANK=l] MASTER_ADDR=host MASTER_PORT=port lowbit train ...
//                                    the built-in launch (the variables torchrun sets; one process
//                                    per device, on one machine or many): backend nccl on GPUs (the
//                                    NCCL id goes from rank 0 through the TCP rendezvous of
//                                    core/dist/rendezvous.h at MASTER_ADDR:MASTER_PORT), tcp on
//                                    the CPU (collectives over the rendezvous's connections);
//   neither                          one process (backend none, or nccl with one rank).
// Backends by name: "auto" (the above), "none", "tcp", "mpi", "nccl". A backend that is not built,
// or that cannot serve the device (mpi needs mpirun for more than one process; nccl needs CUDA),
// is refused with a message saying why.
#pragma once

#include <memory>
#include <string>

#include "core/device.h"
#include "core/dist/communicator.h"
#include "core/export.h"

namespace lowbit::dist {

struct LaunchInfo {
  std::string launcher;  // "mpirun", "env" (RANK/WORLD_SIZE) or "" (a single process)
  int rank = 0, size = 1, local_rank = 0;
  std::string master_addr;  // env launch: MASTER_ADDR (default 127.0.0.1)
  int master_port = 0;      // env launch: MASTER_PORT (default 29500)
};

// Reads the environment; throws naming the variable for a malformed or inconsistent value.
LOWBIT_API LaunchInfo detect_launch();

// Which backends this build has: "none" and "tcp" always, "mpi" and "nccl" when built.
LOWBIT_API bool backend_built(const std::string& backend);
// The backend "auto" stands for, for a launch and the device type the run trains on.
LOWBIT_API std::string resolve_backend(const std::string& backend, const LaunchInfo& launch, bool on_cuda);

// The device of this process, given the parsed --device: a CUDA device named without an index
// ("cuda", or "auto" that chose a GPU) in a run of several processes becomes
// cuda:(local_rank mod GPUs), one GPU per process. A CUDA device is made the process's current
// device.
LOWBIT_API Device process_device(Device parsed, bool index_given, const LaunchInfo& launch);

// The communicator of `backend` ("auto", "none", "tcp", "mpi", "nccl") for a run on `device`. Throws
// lowbit::Error naming the problem: an unknown or unbuilt backend, mpi for several processes not
// started by mpirun, nccl on the CPU, none under a multi-process launcher, an MPI world whose
// size differs from what the environment said.
LOWBIT_API std::shared_ptr<Communicator> make_communicator(const std::string& backend, const LaunchInfo& launch,
                                                           Device device);

// When a rank fails, the others would wait forever in their next collective: stops the whole
// job (MPI_Abort under MPI; otherwise nothing: the tcp and nccl peers see the connections close,
// and `lowbit launch` stops the other processes when one fails).
LOWBIT_API void abort_job(int code);

}  // namespace lowbit::dist
