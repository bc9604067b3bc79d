// Philox4x32-10 counter-based random numbers (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC'11; bit-compatible with Random123), plus the element-wise draws built on it.
// Header-only and LOWBIT_HD throughout, so the CPU loops and the CUDA kernels call the same code.
//
// Stream convention. A draw is identified by (seed, stream): seed is the generator's 64-bit seed,
// stream is a 64-bit "offset" the generator advances once per tensor draw. Element i of a draw
// uses lane i % 4 of the block b = i / 4:
//     philox4x32_10(ctr = {lo(b), hi(b), lo(stream), hi(stream)}, key = {lo(seed), hi(seed)})
// normal() uses lane pairs of the same block: lanes (0,1) give elements 4b+0 (cos) and 4b+1 (sin),
// lanes (2,3) give elements 4b+2 (cos) and 4b+3 (sin), by Box-Muller.
//
// Every draw is a pure function of (seed, stream, i), so any partition of the elements over
// threads gives the same tensor. bits/uniform/randint/bernoulli are bit-identical on CPU and CUDA;
// normal() goes through logf/sqrtf/cosf/sinf, which CUDA matches libm only to within a few ulps.
#pragma once

#include <cmath>
#include <cstdint>

#include "core/hd.h"

namespace lowbit::philox {

struct U4 {
  uint32_t x[4];
};

// One Philox round: two 32x32->64 multiplies, their halves mixed with the other words and the key.
LOWBIT_HD U4 philox_round(U4 c, uint32_t k0, uint32_t k1) {
  const uint64_t p0 = uint64_t{0xD2511F53u} * c.x[0];
  const uint64_t p1 = uint64_t{0xCD9E8D57u} * c.x[2];
  const uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
  const uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
  U4 r;
  r.x[0] = hi1 ^ c.x[1] ^ k0;
  r.x[1] = lo1;
  r.x[2] = hi0 ^ c.x[3] ^ k1;
  r.x[3] = lo0;
  return r;
}

// Philox4x32 with 10 rounds; the key is bumped by the Weyl constants between rounds.
LOWBIT_HD U4 philox4x32_10(U4 ctr, uint32_t key0, uint32_t key1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += 0x9E3779B9u;
      key1 += 0xBB67AE85u;
    }
    ctr = philox_round(ctr, key0, key1);
  }
  return ctr;
}

// The block of four words holding elements 4b..4b+3 of draw (seed, stream).
LOWBIT_HD U4 block(uint64_t seed, uint64_t stream, uint64_t b) {
  U4 ctr{{uint32_t(b), uint32_t(b >> 32), uint32_t(stream), uint32_t(stream >> 32)}};
  return philox4x32_10(ctr, uint32_t(seed), uint32_t(seed >> 32));
}

// The raw 32-bit word of element i.
LOWBIT_HD uint32_t bits(uint64_t seed, uint64_t stream, uint64_t i) {
  return block(seed, stream, i / 4).x[i % 4];
}

// Top 24 bits scaled by 2^-24: exactly representable in float, in [0, 1), never 1.0.
LOWBIT_HD float to_uniform(uint32_t u) { return float(u >> 8) * (1.0f / 16777216.0f); }

LOWBIT_HD float uniform(uint64_t seed, uint64_t stream, uint64_t i) {
  return to_uniform(bits(seed, stream, i));
}

// Standard normal by Box-Muller on the lane pair (2*(i%4/2), +1) of block i/4; even elements take
// the cosine, odd the sine. u1 is in (0, 1] so the log is finite and |x| <= sqrt(-2 ln 2^-24) < 6.
// normal() of element 4b + k given its block w = block(seed, stream, b) (kernels that compute one
// block per thread use this directly).
LOWBIT_HD float normal_from_block(const U4& w, unsigned k) {
  const unsigned lane = k & ~1u;
  const float u1 = float((w.x[lane] >> 8) + 1u) * (1.0f / 16777216.0f);
  const float u2 = to_uniform(w.x[lane + 1]);
  const float r = ::sqrtf(-2.0f * ::logf(u1));
  const float theta = 6.28318530717958647692f * u2;
  return (k % 2 == 0) ? r * ::cosf(theta) : r * ::sinf(theta);
}

LOWBIT_HD float normal(uint64_t seed, uint64_t stream, uint64_t i) {
  return normal_from_block(block(seed, stream, i / 4), unsigned(i % 4));
}

// Integer in [low, high) by multiply-shift of the 32-bit word. Requires 0 < high - low <= 2^32
// (the caller checks); the bias is at most (high - low) / 2^32 per value.
LOWBIT_HD int64_t randint_from_bits(uint32_t u, int64_t low, int64_t high) {
  const uint64_t range = uint64_t(high - low);
  return low + int64_t((uint64_t(u) * range) >> 32);
}
LOWBIT_HD int64_t randint(uint64_t seed, uint64_t stream, uint64_t i, int64_t low, int64_t high) {
  return randint_from_bits(bits(seed, stream, i), low, high);
}

// True with probability p (p <= 0: never, p >= 1: always).
LOWBIT_HD bool bernoulli(uint64_t seed, uint64_t stream, uint64_t i, float p) {
  return uniform(seed, stream, i) < p;
}

}  // namespace lowbit::philox
