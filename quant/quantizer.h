// Quantizer: the common interface of every quantizer / gradient estimator (EWGS, DAQ, SAT,
// AQE, LSQ, PACT, DoReFa, STE, BNN, XNOR-Net). A quantizer is a Module: its learnable scalars
// (interval bounds, step sizes, clip values, output scales) are its parameters, so they land in
// state dicts and can be put in their own optimizer group. Its forward quantizes ONE tensor, a
// layer's weight or its input activation:
//   - train mode: the method's training forward with its custom backward (an op of quant/ops);
//   - eval mode: the hard quantizer (what deployment computes).
// Per-element math lives in kernels/quant/*_math.h (host + device), the CPU loops in
// kernels/cpu/quant_*.cpp and the CUDA kernels in kernels/cuda/quant_*.cu.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/export.h"
#include "layers/module.h"

namespace lowbit {

enum class QuantTarget : uint8_t { weight, activation };
LOWBIT_API const char* quant_target_name(QuantTarget t);

// bits == 32 means "not quantized" (the layer uses the float tensor as is).
inline constexpr int kFullPrecisionBits = 32;

struct LOWBIT_API QuantConfig {
  std::string method;  // registry name: "ewgs", "lsq", ...
  int bits = kFullPrecisionBits;
  QuantTarget target = QuantTarget::weight;
  std::map<std::string, double> options;  // method settings, e.g. {"delta", 1e-3}

  // The option's value, or `fallback` when it is not set.
  double option(const std::string& key, double fallback) const;
  std::string str() const;  // "ewgs w2 {delta=0.001}"
};

class LOWBIT_API Quantizer : public Module {
 public:
  explicit Quantizer(QuantConfig config) : config_(std::move(config)) {}
  const QuantConfig& config() const { return config_; }
  int bits() const { return config_.bits; }
  QuantTarget target() const { return config_.target; }
  bool is_weight() const { return config_.target == QuantTarget::weight; }

  // Data-dependent initialization from the first training batch (EWGS, LSQ, DAQ, ...); the
  // owning layer calls it once, before the first forward. Default: nothing to initialize.
  virtual void initialize(const Tensor& x) { initialized_ = true; }
  bool initialized() const { return initialized_; }

 protected:
  void mark_initialized() { initialized_ = true; }
  QuantConfig config_;

 private:
  bool initialized_ = false;
};

// " {delta=0.001, output_scale=1}" (empty when there are no options): how configs print options.
LOWBIT_API std::string options_str(const std::map<std::string, double>& options);

// Builds a quantizer by method name. Refuses an unknown method (listing the known ones) and a
// width the method does not define for that target (listing the widths it does).
LOWBIT_API std::shared_ptr<Quantizer> make_quantizer(const QuantConfig& config);
LOWBIT_API std::vector<std::string> quantizer_names();

}  // namespace lowbit
