// The training loop behind `lowbit train`: setup (fresh or resumed; one process or data-parallel,
// tools/train/data_parallel.h), epochs of forward, loss, backward (with the gradient all-reduce
// when data-parallel), optional gradient clipping and optimizer steps under the LR schedule, test
// evaluation, and the run folder's files after every epoch (rank 0).
#include "tools/train/trainer.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <ostream>
#include <sstream>

#include "core/dist/grad_reducer.h"
#include "core/dist/launch.h"
#include "core/error.h"
#include "core/ops/elementwise.h"
#include "core/ops/loss.h"
#include "core/optim/clip.h"
#include "tools/train/checkpoint.h"
#include "tools/train/data_parallel.h"
#include "tools/train/deterministic.h"
#include "tools/train/evaluate.h"
#include "tools/train/progress.h"
#include "tools/train/quant_setup.h"
#include "tools/train/run_folder.h"
#include "tools/train/train_state.h"

namespace lowbit {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// What one epoch needs besides the model.
struct EpochContext {
  Optimizer& optimizer;
  Optimizer* quant_optimizer;  // a quantized run's quantizer parameters, or null
  const LRSchedule& schedule;
  data::BatchSource& loader;
  const TrainConfig& config;
  Progress& progress;
  std::string kept;  // where the last good checkpoint is, for the divergence message
  // Data parallel: the ranks, the gradient all-reduce (null in a one-process run) and the steps
  // of an epoch (the loader's batches, or data_parallel_steps()).
  dist::Communicator& comm;
  dist::GradReducer* reducer;
  int64_t steps;
  bool sync_after_first_step = false;  // a fresh quantized data-parallel run: see train()
};

// One pass over the training split; fills the training fields of the epoch's metrics.
EpochMetrics train_epoch(Module& model, int64_t epoch, EpochContext& ctx) {
  model.train();
  ctx.loader.start_epoch(epoch - 1);
  const int64_t steps = ctx.steps;
  const int64_t examples = ctx.loader.num_examples();  // over every rank
  ctx.progress.start_epoch(epoch, ctx.config.epochs, steps);
  std::vector<Tensor> params = ctx.optimizer.params();
  if (ctx.quant_optimizer)
    for (const Tensor& p : ctx.quant_optimizer->params()) params.push_back(p);
  const auto t0 = std::chrono::steady_clock::now();
  EpochMetrics m;
  m.epoch = epoch;
  double loss_sum = 0;
  int64_t correct = 0, seen = 0, step = 0;
  data::Batch batch;
  while (step < steps && ctx.loader.next(batch)) {
    // A rank whose share of a batch was all unreadable has passed that batch over; the other
    // ranks train on it: the ranks would exchange the gradients of different steps.
    LOWBIT_CHECK(!ctx.reducer || batch.number < 0 || batch.number == step, "train: rank ", ctx.comm.rank(), " of ",
                 ctx.comm.size(), ": every image of its share of batch ", step + 1, " of epoch ", epoch,
                 " was unreadable and skipped (the 'image loader: skipped' lines name them); data-parallel ranks "
                 "train each batch together, so the run stops: repair or remove those files");
    apply_schedule(ctx.optimizer, ctx.schedule, epoch - 1, step, steps);
    if (ctx.quant_optimizer) apply_schedule(*ctx.quant_optimizer, ctx.schedule, epoch - 1, step, steps);
    if (step == 0) m.lr = ctx.config.lr * ctx.schedule.factor(epoch - 1, 0, steps);  // in double, unlike lr(0)
    ++step;  // 1-based from here on, as in messages
    Tensor logits = model(batch.images);
    Tensor loss = cross_entropy(logits, batch.labels);
    const float loss_value = loss.item();
    LOWBIT_CHECK(std::isfinite(loss_value), "train: the loss became ", loss_value, " at epoch ", epoch, " step ", step,
                 " (lr ", ctx.optimizer.lr(0), "); lower the learning rate", ctx.kept);
    ctx.optimizer.zero_grad();
    if (ctx.quant_optimizer) ctx.quant_optimizer->zero_grad();
    if (ctx.reducer) {
      // This rank's part of the global batch's mean loss: weighted by its share of the batch, so
      // that the gradients summed over the ranks are the global batch's.
      const int64_t global = global_batch_count(examples, ctx.config.batch_size, step - 1);
      const Tensor weighted =
          batch.size() == global ? loss : mul(loss, static_cast<float>(batch.size()) / static_cast<float>(global));
      ctx.reducer->begin();
      weighted.backward();
      ctx.reducer->finish();
    } else {
      loss.backward();
    }
    if (ctx.config.grad_clip > 0) {
      const double norm = clip_grad_norm(params, ctx.config.grad_clip);
      LOWBIT_CHECK(std::isfinite(norm), "train: the gradient norm became ", norm, " at epoch ", epoch, " step ", step,
                   " (lr ", ctx.optimizer.lr(0), "); lower the learning rate", ctx.kept);
    }
    ctx.optimizer.step();
    if (ctx.quant_optimizer) ctx.quant_optimizer->step();
    if (ctx.sync_after_first_step && step == 1) broadcast_module_state(ctx.comm, model, true, true);
    loss_sum += static_cast<double>(loss_value) * static_cast<double>(batch.size());
    correct += count_correct(logits.detach(), batch.labels);
    seen += batch.size();
    ctx.progress.update(step, seen, loss_sum, correct);
  }
  ctx.progress.end_epoch();
  LOWBIT_CHECK(!ctx.reducer || step == steps, "train: rank ", ctx.comm.rank(), " of ", ctx.comm.size(),
               ": every image of its share of batch ", step + 1, " of epoch ", epoch, " (and of any batch after it) "
               "was unreadable and skipped (the 'image loader: skipped' lines name them); data-parallel ranks train "
               "each batch together, so the run stops: repair or remove those files");
  if (ctx.reducer) {  // the global epoch's sums
    std::vector<double> sums = {loss_sum, static_cast<double>(correct), static_cast<double>(seen)};
    ctx.comm.all_reduce_sum_host(sums);
    loss_sum = sums[0];
    correct = static_cast<int64_t>(sums[1]);
    seen = static_cast<int64_t>(sums[2]);
  }
  m.seconds = seconds_since(t0);
  m.train_loss = loss_sum / static_cast<double>(seen);
  m.train_accuracy = static_cast<double>(correct) / static_cast<double>(seen);
  m.images_per_second = static_cast<double>(seen) / m.seconds;
  return m;
}

std::string summary_line(const EpochMetrics& m, int64_t epochs) {
  std::ostringstream o;
  o << "epoch " << m.epoch << "/" << epochs << std::fixed << std::setprecision(4) << ": train loss " << m.train_loss
    << std::setprecision(2) << " acc " << 100.0 * m.train_accuracy << "%, test loss " << std::setprecision(4)
    << m.test_loss << std::setprecision(2) << " acc " << 100.0 * m.test_accuracy << "%, " << std::setprecision(1)
    << m.seconds << " s, " << std::setprecision(0) << m.images_per_second << " img/s";
  return o.str();
}

bool same_folder(const std::string& a, const std::string& b) {
  namespace fs = std::filesystem;
  return fs::weakly_canonical(fs::absolute(a)) == fs::weakly_canonical(fs::absolute(b));
}

// Refuses to resume `checkpoint` under settings that would make it another run.
void check_resumable(const Checkpoint& checkpoint, const TrainConfig& c, const std::string& where) {
  const nlohmann::json saved = config_to_json(config_from_json(checkpoint.config, where));
  const nlohmann::json now = config_to_json(c);
  for (const std::string& key : config_keys()) {
    if (may_change_on_resume(key) || saved[key] == now[key]) continue;
    std::string allowed;
    for (const std::string& k : config_keys())
      if (may_change_on_resume(k)) allowed += (allowed.empty() ? "" : ", ") + k;
    LOWBIT_FAIL("resume: setting '", key, "' is ", saved[key].dump(), " in ", where, " but ", now[key].dump(),
                " now; a resumed run keeps its settings (only ", allowed, " may change)");
  }
  LOWBIT_CHECK(checkpoint.model == c.model, where, ": holds model '", checkpoint.model, "', not '", c.model, "'");
  LOWBIT_CHECK(checkpoint.rng.seed == c.seed, where, ": its random state has seed ", checkpoint.rng.seed,
               " but its config ", c.seed);
  LOWBIT_CHECK(checkpoint.epoch <= c.epochs, "resume: ", where, " has finished ", checkpoint.epoch,
               " epochs, more than epochs = ", c.epochs);
}

}  // namespace

