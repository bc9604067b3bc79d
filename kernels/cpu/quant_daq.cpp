// DAQ quantizer CPU loops. Napkin math: stats 4 B/elem read; forward 8 B/elem (+4 for the stats
// pass on weights); backward 12 B/elem (x, g read, dx written), ~3 exp per element.
// Threads, vectorization and the reproducible sums: kernels/cpu/quant_loop.h.
#include "kernels/cpu/quant_daq.h"

#include "kernels/cpu/quant_loop.h"

namespace lowbit::cpu {

void daq_weight_stats(const float* w, int64_t n, float* stats) {
  const double shift = w[0];
  const auto s = qloop::reduce<1, 2>(
      n, qloop::kCheap, [=](int64_t i) { return std::array<float, 1>{w[i]}; },
      [=](const std::array<float, 1>& t, std::array<double, 2>& acc) {
        const double d = static_cast<double>(t[0]) - shift;
        acc[0] += d;
        acc[1] += d * d;
      });
  daq_finish_stats(static_cast<double>(n), shift, s[0], s[1], &stats[0], &stats[1]);
}

void daq_forward(const float* x, float* y, int64_t n, float l, float u, const float* stats, const DaqConsts& k,
                 bool eval) {
  const bool standardize = stats != nullptr;
  const float mean = standardize ? stats[0] : 0.f, std = standardize ? stats[1] : 1.f;
  const float delta = (u - l) / k.B;
  const DaqConsts kc = k;
  qloop::for_each(n, qloop::kCheap, [=](int64_t i) {
    const float xh = standardize ? daq_standardize(x[i], mean, std) : x[i];
    const float level = eval ? daq_eval_level(xh, l, u, delta) : daq_train_level(daq_t(xh, l, delta), kc.B);
    y[i] = daq_output(level, kc);
  });
}

void daq_backward(const float* x, const float* g, float* dx, int64_t n, float l, float u, const float* stats,
                  const DaqConsts& k, double* dl, double* du) {
  const bool standardize = stats != nullptr;
  const float mean = standardize ? stats[0] : 0.f, std = standardize ? stats[1] : 1.f;
  const DaqConsts kc = k;
  const auto s = qloop::sum<2>(n, qloop::kTranscendental, [=](int64_t i) {
    const float xh = standardize ? daq_standardize(x[i], mean, std) : x[i];
    const DaqGrad d = daq_backward_elem(xh, g[i], l, u, kc);
    dx[i] = standardize ? d.dxh / std : d.dxh;
    return std::array<float, 2>{d.dl, d.du};
  });
  *dl = s[0];
  *du = s[1];
}

}  // namespace lowbit::cpu
