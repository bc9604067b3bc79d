// Tests of the tcp backend (core/dist/tcp_communicator.cpp), ranks as threads over localhost:
// all-reduces equal the rank-order float sum ((x0 + x1) + x2) bit for bit on every rank (also
// for buffers longer than rank 0's receive chunk, and when started asynchronously), broadcasts
// from any root, host sums in double, barriers; a rank that stops ends the others' waits with an
// error instead of a hang, and ranks that call different collectives stop with an error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/dist/launch.h"
#include "tests/free_port.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

// Runs body(comm) on `size` threads, each rank `r` of a tcp communicator made through
// make_communicator as a process of the built-in launch would; returns each rank's error ("" for
// none).
std::vector<std::string> run_tcp_ranks(int size, const std::function<void(dist::Communicator&)>& body) {
  const int port = test::free_port();
  std::vector<std::string> errors(static_cast<size_t>(size));
  std::vector<std::thread> ranks;
  for (int r = 0; r < size; ++r)
    ranks.emplace_back([&, r] {
      try {
        dist::LaunchInfo l;
        l.launcher = "env";
        l.rank = r;
        l.size = size;
        l.master_addr = "127.0.0.1";
        l.master_port = port;
        std::shared_ptr<dist::Communicator> comm = dist::make_communicator("tcp", l, Device::cpu());
        EXPECT_EQ(comm->backend(), "tcp");
        EXPECT_EQ(comm->rank(), r);
        EXPECT_EQ(comm->size(), size);
        body(*comm);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : ranks) t.join();
  return errors;
}

// Rank r's values: magnitudes from 1e-3 to 1e3, so that the order of the additions shows.
std::vector<float> rank_values(int r, size_t n) {
  std::vector<float> v(n);
  uint32_t state = 12345u + 977u * static_cast<uint32_t>(r);
  for (size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    const float mantissa = static_cast<float>(state >> 8) / static_cast<float>(1u << 24) - 0.5f;
    const float scale[] = {1e-3f, 1.f, 1e3f};
    v[i] = mantissa * scale[(i + static_cast<size_t>(r)) % 3];
  }
  return v;
}

TEST(DistTcp, AllReduceIsTheRankOrderSumOnEveryRank) {
  const int size = 3;
  const size_t n = (size_t{1} << 16) + 1000;  // more than rank 0 receives at a time
  std::vector<float> expected = rank_values(0, n);
  for (int r = 1; r < size; ++r) {
    const std::vector<float> v = rank_values(r, n);
    for (size_t i = 0; i < n; ++i) expected[i] += v[i];
  }
  std::vector<std::vector<float>> got(size), started(size);
  const auto errors = run_tcp_ranks(size, [&](dist::Communicator& comm) {
    const auto r = static_cast<size_t>(comm.rank());
    Tensor t = Tensor::from_vector(rank_values(comm.rank(), n), {static_cast<int64_t>(n)});
    comm.all_reduce_sum(t);
    got[r] = t.to_vector();
    Tensor u = Tensor::from_vector(rank_values(comm.rank(), n), {static_cast<int64_t>(n)});
    std::unique_ptr<dist::Work> work = comm.start_all_reduce_sum(u);
    work->wait();
    started[r] = u.to_vector();
  });
  for (int r = 0; r < size; ++r) {
    ASSERT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
    EXPECT_TRUE(got[static_cast<size_t>(r)] == expected) << "rank " << r;
    EXPECT_TRUE(started[static_cast<size_t>(r)] == expected) << "rank " << r;
  }
}

TEST(DistTcp, BroadcastsFromEveryRootSumsHostValuesAndSynchronizes) {
  const int size = 3;
  std::vector<std::vector<int32_t>> from1(size), from0(size);
  std::vector<std::vector<double>> host(size);
  const auto errors = run_tcp_ranks(size, [&](dist::Communicator& comm) {
    const auto r = static_cast<size_t>(comm.rank());
    Tensor a = Tensor::from_vector(std::vector<int32_t>{comm.rank(), 10 + comm.rank(), -7}, {3});
    comm.broadcast(a, 1);
    from1[r] = a.to_host<int32_t>();
    Tensor b = Tensor::from_vector(std::vector<int32_t>{100 * comm.rank() + 5}, {1});
    comm.broadcast(b, 0);
    from0[r] = b.to_host<int32_t>();
    std::vector<double> h = {0.25 * comm.rank(), 1e300 * (comm.rank() == 2 ? 1 : 0), 1};
    comm.all_reduce_sum_host(h);
    host[r] = h;
    comm.barrier();
  });
  for (int r = 0; r < size; ++r) {
    ASSERT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
    EXPECT_EQ(from1[static_cast<size_t>(r)], (std::vector<int32_t>{1, 11, -7})) << "rank " << r;
    EXPECT_EQ(from0[static_cast<size_t>(r)], (std::vector<int32_t>{5})) << "rank " << r;
    EXPECT_EQ(host[static_cast<size_t>(r)], (std::vector<double>{0.75, 1e300, 3})) << "rank " << r;
  }
}

TEST(DistTcp, OneRankIsItsOwnSum) {
  const auto errors = run_tcp_ranks(1, [](dist::Communicator& comm) {
    Tensor t = Tensor::from_vector({1.5f, -2.f}, {2});
    comm.all_reduce_sum(t);
    comm.broadcast(t, 0);
    comm.barrier();
    EXPECT_EQ(t.to_vector(), (std::vector<float>{1.5f, -2.f}));
  });
  EXPECT_EQ(errors[0], "");
}

TEST(DistTcp, AStoppedRankEndsTheOthersWaitWithAnError) {
  // Rank 1 leaves (its communicator closes its connection) instead of joining the all-reduce.
  auto errors = run_tcp_ranks(3, [](dist::Communicator& comm) {
    if (comm.rank() == 1) return;
    Tensor t = Tensor::zeros({4});
    comm.all_reduce_sum(t);
  });
  EXPECT_THAT(errors[0], HasSubstr("rank 0 talking to rank 1: the connection closed early (that process stopped)"));
  // Rank 2 waits for rank 0's sums, which never come: rank 0's connection closes on its error.
  EXPECT_THAT(errors[2], HasSubstr("rank 2 talking to rank 0: the connection closed early"));
  EXPECT_EQ(errors[1], "");

  // Rank 0 leaves: every other rank learns it at once.
  errors = run_tcp_ranks(2, [](dist::Communicator& comm) {
    if (comm.rank() == 0) return;
    Tensor t = Tensor::zeros({4});
    comm.broadcast(t, 0);
  });
  EXPECT_THAT(errors[1], HasSubstr("rank 1 talking to rank 0: the connection closed early"));
}

TEST(DistTcp, RanksOutOfStepStopWithAnErrorNamingBothCalls) {
  auto errors = run_tcp_ranks(3, [](dist::Communicator& comm) {
    Tensor t = Tensor::zeros({comm.rank() == 2 ? 5 : 4});
    comm.all_reduce_sum(t);
  });
  EXPECT_THAT(errors[0], HasSubstr("the ranks are out of step: rank 2 calls an all-reduce of 5 f32 values while rank "
                                   "0 calls an all-reduce of 4 f32 values"));
  EXPECT_THAT(errors[1], HasSubstr("closed early"));
  EXPECT_THAT(errors[2], HasSubstr("closed early"));

  errors = run_tcp_ranks(2, [](dist::Communicator& comm) {
    Tensor t = Tensor::zeros({2});
    if (comm.rank() == 0) comm.all_reduce_sum(t);
    else comm.broadcast(t, 0);
  });
  EXPECT_THAT(errors[0], HasSubstr("rank 1 calls a broadcast of 8 bytes from rank 0 while rank 0 calls an "
                                   "all-reduce of 2 f32 values"));
}

}  // namespace
}  // namespace lowbit
