// Tests of the data-parallel communication layer (core/dist): the one-process communicator, the
// tensor-level checks, launch detection from the environment, the choice of backend (and its
// refusals), and the TCP rendezvous of the built-in launch (ranks as threads over localhost; the
// tcp backend that runs over it: tests/test_dist_tcp.cpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>
#include <thread>

#include "core/dist/communicator.h"
#include "core/dist/launch.h"
#include "core/dist/rendezvous.h"
#include "tests/free_port.h"
#include "tests/test_util.h"
#include "tests/thread_comm.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;
using test::expect_error;
using test::free_port;

// Sets environment variables for a scope (unset = nullopt) and restores them after.
class EnvScope {
 public:
  explicit EnvScope(const std::map<std::string, std::optional<std::string>>& vars) {
    for (const auto& [k, v] : vars) {
      const char* old = std::getenv(k.c_str());
      saved_[k] = old ? std::optional<std::string>(old) : std::nullopt;
      set(k, v);
    }
  }
  ~EnvScope() {
    for (const auto& [k, v] : saved_) set(k, v);
  }

 private:
  static void set(const std::string& k, const std::optional<std::string>& v) {
    if (v) setenv(k.c_str(), v->c_str(), 1);
    else unsetenv(k.c_str());
  }
  std::map<std::string, std::optional<std::string>> saved_;
};

// No launcher variables at all.
std::map<std::string, std::optional<std::string>> no_launcher() {
  std::map<std::string, std::optional<std::string>> v;
  for (const char* k : {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "PMI_RANK",
                        "PMI_SIZE", "MPI_LOCALRANKID", "RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR",
                        "MASTER_PORT"})
    v[k] = std::nullopt;
  return v;
}

TEST(DistComm, SingleProcessLeavesEverythingAsItIs) {
  auto comm = dist::single_process_communicator();
  EXPECT_EQ(comm->rank(), 0);
  EXPECT_EQ(comm->size(), 1);
  EXPECT_EQ(comm->backend(), "none");
  Tensor t = Tensor::from_vector({1.f, -2.f, 3.5f}, {3});
  comm->all_reduce_sum(t);
  comm->start_all_reduce_sum(t)->wait();
  comm->broadcast(t, 0);
  EXPECT_EQ(t.to_vector(), (std::vector<float>{1.f, -2.f, 3.5f}));
  std::vector<double> host = {2.5, 7};
  comm->all_reduce_sum_host(host);
  EXPECT_EQ(host, (std::vector<double>{2.5, 7}));
  comm->barrier();
}

TEST(DistComm, RefusesTensorsItCannotReduce) {
  auto comm = dist::single_process_communicator();
  Tensor ints = Tensor::from_vector(std::vector<int32_t>{1, 2}, {2});
  expect_error([&] { comm->all_reduce_sum(ints); }, {"must be f32, got i32"});
  Tensor strided = Tensor::zeros({4, 4}).transpose(0, 1);
  expect_error([&] { comm->all_reduce_sum(strided); }, {"must be contiguous"});
  Tensor t = Tensor::zeros({2});
  expect_error([&] { comm->broadcast(t, 1); }, {"root 1 is not a rank of 1"});
}

TEST(DistComm, ThreadRanksSumInRankOrderAndBroadcast) {
  // The test communicator itself (tests/thread_comm.h), which the other data-parallel tests use.
  test::run_ranks(3, [](std::shared_ptr<test::ThreadComm> comm) {
    const auto r = static_cast<float>(comm->rank());
    Tensor t = Tensor::from_vector({r + 1.f, 10.f * r}, {2});
    comm->all_reduce_sum(t);
    EXPECT_EQ(t.to_vector(), (std::vector<float>{6.f, 30.f}));
    Tensor b = Tensor::from_vector(std::vector<int32_t>{comm->rank(), 7}, {2});
    comm->broadcast(b, 2);
    EXPECT_EQ(b.to_host<int32_t>(), (std::vector<int32_t>{2, 7}));
    std::vector<double> host = {0.5 * comm->rank()};
    comm->all_reduce_sum_host(host);
    EXPECT_EQ(host[0], 1.5);
  });
}

TEST(DistLaunch, NoLauncherIsOneProcess) {
  EnvScope env(no_launcher());
  const dist::LaunchInfo l = dist::detect_launch();
  EXPECT_EQ(l.launcher, "");
  EXPECT_EQ(l.rank, 0);
  EXPECT_EQ(l.size, 1);
  EXPECT_EQ(dist::resolve_backend("auto", l, false), "none");
  EXPECT_EQ(dist::make_communicator("auto", l, Device::cpu())->backend(), "none");
}

TEST(DistLaunch, ReadsOpenMpiVariables) {
  auto vars = no_launcher();
  vars["OMPI_COMM_WORLD_RANK"] = "1";
  vars["OMPI_COMM_WORLD_SIZE"] = "4";
  vars["OMPI_COMM_WORLD_LOCAL_RANK"] = "1";
  EnvScope env(vars);
  const dist::LaunchInfo l = dist::detect_launch();
  EXPECT_EQ(l.launcher, "mpirun");
  EXPECT_EQ(l.rank, 1);
  EXPECT_EQ(l.size, 4);
  EXPECT_EQ(l.local_rank, 1);
  if (dist::backend_built("mpi")) {
    EXPECT_EQ(dist::resolve_backend("auto", l, false), "mpi");
  } else {
    expect_error([&] { dist::resolve_backend("auto", l, false); }, {"built without MPI"});
  }
}

