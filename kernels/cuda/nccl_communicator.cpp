// The NCCL backend (core/dist/backends.h): collectives on CUDA buffers of the process's GPU.
// Every collective runs on one communication stream of its own, in the order the host issues
// them (the same order on every rank, which NCCL requires), fenced with events against the
// device's current stream (kernels/cuda/context.h):
//   current stream --event--> comm stream: the collective sees everything queued before it;
//   comm stream --event--> current stream: work queued after it sees the result (at once for
//   all_reduce_sum and broadcast, at Work::wait() for started all-reduces, which is what lets
//   the gradient all-reduce of one bucket overlap the backward pass of the layers before it).
// Memory: the caching allocator serves the current stream only; buffers given to a collective
// are either kept alive by the caller until the collective is waited for (the gradient buckets)
// or freed after the current stream was made to wait for it, so a reuse is always ordered after.
// Compiled in CUDA builds; LOWBIT_WITH_NCCL when CMake found nccl.h and libnccl.
#include "core/dist/backends.h"
#include "core/error.h"
#include "kernels/cuda/context.h"

#if LOWBIT_WITH_NCCL
#include <nccl.h>

#include <cstring>
#include <vector>
#endif

namespace lowbit::dist {

void use_cuda_device(int index) {
  int count = 0;
  LOWBIT_CUDA_CHECK(cudaGetDeviceCount(&count));
  LOWBIT_CHECK(index >= 0 && index < count, "dist: CUDA device ", index, " requested, ", count, " present");
  LOWBIT_CUDA_CHECK(cudaSetDevice(index));
}

#if LOWBIT_WITH_NCCL

namespace {

#define LOWBIT_NCCL_CHECK(call)                                                              \
  do {                                                                                       \
    ncclResult_t lowbit_nr_ = (call);                                                        \
    if (lowbit_nr_ != ncclSuccess)                                                           \
      LOWBIT_FAIL("NCCL call `", #call, "` failed: ", ncclGetErrorString(lowbit_nr_));       \
  } while (0)

cuda::CudaEvent new_event() {
  cuda::CudaEvent e;
  LOWBIT_CUDA_CHECK(cudaEventCreateWithFlags(e.out(), cudaEventDisableTiming));
  return e;
}

// A started all-reduce: the current stream waits for its event at wait().
class NcclWork final : public Work {
 public:
  NcclWork(cuda::CudaEvent done, int device) : done_(std::move(done)), device_(device) {}
  ~NcclWork() override {
    if (done_.get()) (void)cudaStreamWaitEvent(cuda::current_stream(device_), done_, 0);
  }
  void wait() override {
    if (!done_.get()) return;
    LOWBIT_CUDA_CHECK(cudaStreamWaitEvent(cuda::current_stream(device_), done_, 0));
    done_.reset();
  }

 private:
  cuda::CudaEvent done_;
  int device_;
};

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(int rank, int size, int device, const ncclUniqueId& id) : rank_(rank), size_(size), device_(device) {
    cuda::DeviceGuard guard(device_);
    LOWBIT_NCCL_CHECK(ncclCommInitRank(&comm_, size, id, rank));
    LOWBIT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  }
  ~NcclCommunicator() override {
    cuda::DeviceGuard guard(device_);
    if (stream_) (void)cudaStreamSynchronize(stream_);
    if (comm_) (void)ncclCommDestroy(comm_);
    if (stream_) (void)cudaStreamDestroy(stream_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }
  Device device() const override { return Device::cuda(device_); }
  void barrier() override {
    double one = 1;
    reduce_host_f64(&one, 1);
  }

 protected:
  void reduce_f32(float* data, int64_t count) override {
    cuda::DeviceGuard guard(device_);
    after_current();
    LOWBIT_NCCL_CHECK(ncclAllReduce(data, data, static_cast<size_t>(count), ncclFloat32, ncclSum, comm_, stream_));
    before_current();
  }
  std::unique_ptr<Work> start_reduce_f32(float* data, int64_t count) override {
    cuda::DeviceGuard guard(device_);
    after_current();
    LOWBIT_NCCL_CHECK(ncclAllReduce(data, data, static_cast<size_t>(count), ncclFloat32, ncclSum, comm_, stream_));
    cuda::CudaEvent done = new_event();
    LOWBIT_CUDA_CHECK(cudaEventRecord(done, stream_));
    return std::make_unique<NcclWork>(std::move(done), device_);
  }
  void broadcast_bytes(void* data, int64_t bytes, int root) override {
    cuda::DeviceGuard guard(device_);
    after_current();
    LOWBIT_NCCL_CHECK(ncclBroadcast(data, data, static_cast<size_t>(bytes), ncclUint8, root, comm_, stream_));
    before_current();
  }
  void reduce_host_f64(double* data, int64_t count) override {
    cuda::DeviceGuard guard(device_);
    const size_t bytes = static_cast<size_t>(count) * sizeof(double);
    after_current();  // the scratch block may have been used by work still queued there
    cuda::DeviceBuffer scratch(bytes, device_);
    LOWBIT_CUDA_CHECK(cudaMemcpyAsync(scratch.data(), data, bytes, cudaMemcpyHostToDevice, stream_));
    LOWBIT_NCCL_CHECK(ncclAllReduce(scratch.data(), scratch.data(), static_cast<size_t>(count), ncclFloat64, ncclSum,
                                    comm_, stream_));
    LOWBIT_CUDA_CHECK(cudaMemcpyAsync(data, scratch.data(), bytes, cudaMemcpyDeviceToHost, stream_));
    LOWBIT_CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

 private:
  // The comm stream waits for what is queued on the current stream.
  void after_current() {
    cuda::CudaEvent e = new_event();
    LOWBIT_CUDA_CHECK(cudaEventRecord(e, cuda::current_stream(device_)));
    LOWBIT_CUDA_CHECK(cudaStreamWaitEvent(stream_, e, 0));
  }
  // The current stream waits for what is queued on the comm stream.
  void before_current() {
    cuda::CudaEvent e = new_event();
    LOWBIT_CUDA_CHECK(cudaEventRecord(e, stream_));
    LOWBIT_CUDA_CHECK(cudaStreamWaitEvent(cuda::current_stream(device_), e, 0));
  }

  int rank_, size_, device_;
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

}  // namespace

bool nccl_built() { return true; }
int64_t nccl_id_bytes() { return static_cast<int64_t>(sizeof(ncclUniqueId)); }

std::shared_ptr<Communicator> make_nccl_communicator(int rank, int size, int device,
                                                     const std::function<void(void* id, int64_t bytes)>& share_id) {
  LOWBIT_CHECK(size >= 1 && rank >= 0 && rank < size, "dist: nccl: rank ", rank, " of ", size);
  use_cuda_device(device);
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  if (rank == 0) LOWBIT_NCCL_CHECK(ncclGetUniqueId(&id));
  if (size > 1) share_id(&id, static_cast<int64_t>(sizeof id));
  return std::make_shared<NcclCommunicator>(rank, size, device, id);
}

#else  // !LOWBIT_WITH_NCCL

bool nccl_built() { return false; }
int64_t nccl_id_bytes() { return 0; }

std::shared_ptr<Communicator> make_nccl_communicator(int, int, int, const std::function<void(void*, int64_t)>&) {
  LOWBIT_FAIL("dist: the nccl backend is not available: lowbit was built without NCCL (nccl.h and libnccl were not "
              "found when it was configured; set NCCL_ROOT and reconfigure)");
}

#endif

}  // namespace lowbit::dist
