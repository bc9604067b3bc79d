// Float64 reference of DAQ: forward, eval and backward by plain double math (see the header).
#include "tests/reference/quant_daq.h"

#include <cmath>

namespace lowbit::ref {

namespace {

double sign_plus(double z) { return z >= 0.0 ? 1.0 : -1.0; }  // the official custom |z|'

struct Soft {
  double m[2], k[2], s[2], beta, p[2], yhat;
  int istar;
};

Soft soft(double f, double gamma, double sigma) {
  Soft r;
  for (int i = 0; i < 2; ++i) r.m[i] = std::exp(-std::abs(f - i));
  r.istar = r.m[1] > r.m[0] ? 1 : 0;  // argmax, first index on ties
  for (int i = 0; i < 2; ++i) {
    double d = i - r.istar;
    r.k[i] = std::exp(-d * d / (sigma * sigma));
    r.s[i] = r.m[i] * r.k[i];
  }
  r.beta = gamma / std::abs(r.s[0] - r.s[1]);
  double mx = std::max(r.s[0], r.s[1]) * r.beta;
  double e0 = std::exp(r.beta * r.s[0] - mx), e1 = std::exp(r.beta * r.s[1] - mx);
  r.p[0] = e0 / (e0 + e1);
  r.p[1] = e1 / (e0 + e1);
  double c = 1.0 / (std::exp(gamma) - 1.0);
  r.yhat = -c * r.p[0] + (1.0 + c) * r.p[1];
  return r;
}

}  // namespace

double daq_soft_frac_frozen(double f, double f0, double gamma, double sigma) {
  Soft r0 = soft(f0, gamma, sigma);
  double s[2], e[2];
  for (int i = 0; i < 2; ++i) s[i] = std::exp(-std::abs(f - i)) * r0.k[i];
  for (int i = 0; i < 2; ++i) e[i] = std::exp(r0.beta * s[i]);
  double c = 1.0 / (std::exp(gamma) - 1.0);
  return (-c * e[0] + (1.0 + c) * e[1]) / (e[0] + e[1]);
}

double daq_dyhat_df_chain(double f, double gamma, double sigma) {
  Soft r = soft(f, gamma, sigma);
  double c = 1.0 / (std::exp(gamma) - 1.0);
  double ds[2];
  for (int i = 0; i < 2; ++i) ds[i] = r.k[i] * r.m[i] * (-sign_plus(f - i));
  // ŷ = −c·p0 + (1+c)·p1; ∂p1/∂f = β·p0·p1·(ds1 − ds0), ∂p0/∂f = −∂p1/∂f.
  double dp1 = r.beta * r.p[0] * r.p[1] * (ds[1] - ds[0]);
  return (1.0 + 2.0 * c) * dp1;
}

double daq_dyhat_df_closed(double f, double gamma, double sigma) {
  double kf = std::exp(-1.0 / (sigma * sigma));
  double k0 = f <= 0.5 ? 1.0 : kf, k1 = f <= 0.5 ? kf : 1.0;
  double a = k0 * std::exp(-f), b = k1 * std::exp(f - 1.0);
  double eg = std::exp(gamma);
  return gamma * eg / (eg * eg - 1.0) * (a + b) / std::abs(a - b);
}

DaqRef daq(const std::vector<double>& x, const std::vector<double>& g, double l, double u, int bits, bool weight,
           double gamma, double sigma) {
  DaqRef r;
  size_t n = x.size();
  double B = std::pow(2.0, bits) - 1.0;
  if (weight) {
    double s = 0.0;
    for (double v : x) s += v;
    r.mean = s / n;
    double q = 0.0;
    for (double v : x) q += (v - r.mean) * (v - r.mean);
    r.std = std::sqrt(q / (n - 1));
  }
  double delta = (u - l) / B;
  for (size_t i = 0; i < n; ++i) {
    double xh = weight ? (x[i] - r.mean) / r.std : x[i];
    r.w_hat.push_back(xh);
    double t = (xh - l) / delta;
    r.t.push_back(t);
    bool inside = t >= 0.0 && t <= B;
    double tc = std::min(std::max(t, 0.0), B);
    double F = std::floor(tc), f = tc - F;
    Soft s = soft(f, gamma, sigma);
    double lev = F + s.yhat;
    r.y.push_back(weight ? (2.0 * lev - B) / B : lev / B);
    // eval: clip, then floor + round-half-even of the fraction
    double xc = std::min(std::max(xh, l), u);
    double te = (xc - l) / delta;
    double Fe = std::floor(te);
    double le = Fe + std::nearbyint(te - Fe);
    r.level.push_back(le);
    r.y_eval.push_back(weight ? (2.0 * le - B) / B : le / B);
    // backward
    double glev = g[i] * (weight ? 2.0 / B : 1.0 / B);
    double dyf = inside ? daq_dyhat_df_chain(f, gamma, sigma) : 0.0;
    if (inside)
      r.closed_form_max_abs_diff =
          std::max(r.closed_form_max_abs_diff, std::abs(glev) * std::abs(dyf - daq_dyhat_df_closed(f, gamma, sigma)));
    double gt = glev * dyf;
    double dxh = gt * B / (u - l);
    r.dx.push_back(weight ? dxh / r.std : dxh);
    double dl = gt * B * (xh - u) / ((u - l) * (u - l));
    double du = -gt * B * (xh - l) / ((u - l) * (u - l));
    r.dl_per_element.push_back(dl);
    r.du_per_element.push_back(du);
    r.dl += dl;
    r.du += du;
  }
  return r;
}

}  // namespace lowbit::ref
