// The AVX2 path of cpu::xnor_gemm (see xnor_gemm.h for the operands): a table-lookup kernel.
// popc(a XOR b) over one byte of a row pair is popc(a_lo ^ b_lo) + popc(a_hi ^ b_hi) over its two
// nibbles. For each byte value v of A a 32-byte table holds popc((v & 15) ^ j) in lane 0 and
// popc((v >> 4) ^ j) in lane 1 (j = 0..15), so one vpshufb of that table by a vector holding the
// low nibbles of one byte of 16 rows of B (lane 0) and their high nibbles (lane 1) counts 16 row
// pairs × 8 bit pairs; one vpaddb adds them to byte counters. That is 2 vector ops per 128 bit
// pairs, and no XOR, mask or shift in the inner loop.
// Layout: B is packed per thread into panels of 32 rows (zeros past N), one 64-byte entry per byte
// of K: [low nibbles of rows 0..15 | high nibbles of rows 0..15 | the same for rows 16..31], built
// with 16×16 byte transposes. A is read as bytes, each selecting its table (8 KiB, stays in L1).
// Register tile: 6 rows of A × 32 rows of B (12 byte-counter registers + 2 of B + table + product).
// Counter widths: a byte gains ≤ 4 per step, so 63 steps fit (63·4 ≤ 255) before the bytes are
// widened into 16-bit sums, which take 256 such runs (256·252 ≤ 65535) before 32-bit totals.
// Threads take groups of panels (~256 KiB packed, so a tile of A rows meets all of them while in
// L1 and A streams once per group) from a shared counter, each packing its own; with fewer than
// 4 panels per thread they split the rows of A instead (each thread then packs every panel).
// Napkin math (M = N = K = 4096): 4096·4096·512 bytes of K / 16 row pairs = 537 M (vpshufb + vpaddb)
// pairs. Zen 5 sustains ~3.4 of these vector ops per cycle (2 shuffles), i.e. ~7 cycles per step of
// the 6×32 tile (12 pairs): ~44 ms at 3.76 GHz on 2 cores; measured ~50 ms of CPU time per core
// (the byte-counter widening every 63 steps costs ~8%). Packing B writes 8 MiB.
#pragma once

#include <cstdint>

namespace lowbit::cpu::detail {

// C[M,N] = k_bits − 2·popc(A_m XOR B_n) over kw words per row; threads >= 1 (the caller's choice).
// Only for CPUs with AVX2 (the caller checks).
void xnor_gemm_avx2(int64_t M, int64_t N, int64_t kw, int64_t k_bits, const uint32_t* A, int64_t lda,
                    const uint32_t* B, int64_t ldb, int32_t* C, int64_t ldc, int threads);

}  // namespace lowbit::cpu::detail
