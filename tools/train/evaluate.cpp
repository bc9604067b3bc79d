// Evaluation of a model over a loader, and of a checkpoint file.
#include "tools/train/evaluate.h"

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops/loss.h"
#include "core/ops/reduce.h"
#include "tools/train/build.h"
#include "tools/train/checkpoint.h"
#include "tools/train/train_state.h"

namespace lowbit {

int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  std::vector<int32_t> pred = argmax(logits, 1).to_host<int32_t>();
  std::vector<int32_t> y = labels.to_host<int32_t>();
  int64_t correct = 0;
  for (size_t i = 0; i < y.size(); ++i) correct += pred[i] == y[i];
  return correct;
}

EvalResult evaluate(Module& model, data::BatchSource& loader) {
  NoGradGuard no_grad;
  model.eval();
  loader.start_epoch(0);
  double loss_sum = 0;
  int64_t correct = 0;
  EvalResult r;
  data::Batch batch;
  while (loader.next(batch)) {
    Tensor logits = model(batch.images);
    loss_sum += static_cast<double>(cross_entropy(logits, batch.labels).item()) * static_cast<double>(batch.size());
    correct += count_correct(logits, batch.labels);
    r.examples += batch.size();
  }
  LOWBIT_CHECK(r.examples > 0, "evaluate: the loader yielded no examples");
  r.loss = loss_sum / static_cast<double>(r.examples);
  r.accuracy = static_cast<double>(correct) / static_cast<double>(r.examples);
  return r;
}

CheckpointEval evaluate_checkpoint(const EvalConfig& e) {
  const std::string where = "checkpoint " + e.checkpoint;
  Checkpoint ckpt = load_checkpoint(e.checkpoint);
  TrainConfig c = config_from_json(ckpt.config, where);
  LOWBIT_CHECK(c.model == ckpt.model, where, ": its config names model '", c.model, "' but it holds '", ckpt.model,
               "'");
  if (!e.dataset.empty() && e.dataset != c.dataset) {
    c.dataset = e.dataset;
    c.data_dir.clear();  // the run's folder belongs to the other dataset
  }
  if (!e.data_dir.empty()) c.data_dir = e.data_dir;
  if (!e.device.empty()) c.device = e.device;
  if (e.batch_size != 0) c.eval_batch_size = e.batch_size;
  if (e.limit_test >= 0) c.limit_test = e.limit_test;
  LOWBIT_CHECK(c.eval_batch_size >= 1, "eval: batch-size must be >= 1, got ", c.eval_batch_size);
  c.data_dir = data::find_dataset(c.dataset).resolve_dir(c.data_dir);
  const Device device = parse_device(c.device);
  c.device = device.str();

  RunData data = load_data(c, device, false);
  Generator gen(c.seed);
  std::shared_ptr<Module> model = build_model(c, data, device, gen);
  restore_model(ckpt, *model, where);
  return {evaluate(*model, *data.test), c, ckpt.epoch};
}

}  // namespace lowbit
