// DAQ quantizer CPU loops. Napkin math: stats 4 B/elem read; forward 8 B/elem (+4 for the stats
// pass on weights); backward 12 B/elem (x, g read, dx written), ~3 exp per element.
#include "kernels/cpu/quant_daq.h"

namespace lowbit::cpu {

void daq_weight_stats(const float* w, int64_t n, float* stats) {
  double shift = w[0], s1 = 0.0, s2 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double d = static_cast<double>(w[i]) - shift;
    s1 += d;
    s2 += d * d;
  }
  daq_finish_stats(static_cast<double>(n), shift, s1, s2, &stats[0], &stats[1]);
}

void daq_forward(const float* x, float* y, int64_t n, float l, float u, const float* stats, const DaqConsts& k,
                 bool eval) {
  float mean = stats ? stats[0] : 0.f, std = stats ? stats[1] : 1.f;
  float delta = (u - l) / k.B;
  for (int64_t i = 0; i < n; ++i) {
    float xh = stats ? daq_standardize(x[i], mean, std) : x[i];
    float level = eval ? daq_eval_level(xh, l, u, delta) : daq_train_level(daq_t(xh, l, delta), k.B);
    y[i] = daq_output(level, k);
  }
}

void daq_backward(const float* x, const float* g, float* dx, int64_t n, float l, float u, const float* stats,
                  const DaqConsts& k, double* dl, double* du) {
  float mean = stats ? stats[0] : 0.f, std = stats ? stats[1] : 1.f;
  double sl = 0.0, su = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    float xh = stats ? daq_standardize(x[i], mean, std) : x[i];
    DaqGrad d = daq_backward_elem(xh, g[i], l, u, k);
    dx[i] = stats ? d.dxh / std : d.dxh;
    sl += d.dl;
    su += d.du;
  }
  *dl = sl;
  *du = su;
}

}  // namespace lowbit::cpu
