// Launch detection (environment variables) and the choice and construction of a Communicator.
#include "core/dist/launch.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "core/dist/backends.h"
#include "core/dist/rendezvous.h"
#include "core/error.h"

namespace lowbit::dist {

namespace {

std::optional<int> env_int(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v, &end, 10);
  LOWBIT_CHECK(end != v && *end == '\0' && errno == 0 && x >= 0 && x <= (1 << 30), "dist: environment variable ",
               name, "='", v, "' is not a non-negative integer");
  return static_cast<int>(x);
}

std::string env_str(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

// rank/size/local rank from three variables; the rank and size must come together.
bool read_triple(LaunchInfo& l, const char* rank, const char* size, const char* local, const char* launcher) {
  const std::optional<int> s = env_int(size);
  if (!s) return false;
  const std::optional<int> r = env_int(rank);
  LOWBIT_CHECK(r.has_value(), "dist: ", size, " is set but ", rank, " is not");
  LOWBIT_CHECK(*s >= 1 && *r < *s, "dist: ", rank, "=", *r, " is not a rank of ", size, "=", *s);
  l.launcher = launcher;
  l.rank = *r;
  l.size = *s;
  l.local_rank = env_int(local).value_or(launcher == std::string("env") ? *r : 0);
  return true;
}

}  // namespace

LaunchInfo detect_launch() {
  LaunchInfo l;
  if (!read_triple(l, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "mpirun") &&
      !read_triple(l, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "mpirun"))
    read_triple(l, "RANK", "WORLD_SIZE", "LOCAL_RANK", "env");
  l.master_addr = env_str("MASTER_ADDR", "127.0.0.1");
  l.master_port = env_int("MASTER_PORT").value_or(29500);
  return l;
}

bool backend_built(const std::string& backend) {
  if (backend == "none" || backend == "tcp") return true;
  if (backend == "mpi") return mpi_built();
  if (backend == "nccl") return nccl_built();
  return false;
}

std::string resolve_backend(const std::string& backend, const LaunchInfo& launch, bool on_cuda) {
  LOWBIT_CHECK(backend == "auto" || backend == "none" || backend == "tcp" || backend == "mpi" || backend == "nccl",
               "dist: the backend must be auto, none, tcp, mpi or nccl, got '", backend, "'");
  if (backend != "auto") return backend;
  if (launch.size == 1) return "none";
  if (on_cuda && nccl_built()) return "nccl";
  if (launch.launcher == "mpirun") {
    LOWBIT_CHECK(mpi_built(), "dist: launched by mpirun as rank ", launch.rank, " of ", launch.size,
                 " but lowbit was built without MPI (install libopenmpi-dev and reconfigure, or use --dist tcp)",
                 on_cuda ? " or without NCCL" : "");
    return "mpi";
  }
  LOWBIT_CHECK(!on_cuda, "dist: launched through RANK/WORLD_SIZE as rank ", launch.rank, " of ", launch.size,
               " on a GPU, which needs the nccl backend, and this build has no NCCL (--dist tcp would stage every "
               "all-reduce through the CPU)");
  return "tcp";
}

Device process_device(Device parsed, bool index_given, const LaunchInfo& launch) {
  if (!parsed.is_cuda()) return parsed;
  Device d = parsed;
  if (!index_given && launch.size > 1) {
    const int gpus = cuda_device_count();
    LOWBIT_CHECK(gpus > 0, "dist: no CUDA device present");
    d = Device::cuda(launch.local_rank % gpus);
  }
  use_cuda_device(d.index);
  return d;
}

std::shared_ptr<Communicator> make_communicator(const std::string& backend, const LaunchInfo& launch, Device device) {
  const std::string b = resolve_backend(backend, launch, device.is_cuda());
  LOWBIT_CHECK(backend_built(b), "dist: the ", b, " backend is not available: lowbit was built without ",
               b == "mpi" ? "MPI (install libopenmpi-dev and reconfigure)"
                          : "NCCL (a CUDA build that finds nccl.h and libnccl)");
  if (b == "none") {
    LOWBIT_CHECK(launch.size == 1, "dist: this process was launched as rank ", launch.rank, " of ", launch.size,
                 " (", launch.launcher, ") but the backend is none: every process would train alone; use --dist "
                 "auto, tcp, mpi or nccl");
    return single_process_communicator();
  }
  const RendezvousAddress at{launch.master_addr, launch.master_port, 300};
  if (b == "tcp") return make_tcp_communicator(at, launch.rank, launch.size);
  if (b == "mpi") {
    LOWBIT_CHECK(launch.size == 1 || launch.launcher == "mpirun", "dist: the mpi backend needs processes started by "
                 "mpirun (this one was started through RANK/WORLD_SIZE)");
    std::shared_ptr<Communicator> comm = make_mpi_communicator();
    LOWBIT_CHECK(launch.launcher != "mpirun" || (comm->size() == launch.size && comm->rank() == launch.rank),
                 "dist: MPI says rank ", comm->rank(), " of ", comm->size(), " but the environment says ", launch.rank,
                 " of ", launch.size);
    return comm;
  }
  // nccl
  LOWBIT_CHECK(device.is_cuda(), "dist: the nccl backend needs a CUDA device (--device cuda), got ", device.str());
  if (launch.launcher == "mpirun" && mpi_built()) {
    std::shared_ptr<Communicator> mpi = make_mpi_communicator();
    return make_nccl_communicator(mpi->rank(), mpi->size(), device.index, [&](void* id, int64_t bytes) {
      Tensor t = Tensor::empty({bytes}, DType::u8, Device::cpu());
      std::memcpy(t.raw_data(), id, static_cast<size_t>(bytes));
      mpi->broadcast(t, 0);
      std::memcpy(id, t.raw_data(), static_cast<size_t>(bytes));
    });
  }
  return make_nccl_communicator(launch.rank, launch.size, device.index, [&](void* id, int64_t bytes) {
    rendezvous_broadcast(at, launch.rank, launch.size, id, bytes);
  });
}

void abort_job(int code) { mpi_abort_if_initialized(code); }

}  // namespace lowbit::dist
