#include "cvosscrc.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("pclmul,sse2"))) static inline __m128i fold(__m128i s, __m128i k, __m128i d) {
    // s = H (low qword: the higher-degree coefficients) and L; k = (K for H, K for L).
    __m128i h = _mm_clmulepi64_si128(s, k, 0x00);
    __m128i l = _mm_clmulepi64_si128(s, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(h, l), d);
}

__attribute__((target("pclmul,sse2"))) static size_t fold_pclmul(
    uint64_t crc, const uint8_t *p, size_t n, const uint64_t k[4], uint8_t state[16]) {
    const __m128i k4 = _mm_set_epi64x((long long)k[1], (long long)k[0]);
    const __m128i k1 = _mm_set_epi64x((long long)k[3], (long long)k[2]);
    __m128i a = _mm_loadu_si128((const __m128i *)p);
    __m128i b = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i c = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i d = _mm_loadu_si128((const __m128i *)(p + 48));
    a = _mm_xor_si128(a, _mm_set_epi64x(0, (long long)crc));
    size_t i = 64;
    // Four lanes, each moved 64 bytes ahead per step.
    while (n - i >= 64) {
        a = fold(a, k4, _mm_loadu_si128((const __m128i *)(p + i)));
        b = fold(b, k4, _mm_loadu_si128((const __m128i *)(p + i + 16)));
        c = fold(c, k4, _mm_loadu_si128((const __m128i *)(p + i + 32)));
        d = fold(d, k4, _mm_loadu_si128((const __m128i *)(p + i + 48)));
        i += 64;
    }
    // The lanes into one, then single blocks.
    a = fold(a, k1, b);
    a = fold(a, k1, c);
    a = fold(a, k1, d);
    while (n - i >= 16) {
        a = fold(a, k1, _mm_loadu_si128((const __m128i *)(p + i)));
        i += 16;
    }
    _mm_storeu_si128((__m128i *)state, a);
    return i;
}

size_t voss_crc_fold(uint64_t crc, const uint8_t *p, size_t n, const uint64_t k[4], uint8_t state[16]) {
    if (n < 64 || !__builtin_cpu_supports("pclmul")) return 0;
    return fold_pclmul(crc, p, n, k, state);
}

#else

size_t voss_crc_fold(uint64_t crc, const uint8_t *p, size_t n, const uint64_t k[4], uint8_t state[16]) {
    (void)crc; (void)p; (void)n; (void)k; (void)state;
    return 0;
}

#endif
