// The quantizer registry: every registered method builds at a width it defines, refuses one it
// does not, and unknown names / 32 bits are refused with messages that say what is accepted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "quant/quantizer.h"

namespace lowbit {
namespace {

using ::testing::HasSubstr;

std::string error_of(const QuantConfig& c) {
  try {
    make_quantizer(c);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error for " << c.str();
  return "";
}

TEST(QuantRegistry, EveryMethodBuildsAtOneBitOrTwo) {
  for (const std::string& name : quantizer_names()) {
    for (QuantTarget target : {QuantTarget::weight, QuantTarget::activation}) {
      std::shared_ptr<Quantizer> q;
      for (int bits : {2, 1, 3}) {  // the first width the method defines for this target
        try {
          q = make_quantizer({name, bits, target, {}});
          break;
        } catch (const Error&) {
        }
      }
      ASSERT_NE(q, nullptr) << name << " builds at none of 1, 2, 3 bits for " << quant_target_name(target);
      EXPECT_EQ(q->config().method, name);
      EXPECT_EQ(q->target(), target);
    }
  }
}

TEST(QuantRegistry, RefusesUnknownMethodListingKnownOnes) {
  std::string msg = error_of({"nosuch", 2, QuantTarget::weight, {}});
  EXPECT_THAT(msg, HasSubstr("unknown quantization method 'nosuch'"));
  for (const std::string& name : quantizer_names()) EXPECT_THAT(msg, HasSubstr(name));
}

TEST(QuantRegistry, RefusesFullPrecisionAndUndefinedWidths) {
  EXPECT_THAT(error_of({"ste", 32, QuantTarget::weight, {}}), HasSubstr("not quantized"));
  EXPECT_THAT(error_of({"bnn", 2, QuantTarget::weight, {}}), HasSubstr("bnn"));
}

}  // namespace
}  // namespace lowbit