TEST(DistLaunch, ReadsTheBuiltInLaunchVariables) {
  auto vars = no_launcher();
  vars["RANK"] = "2";
  vars["WORLD_SIZE"] = "3";
  vars["MASTER_ADDR"] = "node7";
  vars["MASTER_PORT"] = "1234";
  EnvScope env(vars);
  const dist::LaunchInfo l = dist::detect_launch();
  EXPECT_EQ(l.launcher, "env");
  EXPECT_EQ(l.rank, 2);
  EXPECT_EQ(l.size, 3);
  EXPECT_EQ(l.local_rank, 2);  // without LOCAL_RANK: RANK (one machine)
  EXPECT_EQ(l.master_addr, "node7");
  EXPECT_EQ(l.master_port, 1234);
  // The built-in launch: tcp on the CPU, nccl on GPUs (refused in a build without NCCL).
  EXPECT_EQ(dist::resolve_backend("auto", l, false), "tcp");
  if (dist::backend_built("nccl"))
    EXPECT_EQ(dist::resolve_backend("auto", l, true), "nccl");
  else
    expect_error([&] { dist::resolve_backend("auto", l, true); }, {"this build has no NCCL"});
  expect_error([&] { dist::make_communicator("none", l, Device::cpu()); }, {"launched as rank 2 of 3"});
  expect_error([&] { dist::make_communicator("nccl", l, Device::cpu()); }, {"nccl"});
}

TEST(DistLaunch, RefusesMalformedVariables) {
  {
    auto vars = no_launcher();
    vars["RANK"] = "3";
    vars["WORLD_SIZE"] = "3";
    EnvScope env(vars);
    expect_error([] { dist::detect_launch(); }, {"RANK=3 is not a rank of WORLD_SIZE=3"});
  }
  {
    auto vars = no_launcher();
    vars["WORLD_SIZE"] = "2";
    EnvScope env(vars);
    expect_error([] { dist::detect_launch(); }, {"WORLD_SIZE is set but RANK is not"});
  }
  {
    auto vars = no_launcher();
    vars["RANK"] = "0";
    vars["WORLD_SIZE"] = "two";
    EnvScope env(vars);
    expect_error([] { dist::detect_launch(); }, {"WORLD_SIZE='two' is not a non-negative integer"});
  }
}

TEST(DistLaunch, RefusesUnknownAndUnbuiltBackends) {
  EnvScope env(no_launcher());
  const dist::LaunchInfo one = dist::detect_launch();
  expect_error([&] { dist::make_communicator("gloo", one, Device::cpu()); }, {"must be auto, none, tcp, mpi or nccl"});
  if (!dist::backend_built("nccl"))
    expect_error([&] { dist::make_communicator("nccl", one, Device::cpu()); }, {"built without"});
  else
    expect_error([&] { dist::make_communicator("nccl", one, Device::cpu()); }, {"needs a CUDA device"});
  if (!dist::backend_built("mpi"))
    expect_error([&] { dist::make_communicator("mpi", one, Device::cpu()); }, {"built without MPI"});
}

TEST(DistRendezvous, RankZerosBytesReachEveryRank) {
  const dist::RendezvousAddress at{"127.0.0.1", free_port(), 30};
  const int size = 4;
  std::vector<std::vector<uint8_t>> got(size, std::vector<uint8_t>(128, 0));
  for (size_t i = 0; i < 128; ++i) got[0][i] = static_cast<uint8_t>(i * 7 + 3);
  std::vector<std::thread> ranks;
  std::vector<std::string> errors(size);
  for (int r = 0; r < size; ++r)
    ranks.emplace_back([&, r] {
      try {
        dist::rendezvous_broadcast(at, r, size, got[static_cast<size_t>(r)].data(), 128);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  for (int r = 0; r < size; ++r) {
    EXPECT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
    EXPECT_EQ(got[static_cast<size_t>(r)], got[0]) << "rank " << r;
  }
}

TEST(DistRendezvous, RefusesARankOfAnotherWorld) {
  const dist::RendezvousAddress at{"127.0.0.1", free_port(), 10};
  std::string root_error, peer_error;
  std::thread root([&] {
    uint8_t id[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    try {
      dist::rendezvous_broadcast(at, 0, 2, id, 8);
    } catch (const std::exception& e) {
      root_error = e.what();
    }
  });
  std::thread peer([&] {
    uint8_t id[8] = {};
    try {
      dist::rendezvous_broadcast(at, 1, 3, id, 8);  // thinks the world has 3 ranks
    } catch (const std::exception& e) {
      peer_error = e.what();
    }
  });
  root.join();
  peer.join();
  EXPECT_THAT(root_error, HasSubstr("rank 1 announces world size 3"));
  EXPECT_THAT(peer_error, HasSubstr("closed early"));
}

TEST(DistRendezvous, TimesOutWithoutRankZero) {
  const dist::RendezvousAddress at{"127.0.0.1", free_port(), 0.3};
  uint8_t id[4] = {};
  expect_error([&] { dist::rendezvous_broadcast(at, 1, 2, id, 4); }, {"could not reach rank 0 at 127.0.0.1:"});
}

}  // namespace
}  // namespace lowbit
