// Parameter grouping helpers (see param_groups.h).
#include "core/optim/param_groups.h"

#include "core/error.h"

namespace lowbit {

std::vector<NamedParamGroup> make_groups(
    const NamedParams& named, const std::function<std::string(const std::string&, const Tensor&)>& classify) {
  std::vector<NamedParamGroup> groups;
  for (const auto& [name, param] : named) {
    const std::string group = classify(name, param);
    auto it = groups.begin();
    while (it != groups.end() && it->name != group) ++it;
    if (it == groups.end()) it = groups.insert(groups.end(), NamedParamGroup{group, {}, {}});
    it->names.push_back(name);
    it->params.push_back(param);
  }
  return groups;
}

std::pair<NamedParamGroup, NamedParamGroup> partition_params(
    const NamedParams& named, const std::function<bool(const std::string&, const Tensor&)>& pred,
    const std::string& yes, const std::string& no) {
  LOWBIT_CHECK(yes != no, "partition_params: the two groups need different names, both are '", yes, "'");
  std::pair<NamedParamGroup, NamedParamGroup> out{{yes, {}, {}}, {no, {}, {}}};
  for (const auto& [name, param] : named) {
    NamedParamGroup& g = pred(name, param) ? out.first : out.second;
    g.names.push_back(name);
    g.params.push_back(param);
  }
  return out;
}

WeightDecaySplit split_weight_decay(const NamedParams& named, const WeightDecayExclusions& exclude) {
  auto excluded = [&](const std::string& name, const Tensor& p) {
    if (exclude.biases && name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0) return true;
    if (exclude.one_dimensional && p.defined() && p.dim() <= 1) return true;
    for (const std::string& pattern : exclude.patterns)
      if (glob_match(pattern, name)) return true;
    return false;
  };
  auto [no_decay, decay] = partition_params(named, excluded, "no_decay", "decay");
  return {std::move(decay), std::move(no_decay)};
}

bool glob_match(const std::string& pattern, const std::string& text) {
  // Iterative matcher: on a mismatch, let the last '*' swallow one more character.
  size_t p = 0, t = 0, star = std::string::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace lowbit
