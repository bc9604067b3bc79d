// QuantConfig helpers.
#include "quant/quantizer.h"

#include <sstream>

namespace lowbit {

const char* quant_target_name(QuantTarget t) { return t == QuantTarget::weight ? "weight" : "activation"; }

double QuantConfig::option(const std::string& key, double fallback) const {
  auto it = options.find(key);
  return it == options.end() ? fallback : it->second;
}

std::string QuantConfig::str() const {
  std::ostringstream os;
  os << method << " " << (target == QuantTarget::weight ? "w" : "a") << bits << options_str(options);
  return os.str();
}

std::string options_str(const std::map<std::string, double>& options) {
  if (options.empty()) return "";
  std::ostringstream os;
  os << " {";
  bool first = true;
  for (const auto& [k, v] : options) {
    os << (first ? "" : ", ") << k << "=" << v;
    first = false;
  }
  os << "}";
  return os.str();
}

}  // namespace lowbit
