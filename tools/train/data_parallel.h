// Data-parallel training, as train() (tools/train/trainer.h) runs it: one process per device,
// each holding a full replica of the model and a shard of every batch (core/data/shard.h).
//   - the global batch is --batch-size; rank r of N trains on every N-th example of it;
//   - each rank weights its mean loss by its share of the global batch (n_r / n), so the summed
//     gradients (dist::GradReducer: buckets all-reduced during the backward pass) are the
//     gradient of the global batch's mean loss, as one process with the whole batch computes it;
//   - every rank then takes the same optimizer step, so the replicas stay equal;
//   - batch norm: local statistics by default; --sync-bn normalizes with the global batch's
//     (dist::sync_batch_norm);
//   - rank 0 alone prints, writes the run folder and checkpoints; a checkpoint holds only global
//     state (model, optimizer, random streams, epoch, metrics), so a run may resume with another
//     number of processes (the data order and augmentation depend on seed and epoch only).
// This header: the pieces train() uses for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/data/batch_source.h"
#include "core/dist/communicator.h"
#include "layers/module.h"
#include "tools/train/evaluate.h"

namespace lowbit {

// Broadcasts rank 0's parameters (with_params) and buffers (with_buffers) to every rank, in the
// module's state-dict order.
void broadcast_module_state(dist::Communicator& comm, Module& model, bool with_params, bool with_buffers);

// Throws lowbit::Error naming `when`, on every rank, unless every rank's parameters are
// bit-identical to rank 0's (compared through a fingerprint of their bits: one small broadcast
// and one all-reduce).
void check_replicas_equal(dist::Communicator& comm, const Module& model, const std::string& when);

// Makes every BatchNorm layer of `model` normalize with the statistics of all ranks; returns how
// many layers it changed.
int64_t synchronize_batch_norm(Module& model, std::shared_ptr<dist::Communicator> comm);

// Training steps per epoch when `examples` examples are split into global batches of
// `batch_size` among `world` ranks: every batch, except that a last batch with fewer examples
// than ranks is left out (some rank would have nothing to train on).
int64_t data_parallel_steps(int64_t examples, int64_t batch_size, int64_t world);

// The global batch's example count at 0-based step `step`.
int64_t global_batch_count(int64_t examples, int64_t batch_size, int64_t step);

// evaluate() over this rank's share of the test batches, summed over the ranks (the test loss and
// accuracy of the whole test split; every rank gets them). Each rank needs at least one example.
EvalResult evaluate_data_parallel(Module& model, data::BatchSource& test, dist::Communicator& comm);

}  // namespace lowbit
