#ifndef VOSS_CVOSSCRC_H
#define VOSS_CVOSSCRC_H

#include <stddef.h>
#include <stdint.h>

/// Carry-less-multiply folding for reflected CRCs of up to 64 bits (CRC-32, CRC-32C, CRC-64/NVME),
/// the method of Intel's "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ".
///
/// Reads `p[0 ..< n]` in 16-byte blocks, with the running register `crc` XORed into its first bytes
/// (as a table-driven CRC does), and folds it into 16 bytes that are congruent to it: the caller
/// finishes with a table-driven update from register 0 over `state` and then over `p[consumed ..< n]`.
/// `k` holds x^n mod P for n = 4·128+63, 4·128-1, 128+63, 128-1, each bit-reflected into 64 bits.
/// Returns the bytes consumed: 0 (nothing written) when `n` < 64 or the CPU has no PCLMULQDQ.
size_t voss_crc_fold(uint64_t crc, const uint8_t *p, size_t n, const uint64_t k[4], uint8_t state[16]);

#endif
