// The quantizer registry: method name -> maker. Each maker checks the widths its method defines.
#include <functional>
#include <utility>

#include "core/error.h"
#include "quant/aqe.h"
#include "quant/bnn.h"
#include "quant/daq.h"
#include "quant/dorefa.h"
#include "quant/ewgs.h"
#include "quant/lsq.h"
#include "quant/pact.h"
#include "quant/quantizer.h"
#include "quant/sat.h"
#include "quant/ste.h"
#include "quant/xnor.h"

namespace lowbit {

namespace {

using Maker = std::shared_ptr<Quantizer> (*)(const QuantConfig&);

const std::vector<std::pair<std::string, Maker>>& registry() {
  static const std::vector<std::pair<std::string, Maker>> table = {
      {"ste", make_ste_quantizer},   {"bnn", make_bnn_quantizer},       {"xnor", make_xnor_quantizer},
      {"dorefa", make_dorefa_quantizer}, {"pact", make_pact_quantizer}, {"sat", make_sat_quantizer},
      {"aqe", make_aqe_quantizer}, {"ewgs", make_ewgs_quantizer}, {"lsq", make_lsq_quantizer},
      {"daq", make_daq_quantizer},
  };
  return table;
}

}  // namespace

std::vector<std::string> quantizer_names() {
  std::vector<std::string> names;
  for (const auto& [name, maker] : registry()) names.push_back(name);
  return names;
}

std::shared_ptr<Quantizer> make_quantizer(const QuantConfig& config) {
  LOWBIT_CHECK(config.bits != kFullPrecisionBits, "make_quantizer(", config.method,
               "): 32 bits means not quantized; the layer keeps the float tensor and makes no quantizer");
  for (const auto& [name, maker] : registry())
    if (name == config.method) return maker(config);
  std::string known;
  for (const auto& [name, maker] : registry()) known += (known.empty() ? "" : ", ") + name;
  LOWBIT_FAIL("unknown quantization method '", config.method, "' (known: ", known, ")");
}

}  // namespace lowbit
