// What a quantized run adds to training (config keys quant, w-bits, ... in tools/train/config.h):
// the layer factory's QuantSpec, the float checkpoint to start from (--init-from), the
// BinaryConnect weight clip, EWGS's Hessian δ schedule, AQE's α schedule and the per-epoch record
// of every quantizer's scalars.
//
// Schedules (epochs 1-based as in the logs; `done` = epochs finished before the one starting):
//   - EWGS δ (ewgs-delta hessian): before the epoch with done % every == 0 and done > 0 (the
//     official code's "epoch % 10 == 0 and epoch != 0", 0-based), δ is re-estimated by
//     update_ewgs_deltas on the first ewgs-delta-batches batches of that epoch's training order
//     (the current weights have not seen them this epoch), probes seeded with seed + done. The
//     estimate leaves the model, its buffers and the loader's order unchanged, so a resumed run
//     repeats it exactly.
//   - AQE α: the paper (spec §5.1) uses one fixed α (1/2) and gives no schedule. Ours is linear per
//     epoch from aqe-alpha-start (epoch 1) to aqe-alpha-end (last epoch), set before each epoch;
//     the defaults 0.5 -> 0.5 are the paper's fixed α. Eval uses the hard quantizer whatever α is.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/data/batch_source.h"
#include "core/tensor.h"
#include "layers/module.h"
#include "quant/qfactory.h"
#include "tools/train/config.h"

namespace lowbit {

inline bool is_quantized(const TrainConfig& c) { return c.quant != "none"; }

// The layer factory's spec of a quantized config.
QuantSpec quant_spec(const TrainConfig& c);

// Whether weights are clipped to [-1, 1] after each step: weight-clip on, or auto with bnn, xnor
// or aqe (the methods trained BinaryConnect style).
bool uses_weight_clip(const TrainConfig& c);
// The weights the clip applies to: those of the quantized layers that quantize their weight.
std::vector<Tensor> clipped_weights(Module& model);

// Loads the float checkpoint `path` into the quantized `model` non-strictly: tensors of the
// model missing from the file are allowed only when they belong to a quantizer or are a
// quantized layer's output scale or "initialized" flag (the layers then initialize on the first
// training batch). Throws naming the keys for any other missing tensor, for tensors of the file
// the model lacks, and for differing shapes; nothing is copied then.
void init_from_checkpoint(Module& model, const std::string& model_name, const std::string& path);

// AQE α for 1-based epoch `epoch` of `epochs`, and setting it on every AQE quantizer.
double aqe_alpha_for_epoch(const TrainConfig& c, int64_t epoch);
void set_aqe_alpha(Module& model, double alpha);

// True when the Hessian δ update runs before the epoch that follows `done` finished epochs.
bool ewgs_delta_due(const TrainConfig& c, int64_t done);
// The update itself (see the top); returns the δ set per quantizer.
std::map<std::string, double> update_ewgs_deltas_from_loader(Module& model, data::BatchSource& loader,
                                                             const TrainConfig& c, int64_t done);

// {"NAME": {"KEY": value}} of every quantizer's one-element parameters and buffers (l, u, alpha,
// delta, ...) and every quantized layer's output scale ("alpha"), in walk order.
nlohmann::json quantizer_values(Module& model);
// A short console line: the number of quantizers and, per key, the mean over them
// ("quantizers 6: l mean -0.71, u mean 1.3, delta mean 0.0012").
std::string quantizer_summary(const nlohmann::json& values);

}  // namespace lowbit
