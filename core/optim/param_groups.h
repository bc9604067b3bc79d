// Splitting a model's named parameters into optimizer parameter groups: a generic classifier
// (make_groups), the usual weight-decay split (split_weight_decay: biases, one-dimensional
// parameters such as batch-norm scales and shifts, and name patterns go to "no_decay"), and the
// glob matching used for the patterns.
//   auto split = split_weight_decay(model.named_parameters(), {.patterns = {"*.alpha"}});
//   SGD sgd;
//   sgd.add_param_group(split.decay.params, {.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-4f}, "decay");
//   sgd.add_param_group(split.no_decay.params, {.lr = 0.1f, .momentum = 0.9f}, "no_decay");
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/export.h"
#include "core/tensor.h"

namespace lowbit {

using NamedParams = std::vector<std::pair<std::string, Tensor>>;  // as Module::named_parameters()

struct NamedParamGroup {
  std::string name;
  std::vector<std::string> names;  // parallel to params
  std::vector<Tensor> params;
};

// Groups parameters by the group name `classify` gives each; groups come in the order their first
// parameter appears, parameters in their original order.
LOWBIT_API std::vector<NamedParamGroup> make_groups(
    const NamedParams& named, const std::function<std::string(const std::string& name, const Tensor& param)>& classify);

// Parameters for which `pred` holds go to the first group (`yes`), the others to the second; both
// groups are returned even when empty.
LOWBIT_API std::pair<NamedParamGroup, NamedParamGroup> partition_params(
    const NamedParams& named, const std::function<bool(const std::string& name, const Tensor& param)>& pred,
    const std::string& yes, const std::string& no);

struct WeightDecayExclusions {
  bool biases = true;                 // names ending in "bias" ("fc.bias", "bias")
  bool one_dimensional = true;        // parameters of rank <= 1: batch-norm scales/shifts, biases, scalars
  std::vector<std::string> patterns;  // glob patterns on the full dotted name ("*bn*", "quant.*")
};

struct WeightDecaySplit {
  NamedParamGroup decay;     // named "decay"
  NamedParamGroup no_decay;  // named "no_decay"
};

LOWBIT_API WeightDecaySplit split_weight_decay(const NamedParams& named, const WeightDecayExclusions& exclude = {});

// Glob match of the whole text: '*' matches any run of characters (dots included), '?' any one
// character, everything else itself.
LOWBIT_API bool glob_match(const std::string& pattern, const std::string& text);

}  // namespace lowbit
