// Timed inference over a loader (see infer.h).
#include "tools/deploy/infer.h"

#include <chrono>
#include <functional>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/reduce.h"

namespace lowbit::deploy {
namespace {

InferResult run(const std::function<Tensor(const Tensor&)>& forward, data::BatchSource& loader) {
  NoGradGuard no_grad;
  InferResult r;
  data::Batch batch;
  loader.start_epoch(0);
  if (loader.next(batch)) argmax(forward(batch.images), 1).to_host<int32_t>();  // warm-up
  loader.start_epoch(0);
  while (loader.next(batch)) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<int32_t> pred = argmax(forward(batch.images), 1).to_host<int32_t>();
    r.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::vector<int32_t> labels = batch.labels.to_host<int32_t>();
    for (size_t i = 0; i < pred.size(); ++i) r.correct += pred[i] == labels[i];
    r.predictions.insert(r.predictions.end(), pred.begin(), pred.end());
  }
  LOWBIT_CHECK(!r.predictions.empty(), "infer: the loader yielded no examples");
  return r;
}

}  // namespace

double InferResult::accuracy() const {
  return predictions.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(predictions.size());
}

double InferResult::images_per_second() const {
  return seconds > 0 ? static_cast<double>(predictions.size()) / seconds : 0.0;
}

InferResult infer(const Runtime& runtime, data::BatchSource& loader) {
  return run([&runtime](const Tensor& x) { return runtime.forward(x); }, loader);
}

InferResult infer(Module& model, data::BatchSource& loader) {
  model.eval();
  return run([&model](const Tensor& x) { return model(x); }, loader);
}

int64_t same_predictions(const InferResult& a, const InferResult& b) {
  LOWBIT_CHECK(a.predictions.size() == b.predictions.size(), "infer: the runs cover ", a.predictions.size(), " and ",
               b.predictions.size(), " examples");
  int64_t same = 0;
  for (size_t i = 0; i < a.predictions.size(); ++i) same += a.predictions[i] == b.predictions[i];
  return same;
}

}  // namespace lowbit::deploy
