// Float32 elementary functions written so that g++ vectorises loops over them without -ffast-math:
// branch-free (selects only), no calls, no errno. std::exp/tanh/log in a loop stay scalar libm calls.
// Accuracy (checked by tests/grammar/test_program.cpp against double precision): relative error
// below ~2e-7 for exp/log/sigmoid/tanh/expm1 and ~1e-6 for erf/erfc (~5e-6 where erfc < 1e-30).
// NaN propagates through every function; overflow gives ±inf exactly where the float result overflows.
#pragma once

#include <bit>
#include <cstdint>
#include <limits>

namespace actsearch::detail {

inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr float kQNaN = std::numeric_limits<float>::quiet_NaN();

// 2^n for n in [-126, 127], built from the exponent bits.
inline float pow2i(std::int32_t n) noexcept { return std::bit_cast<float>((n + 127) << 23); }

// exp: n = round(x / ln2), r = x - n ln2 in two parts (Cody-Waite), degree-6 polynomial (Cephes expf),
// and the result scaled by 2^n as two factors so that both overflow to inf and gradual underflow to
// denormals come out of the final multiplications with no special cases.
inline float exp_f(float x) noexcept {
    float xc = x < -104.0f ? -104.0f : x;  // NaN compares false and passes through to r
    xc = xc > 89.0f ? 89.0f : xc;
    constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer in the low bits
    const float shifted = xc * 1.44269504088896341f + kRound;
    const std::int32_t n = std::bit_cast<std::int32_t>(shifted) - std::bit_cast<std::int32_t>(kRound);
    const float nf = shifted - kRound;
    float r = xc - nf * 0.693359375f;
    r = r - nf * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const std::int32_t half = n >> 1;  // n in [-150, 129]: both factors stay normal numbers
    return p * pow2i(half) * pow2i(n - half);
}

// exp(x) - 1 without cancellation near 0: Taylor series to x^9 for |x| < 0.5 (error < 3e-9 relative).
inline float expm1_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    float p = 1.0f / 362880.0f;
    p = p * x + 1.0f / 40320.0f;
    p = p * x + 1.0f / 5040.0f;
    p = p * x + 1.0f / 720.0f;
    p = p * x + 1.0f / 120.0f;
    p = p * x + 1.0f / 24.0f;
    p = p * x + 1.0f / 6.0f;
    p = p * x + 0.5f;
    const float small = (p * x) * x + x;
    const float large = exp_f(x) - 1.0f;
    return ax < 0.5f ? small : large;  // NaN: comparison false, `large` is NaN
}

// Natural log (Cephes logf): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(1+f) by a polynomial.
// x < 0 and NaN give NaN, 0 gives -inf, +inf gives +inf; denormals are rescaled first.
inline float log_f(float x) noexcept {
    const bool denormal = x < 1.17549435e-38f;
    const float xs = denormal ? x * 8388608.0f : x;  // 2^23
    const std::int32_t bits = std::bit_cast<std::int32_t>(xs);
    std::int32_t e = ((bits >> 23) & 0xff) - 127 - (denormal ? 23 : 0);
    float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
    const bool high = m > 1.41421356f;
    m = high ? m * 0.5f : m;
    e = high ? e + 1 : e;
    const float f = m - 1.0f;
    const float z = f * f;
    float p = 7.0376836292e-2f;
    p = p * f - 1.1514610310e-1f;
    p = p * f + 1.1676998740e-1f;
    p = p * f - 1.2420140846e-1f;
    p = p * f + 1.4249322787e-1f;
    p = p * f - 1.6668057665e-1f;
    p = p * f + 2.0000714765e-1f;
    p = p * f - 2.4999993993e-1f;
    p = p * f + 3.3333331174e-1f;
    const float ef = static_cast<float>(e);
    float y = p * f * z;
    y = y + ef * -2.12194440e-4f;
    y = y - 0.5f * z;
    float result = f + y;
    result = result + ef * 0.693359375f;
    result = x == kInf ? kInf : result;
    result = x == 0.0f ? -kInf : result;
    result = x < 0.0f ? kQNaN : result;
    return x != x ? x : result;
}

// log(1 + y) for y >= 0 (the softplus tail): log(u) * y / (u - 1) with u = 1 + y cancels the rounding
// of u (Goldberg's trick); exact y where u rounds to 1.
inline float log1p_nonneg_f(float y) noexcept {
    const float u = 1.0f + y;
    const float d = u - 1.0f;
    const float corrected = log_f(u) * (y / (d == 0.0f ? 1.0f : d));
    const float result = d == 0.0f ? y : corrected;
    return u == kInf ? log_f(y) : result;
}

inline float sigmoid_f(float x) noexcept { return 1.0f / (1.0f + exp_f(-x)); }

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): never overflows.
inline float softplus_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float pos = x > 0.0f ? x : 0.0f;
    const float result = pos + log1p_nonneg_f(exp_f(-ax));
    return x != x ? x : result;
}

// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)).
inline float log_sigmoid_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float neg = x < 0.0f ? x : 0.0f;
    const float result = neg - log1p_nonneg_f(exp_f(-ax));
    return x != x ? x : result;
}

// tanh: odd polynomial (Cephes tanhf) for |x| < 0.625 where 1 - 2/(e^2x + 1) would cancel, else that.
inline float tanh_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float z = x * x;
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    const float small = p * z * x + x;
    const float large_abs = 1.0f - 2.0f / (exp_f(2.0f * ax) + 1.0f);
    const float large = x < 0.0f ? -large_abs : large_abs;
    return ax < 0.625f ? small : large;  // NaN: `large` is NaN
}

// erfc for x >= 0 with fractional error < 1.2e-7 (Numerical Recipes' Chebyshev fit in t = 1/(1+x/2)).
inline float erfc_nonneg_f(float ax) noexcept {
    const float t = 1.0f / (1.0f + 0.5f * ax);
    float p = 0.17087277f;
    p = p * t - 0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t - 1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t - 0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t - 1.26551223f;
    return t * exp_f(p - ax * ax);
}

// erf(x)/x by its Taylor series to x^12, for |x| < 0.5 (truncation error < 1e-9 relative).
inline float erf_small_over_x(float z /* x^2 */) noexcept {
    constexpr float k = 1.12837916709551257f;  // 2 / sqrt(pi)
    float p = k / (720.0f * 13.0f);
    p = p * z - k / (120.0f * 11.0f);
    p = p * z + k / (24.0f * 9.0f);
    p = p * z - k / (6.0f * 7.0f);
    p = p * z + k / (2.0f * 5.0f);
    p = p * z - k / 3.0f;
    p = p * z + k;
    return p;
}

inline float erf_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float small = x * erf_small_over_x(x * x);
    const float large_abs = 1.0f - erfc_nonneg_f(ax);
    const float large = x < 0.0f ? -large_abs : large_abs;
    return ax < 0.5f ? small : large;
}

inline float erfc_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float tail = erfc_nonneg_f(ax);
    const float small = 1.0f - x * erf_small_over_x(x * x);
    const float large = x < 0.0f ? 2.0f - tail : tail;
    return ax < 0.5f ? small : large;
}

}  // namespace actsearch::detail