std::vector<std::string> dataset_names() { return data::dataset_names(); }

std::string default_data_dir(const std::string& dataset) {
  const data::DatasetPreset& p = data::find_dataset(dataset);
  return p.default_dir ? p.default_dir() : "";
}

std::string settings_json(const TrainConfig& config) {
  return nlohmann::json{{"settings", config_to_json(config)}}.dump();
}

TrainConfig run_config(const std::string& run_dir) {
  const std::string path = RunFolder(run_dir).last_checkpoint();
  LOWBIT_CHECK(std::filesystem::exists(path), "resume: ", run_dir,
               " holds no last.safetensors (not a run folder, or the run never started)");
  return config_from_json(load_checkpoint(path).config, "checkpoint " + path);
}

namespace {

// train() once the process's device and communicator are known; `c` is checked.
TrainResult run_training(TrainConfig c, Device device, const std::shared_ptr<dist::Communicator>& comm,
                         std::ostream& log_in, const TrainHooks& hooks) {
  const bool root = comm->rank() == 0;
  const bool data_parallel = comm->backend() != "none";
  std::ostream null_log(nullptr);  // ranks other than 0 print nothing
  std::ostream& log = root ? log_in : null_log;
  const bool resuming = !c.resume.empty();
  if (resuming) {
    if (c.out.empty()) c.out = c.resume;
    LOWBIT_CHECK(same_folder(c.out, c.resume), "resume: a resumed run stays in its folder ", c.resume,
                 " (out is ", c.out, ")");
  }
  const RunFolder folder(c.out);
  std::optional<Checkpoint> resumed;
  const std::string resumed_where = "checkpoint " + folder.last_checkpoint();
  if (resuming) {
    folder.prepare(true);
    resumed = load_checkpoint(folder.last_checkpoint());
  }
  c.data_dir = data::find_dataset(c.dataset).resolve_dir(c.data_dir);
  if (resumed) check_resumable(*resumed, c, resumed_where);
  if (!c.out.empty() && !resuming && root) folder.prepare(false);
  const DeterministicScope deterministic(c.deterministic);
  log << settings_json(c) << std::endl;

  const data::Shard shard = data_parallel ? data::Shard{comm->rank(), comm->size()} : data::Shard{};
  RunData data = load_data(c, device, true, shard);
  Generator gen(c.seed);
  std::shared_ptr<Module> model = build_model(c, data, device, gen);
  if (!resumed && !c.init_from.empty()) {
    LOWBIT_CHECK(is_quantized(c), "train: init-from needs --quant METHOD (it starts a quantized run from a float one)");
    init_from_checkpoint(*model, c.model, c.init_from);
    log << "initialized from " << c.init_from << std::endl;
  }
  int64_t synced_bn = 0;
  if (data_parallel && c.sync_bn) synced_bn = synchronize_batch_norm(*model, comm);
  std::unique_ptr<Optimizer> optimizer = build_optimizer(c, *model);
  std::unique_ptr<Optimizer> quant_optimizer = build_quant_optimizer(c, *model);
  if (uses_weight_clip(c)) optimizer->add_post_step_hook(weight_clip_hook(clipped_weights(*model), -1.f, 1.f));
  std::shared_ptr<const LRSchedule> schedule = build_schedule(c);

  TrainResult result;
  result.run_dir = c.out;
  std::vector<EpochMetrics>& history = result.epochs;
  int64_t done = 0;  // finished epochs
  if (resumed) {
    restore_model(*resumed, *model, resumed_where);
    restore_optimizer(*resumed, *optimizer, resumed_where);
    restore_quant_optimizer(*resumed, quant_optimizer.get(), resumed_where);
    gen.set_stream(resumed->rng.stream);
    done = resumed->epoch;
    history = checkpoint_history(*resumed, resumed_where);
    LOWBIT_CHECK(static_cast<int64_t>(history.size()) == done, resumed_where, ": holds metrics of ", history.size(),
                 " epochs but has finished ", done);
    log << "resuming " << c.out << " after epoch " << done << " of " << c.epochs << std::endl;
  }

  // Data parallel: every rank starts from rank 0's state (equal already when the initialization
  // is deterministic), and sums its gradients with the others after every backward pass.
  std::unique_ptr<dist::GradReducer> reducer;
  int64_t steps = data.train->num_batches();
  if (data_parallel) {
    broadcast_module_state(*comm, *model, true, true);
    std::vector<Tensor> trained = optimizer->params();
    if (quant_optimizer)
      for (const Tensor& p : quant_optimizer->params()) trained.push_back(p);
    reducer = std::make_unique<dist::GradReducer>(comm, trained);
    steps = data_parallel_steps(data.train->num_examples(), c.batch_size, comm->size());
    LOWBIT_CHECK(steps >= 1, "train: ", data.train->num_examples(), " training examples cannot be shared among ",
                 comm->size(), " processes");
    std::ostringstream buckets;  // bytes per bucket, in the order they fill during the backward pass
    for (int64_t n : reducer->bucket_elements()) buckets << (buckets.tellp() > 0 ? " + " : "") << n * 4;
    log << "data parallel: " << comm->size() << " processes (" << comm->backend() << "), global batch "
        << c.batch_size << " (about " << c.batch_size / comm->size() << " per process), batch norm "
        << (synced_bn > 0 ? "synchronized (" + std::to_string(synced_bn) + " layers)" : std::string("per process"))
        << ", " << reducer->total_elements() * 4 << " gradient bytes all-reduced per step in "
        << reducer->num_buckets() << " bucket(s): " << buckets.str() << std::endl;
    if (steps < data.train->num_batches())
      log << "data parallel: the last batch of each epoch ("
          << global_batch_count(data.train->num_examples(), c.batch_size, steps) << " examples, fewer than the "
          << comm->size() << " processes) is left out" << std::endl;
  }
  const bool writes = !c.out.empty() && root;  // rank 0 keeps the run folder
  auto save = [&](const std::string& path) {
    save_checkpoint(path, capture_checkpoint(c, *model, *optimizer, gen, done, history, quant_optimizer.get()));
  };
  if (writes) {
    folder.write_config(config_to_json(c));
    if (!resuming) save(folder.last_checkpoint());  // epoch 0: the initial weights
  }

  Progress progress(log, hooks.progress_bar ? Progress::Style::bar : Progress::Style::lines, c.log_every);
  EpochContext ctx{*optimizer, quant_optimizer.get(), *schedule, *data.train, c, progress, "", *comm, reducer.get(),
                   steps};
  // A quantized layer initializes its quantizers from its first training batch, which differs
  // between the ranks: they take rank 0's after the first step.
  ctx.sync_after_first_step = data_parallel && is_quantized(c) && !resumed;
  const std::string title = c.model + " on " + c.dataset;
  while (done < c.epochs) {
    const int64_t epoch = done + 1;
    if (!c.out.empty())
      ctx.kept = "; the last good checkpoint (epoch " + std::to_string(done) + ") stays in " + folder.last_checkpoint();
    if (c.quant == "aqe") set_aqe_alpha(*model, aqe_alpha_for_epoch(c, epoch));
    if (ewgs_delta_due(c, done)) {
      const auto deltas = update_ewgs_deltas_from_loader(*model, *data.train, c, done);
      log << "ewgs: Hessian delta updated for " << deltas.size() << " quantizers before epoch " << epoch << std::endl;
      if (data_parallel) broadcast_module_state(*comm, *model, false, true);  // rank 0's estimate (its batches)
    }
    EpochMetrics m = train_epoch(*model, epoch, ctx);
    ctx.sync_after_first_step = false;
    if (data_parallel) {
      broadcast_module_state(*comm, *model, false, true);  // rank 0's batch-norm running statistics
      check_replicas_equal(*comm, *model, "after epoch " + std::to_string(epoch));
    }
    const EvalResult test = evaluate_data_parallel(*model, *data.test, *comm);
    m.test_loss = test.loss;
    m.test_accuracy = test.accuracy;
    if (is_quantized(c)) m.quantizers = quantizer_values(*model);
    history.push_back(m);
    done = epoch;
    log << summary_line(m, c.epochs) << "\n";
    if (is_quantized(c)) log << quantizer_summary(m.quantizers) << "\n";
    log << metrics_json(m) << std::endl;
    if (writes) {
      save(folder.last_checkpoint());
      folder.write_metrics(history, title);
    }
    if (hooks.after_epoch && !hooks.after_epoch(m)) break;
  }
  result.completed = done == c.epochs;
  if (result.completed && writes) {
    if (resumed && resumed->epoch == c.epochs)
      log << "the run had already finished all " << c.epochs << " epochs" << std::endl;
    folder.write_metrics(history, title);
    save(folder.final_checkpoint());
  }
  if (!history.empty()) result.test_accuracy = history.back().test_accuracy;
  result.rank = comm->rank();
  result.world = comm->size();
  return result;
}

}  // namespace

TrainResult train(const TrainConfig& config, std::ostream& log, const TrainHooks& hooks) {
  TrainConfig c = config;  // becomes the effective settings
  check_config(c);
  const dist::LaunchInfo launch = dist::detect_launch();
  const Device device = dist::process_device(parse_device(c.device), c.device.rfind("cuda:", 0) == 0, launch);
  c.device = device.str();
  const std::shared_ptr<dist::Communicator> comm =
      hooks.communicator ? hooks.communicator : dist::make_communicator(c.dist, launch, device);
  if (comm->size() == 1) return run_training(c, device, comm, log, hooks);
  try {
    return run_training(c, device, comm, log, hooks);
  } catch (const std::exception& e) {
    // The other ranks would wait forever in their next collective: stop the job (under MPI).
    std::cerr << "lowbit train: rank " << comm->rank() << " of " << comm->size() << ": " << e.what() << std::endl;
    dist::abort_job(1);
    throw;
  }
}

}  // namespace lowbit
