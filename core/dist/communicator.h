// Communicator: the collective operations of data-parallel training (one process per device),
// behind one small interface with four backends:
//   none  one process (rank 0 of 1): every operation is a no-op (single_process_communicator());
//   mpi   MPI_COMM_WORLD, CPU buffers (core/dist/mpi_communicator.cpp; needs a build with MPI);
//   tcp   the star of TCP connections around rank 0 left by the rendezvous of the built-in launch,
//         CPU buffers (core/dist/tcp_communicator.cpp; every build has it);
//   nccl  NCCL on the process's GPU, CUDA buffers; the NCCL id is passed from rank 0 through MPI
//         or through the TCP rendezvous of core/dist/rendezvous.h (needs a CUDA build with NCCL).
// make_communicator() (core/dist/launch.h) picks and builds one from the launch environment.
//
// Every rank must call the same collectives in the same order with the same element counts.
// Tensor arguments must be contiguous; a tensor on a device the backend cannot reach directly (a
// CUDA tensor under MPI, a CPU tensor under NCCL) is staged through the backend's device.
// Stream semantics on CUDA (NCCL): the operations are ordered after the work already queued on
// the device's current stream and before the work queued after them; the host does not wait,
// except for all_reduce_sum_host and barrier.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/export.h"
#include "core/tensor.h"

namespace lowbit::dist {

// An operation in flight (Communicator::start_all_reduce_sum). wait() returns once the result may
// be used (CUDA: once the current stream is ordered after it); a Work dropped unwaited waits.
class LOWBIT_API Work {
 public:
  virtual ~Work() = default;
  virtual void wait() = 0;
};

class LOWBIT_API Communicator {
 public:
  virtual ~Communicator() = default;
  Communicator() = default;
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "none", "tcp", "mpi", "nccl" (tests: others)
  // The device whose buffers the backend reduces in place (CPU for none, tcp and mpi, the process's
  // GPU for nccl).
  virtual Device device() const = 0;

  // t (f32, contiguous) <- the sum of every rank's t, in place.
  void all_reduce_sum(Tensor& t);
  // The same, started: the result is in t after the returned Work's wait(). t must stay alive and
  // untouched until then. Backends without asynchronous collectives finish it here.
  std::unique_ptr<Work> start_all_reduce_sum(Tensor& t);
  // t (any dtype, contiguous) <- root's t, in place.
  void broadcast(Tensor& t, int root = 0);
  // values <- the sums over the ranks, in double (metrics, counts); the host waits.
  void all_reduce_sum_host(std::vector<double>& values);
  // Returns once every rank has called it.
  virtual void barrier() = 0;

 protected:
  // Backends implement these on buffers of device() (count elements of f32; bytes for broadcast).
  virtual void reduce_f32(float* data, int64_t count) = 0;
  virtual std::unique_ptr<Work> start_reduce_f32(float* data, int64_t count);  // default: reduce_f32, done
  virtual void broadcast_bytes(void* data, int64_t bytes, int root) = 0;
  virtual void reduce_host_f64(double* data, int64_t count) = 0;  // host memory
};

// The one-process communicator (rank 0 of 1).
LOWBIT_API std::shared_ptr<Communicator> single_process_communicator();

}  // namespace lowbit::dist
