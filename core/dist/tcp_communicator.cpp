// The tcp backend (core/dist/backends.h): collectives on CPU buffers over the star of TCP
// connections that the rendezvous (core/dist/rendezvous.h) leaves around rank 0, so that
// processes of the built-in launch (RANK/WORLD_SIZE/MASTER_ADDR/MASTER_PORT, e.g. `lowbit
// launch`) train on CPUs without MPI. Needs nothing beyond POSIX sockets, so every build has it.
//   all-reduce: every rank sends its buffer to rank 0, which adds them in rank order
//               (((x0 + x1) + x2) + ...) and sends the sum back: every rank gets the same bits;
//   broadcast:  the root's bytes go to rank 0 (unless it is the root) and from there to the rest;
//   barrier:    an all-reduce of one value.
// Each collective starts with every other rank telling rank 0 what it is calling (operation,
// count, root): ranks that are out of step (a bug, or a rank that skipped a step) stop with an
// error naming both calls instead of exchanging mismatched bytes.
// Rank 0 moves 2 (N - 1) buffers per all-reduce (a ring would move 2 (N - 1) / N per rank): fine
// for the CPU runs it is for (a few processes, models of a few MB), not a substitute for NCCL.
// Collectives wait without a deadline; a process that stops closes its connections, which ends
// the others' waits with an error naming its rank.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "core/dist/backends.h"
#include "core/dist/rendezvous.h"
#include "core/error.h"

namespace lowbit::dist {

namespace {

constexpr uint64_t kTcpKey = 0x7463702d636f6d6dull;  // "tcp-comm": what the connections are for
constexpr int64_t kChunk = int64_t{1} << 16;         // elements received at a time by rank 0

// What a rank calls, as it tells rank 0 (host byte order: one machine architecture per job).
struct Call {
  uint32_t op = 0;  // 1: all-reduce of f32, 2: all-reduce of f64, 3: broadcast of bytes
  uint32_t root = 0;
  uint64_t count = 0;
  bool operator==(const Call&) const = default;
};

std::string describe(const Call& c) {
  if (c.op == 1) return "an all-reduce of " + std::to_string(c.count) + " f32 values";
  if (c.op == 2) return "an all-reduce of " + std::to_string(c.count) + " f64 values";
  if (c.op == 3) return "a broadcast of " + std::to_string(c.count) + " bytes from rank " + std::to_string(c.root);
  return "an unknown operation " + std::to_string(c.op);
}

template <typename T>
constexpr uint32_t reduce_op() {
  return sizeof(T) == 4 ? 1 : 2;
}

class TcpCommunicator final : public Communicator {
 public:
  explicit TcpCommunicator(Star star) : star_(std::move(star)) {}
  int rank() const override { return star_.rank; }
  int size() const override { return star_.size; }
  std::string backend() const override { return "tcp"; }
  Device device() const override { return Device::cpu(); }
  void barrier() override {
    double one = 1;
    reduce(&one, 1);
  }

 protected:
  void reduce_f32(float* data, int64_t count) override { reduce(data, count); }
  void reduce_host_f64(double* data, int64_t count) override { reduce(data, count); }
  void broadcast_bytes(void* data, int64_t bytes, int root) override {
    if (size() == 1) return;
    const Call call{3, static_cast<uint32_t>(root), static_cast<uint64_t>(bytes)};
    const auto n = static_cast<size_t>(bytes);
    if (rank() == 0) {
      for (int r = 1; r < size(); ++r) check_call(call, r);
      if (root != 0) read_all(peer(root), data, n, kNoDeadline, what(root));
      for (int r = 1; r < size(); ++r)
        if (r != root) write_all(peer(r), data, n, what(r));
      return;
    }
    write_all(peer(0), &call, sizeof call, what(0));
    if (rank() == root) write_all(peer(0), data, n, what(0));
    else read_all(peer(0), data, n, kNoDeadline, what(0));
  }

 private:
  const Socket& peer(int r) const { return star_.peers[static_cast<size_t>(rank() == 0 ? r : 0)]; }
  std::string what(int r) const {
    return "tcp backend: rank " + std::to_string(rank()) + " talking to rank " + std::to_string(r);
  }

  // Rank 0: reads rank r's call and stops unless it is the same as its own.
  void check_call(const Call& mine, int r) {
    Call theirs;
    read_all(peer(r), &theirs, sizeof theirs, kNoDeadline, what(r));
    LOWBIT_CHECK(theirs == mine, "tcp backend: the ranks are out of step: rank ", r, " calls ", describe(theirs),
                 " while rank 0 calls ", describe(mine));
  }

  template <typename T>
  void reduce(T* data, int64_t count) {
    if (size() == 1) return;
    const Call call{reduce_op<T>(), 0, static_cast<uint64_t>(count)};
    const auto bytes = static_cast<size_t>(count) * sizeof(T);
    if (rank() != 0) {
      write_all(peer(0), &call, sizeof call, what(0));
      write_all(peer(0), data, bytes, what(0));
      read_all(peer(0), data, bytes, kNoDeadline, what(0));
      return;
    }
    std::vector<T> part(static_cast<size_t>(std::min(count, kChunk)));
    for (int r = 1; r < size(); ++r) {
      check_call(call, r);
      for (int64_t start = 0; start < count; start += kChunk) {
        const int64_t n = std::min(kChunk, count - start);
        read_all(peer(r), part.data(), static_cast<size_t>(n) * sizeof(T), kNoDeadline, what(r));
        T* out = data + start;
        for (int64_t i = 0; i < n; ++i) out[i] += part[static_cast<size_t>(i)];
      }
    }
    for (int r = 1; r < size(); ++r) write_all(peer(r), data, bytes, what(r));
  }

  Star star_;
};

}  // namespace

std::shared_ptr<Communicator> make_tcp_communicator(const RendezvousAddress& at, int rank, int size) {
  return std::make_shared<TcpCommunicator>(rendezvous_connect(at, rank, size, kTcpKey));
}

}  // namespace lowbit::dist
