// The MPI backend (core/dist/backends.h): collectives on CPU buffers over a duplicate of
// MPI_COMM_WORLD. MPI is initialized on first use (MPI_THREAD_FUNNELED: only the thread that
// trains calls MPI) and finalized when the process exits. Started all-reduces are
// MPI_Iallreduce; OpenMPI advances them mostly inside later MPI calls, so on the CPU they overlap
// the backward pass only in part. Counts above INT_MAX go in several calls.
// Compiled with LOWBIT_WITH_MPI when CMake found MPI (cmake/LowbitDist.cmake); without it every
// entry point says that lowbit was built without MPI.
#include "core/dist/backends.h"
#include "core/error.h"

#if LOWBIT_WITH_MPI
// The C API only: mpi.h would otherwise pull in the C++ bindings, which live in another library.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <vector>
#endif

namespace lowbit::dist {

#if LOWBIT_WITH_MPI

namespace {

void check_mpi(int rc, const char* call) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  LOWBIT_FAIL("MPI: ", call, " failed: ", std::string(text, static_cast<size_t>(len)));
}

// Initializes MPI once per process and finalizes it at exit (if lowbit initialized it).
class MpiEnvironment {
 public:
  static MpiEnvironment& get() {
    static MpiEnvironment env;
    return env;
  }
  ~MpiEnvironment() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owner_ && !finalized) MPI_Finalize();
  }

 private:
  MpiEnvironment() {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return;  // the program's own MPI_Init
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
    owner_ = true;
  }
  bool owner_ = false;
};

// Splits `count` elements into calls of at most INT_MAX.
template <typename F>
void in_chunks(int64_t count, F call) {
  for (int64_t start = 0; start < count; start += INT_MAX)
    call(start, static_cast<int>(std::min<int64_t>(INT_MAX, count - start)));
}

class MpiWork final : public Work {
 public:
  explicit MpiWork(std::vector<MPI_Request> requests) : requests_(std::move(requests)) {}
  ~MpiWork() override {
    if (!requests_.empty()) MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
  }
  void wait() override {
    if (requests_.empty()) return;
    const int rc = MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
    requests_.clear();
    check_mpi(rc, "MPI_Waitall");
  }

 private:
  std::vector<MPI_Request> requests_;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator() {
    MpiEnvironment::get();
    check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "MPI_Comm_dup");
    check_mpi(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }
  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Comm_free(&comm_);
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  Device device() const override { return Device::cpu(); }
  void barrier() override { check_mpi(MPI_Barrier(comm_), "MPI_Barrier"); }

 protected:
  void reduce_f32(float* data, int64_t count) override {
    in_chunks(count, [&](int64_t start, int n) {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + start, n, MPI_FLOAT, MPI_SUM, comm_), "MPI_Allreduce");
    });
  }
  std::unique_ptr<Work> start_reduce_f32(float* data, int64_t count) override {
    std::vector<MPI_Request> requests;
    in_chunks(count, [&](int64_t start, int n) {
      MPI_Request r = MPI_REQUEST_NULL;
      check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data + start, n, MPI_FLOAT, MPI_SUM, comm_, &r), "MPI_Iallreduce");
      requests.push_back(r);
    });
    return std::make_unique<MpiWork>(std::move(requests));
  }
  void broadcast_bytes(void* data, int64_t bytes, int root) override {
    auto* p = static_cast<char*>(data);
    in_chunks(bytes, [&](int64_t start, int n) {
      check_mpi(MPI_Bcast(p + start, n, MPI_BYTE, root, comm_), "MPI_Bcast");
    });
  }
  void reduce_host_f64(double* data, int64_t count) override {
    in_chunks(count, [&](int64_t start, int n) {
      check_mpi(MPI_Allreduce(MPI_IN_PLACE, data + start, n, MPI_DOUBLE, MPI_SUM, comm_), "MPI_Allreduce");
    });
  }

 private:
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
};

}  // namespace

bool mpi_built() { return true; }

std::shared_ptr<Communicator> make_mpi_communicator() { return std::make_shared<MpiCommunicator>(); }

void mpi_abort_if_initialized(int code) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
}

#else  // !LOWBIT_WITH_MPI

bool mpi_built() { return false; }

std::shared_ptr<Communicator> make_mpi_communicator() {
  LOWBIT_FAIL("dist: the mpi backend is not available: lowbit was built without MPI (install libopenmpi-dev and "
              "reconfigure)");
}

void mpi_abort_if_initialized(int) {}

#endif

}  // namespace lowbit::dist
