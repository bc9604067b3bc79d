// Keeping data-parallel replicas equal (state broadcast, a bitwise fingerprint check), sync
// batch norm on a model, and the step counts of a sharded epoch.
#include "tools/train/data_parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "layers/batchnorm.h"

namespace lowbit {

void broadcast_module_state(dist::Communicator& comm, Module& model, bool with_params, bool with_buffers) {
  if (comm.size() == 1) return;
  auto send = [&](const std::vector<NamedTensor>& tensors) {
    for (const auto& [name, t] : tensors) {
      LOWBIT_CHECK(t.is_contiguous(), "data parallel: '", name, "' is not contiguous");
      Tensor view = t.detach();
      comm.broadcast(view, 0);
    }
  };
  if (with_params) send(model.named_parameters());
  if (with_buffers) send(model.named_buffers());
}

void check_replicas_equal(dist::Communicator& comm, const Module& model, const std::string& when) {
  if (comm.size() == 1) return;
  // Two 64-bit checksums of every parameter's bits (FNV-1a and a plain sum), as four 32-bit words.
  uint64_t fnv = 1469598103934665603ull, plain = 0;
  for (const auto& [name, t] : model.named_parameters()) {
    for (float f : t.to_vector()) {
      uint32_t bits = 0;
      std::memcpy(&bits, &f, sizeof bits);
      fnv = (fnv ^ bits) * 1099511628211ull;
      plain += bits;
    }
  }
  const std::vector<int32_t> words = {static_cast<int32_t>(fnv >> 32), static_cast<int32_t>(fnv),
                                      static_cast<int32_t>(plain >> 32), static_cast<int32_t>(plain)};
  Tensor root = Tensor::from_vector(words, {static_cast<int64_t>(words.size())});
  comm.broadcast(root, 0);
  std::vector<double> differ = {root.to_host<int32_t>() == words ? 0.0 : 1.0};
  comm.all_reduce_sum_host(differ);  // so that every rank stops, not only those that differ
  LOWBIT_CHECK(differ[0] == 0, "data parallel: the parameters of ", differ[0], " rank(s) differ from rank 0's ", when,
               " (the replicas diverged: a nondeterministic collective, or ranks that did not run the same steps)");
}

int64_t synchronize_batch_norm(Module& model, std::shared_ptr<dist::Communicator> comm) {
  int64_t n = 0;
  for (auto& [name, m] : model.named_modules()) {
    if (auto* bn = dynamic_cast<BatchNorm*>(m)) {
      bn->set_sync(comm);
      ++n;
    }
  }
  return n;
}

int64_t global_batch_count(int64_t examples, int64_t batch_size, int64_t step) {
  return std::max<int64_t>(0, std::min(batch_size, examples - step * batch_size));
}

int64_t data_parallel_steps(int64_t examples, int64_t batch_size, int64_t world) {
  int64_t steps = (examples + batch_size - 1) / batch_size;
  if (steps > 0 && global_batch_count(examples, batch_size, steps - 1) < world) --steps;
  return steps;
}

EvalResult evaluate_data_parallel(Module& model, data::BatchSource& test, dist::Communicator& comm) {
  EvalResult r = evaluate(model, test);
  if (comm.size() == 1) return r;
  const auto n = static_cast<double>(r.examples);
  std::vector<double> sums = {r.loss * n, std::round(r.accuracy * n), n};
  comm.all_reduce_sum_host(sums);
  r.examples = static_cast<int64_t>(sums[2]);
  r.loss = sums[0] / sums[2];
  r.accuracy = sums[1] / sums[2];
  return r;
}

}  // namespace lowbit
