// Float32 elementary functions written so that g++ vectorises loops over them without -ffast-math:
// branch-free (selects only), no calls, no errno. std::exp/tanh/log in a loop stay scalar libm calls.
// Accuracy (checked by tests/grammar/test_program.cpp against double precision): relative error
// below ~2e-7 for exp/log/sigmoid/tanh/expm1 and ~1e-6 for erf/erfc (~5e-6 where erfc < 1e-30).
// sin, cos, sinh, cosh, asinh, atan: maximum errors measured over a dense grid against long double by
// tests/grammar/test_numerics.cpp (which fails when they are exceeded) and listed in grammar/NUMERICS.md.
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

// c ? a : b by bit masks. g++ turns a plain select whose one arm is otherwise unused into a branch
// that computes that arm only when needed, and then cannot vectorise the loop (a floating-point
// operation that might trap is never if-converted back): blending keeps both arms live.
inline float blend(bool c, float a, float b) noexcept {
    const std::int32_t keep = -static_cast<std::int32_t>(c);
    return std::bit_cast<float>((std::bit_cast<std::int32_t>(a) & keep) | (std::bit_cast<std::int32_t>(b) & ~keep));
}

inline double blend(bool c, double a, double b) noexcept {
    const std::int64_t keep = -static_cast<std::int64_t>(c);
    return std::bit_cast<double>((std::bit_cast<std::int64_t>(a) & keep) | (std::bit_cast<std::int64_t>(b) & ~keep));
}

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
    // Every arm of a select is computed first: g++ does not if-convert a floating-point operation that
    // could trap, so a conditional multiplication would keep the loop scalar.
    const bool denormal = x < 1.17549435e-38f;
    const float scaled = x * 8388608.0f;  // 2^23
    const float xs = denormal ? scaled : x;
    const std::int32_t bits = std::bit_cast<std::int32_t>(xs);
    std::int32_t e = ((bits >> 23) & 0xff) - 127 - (denormal ? 23 : 0);
    float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
    const bool high = m > 1.41421356f;
    const float half = m * 0.5f;
    m = high ? half : m;
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
    // Integer tests of x's bits (they cannot trap), one blend at the end.
    const std::int32_t xbits = std::bit_cast<std::int32_t>(x);
    const bool zero = (xbits & 0x7fffffff) == 0;
    const float special = zero ? -kInf : (xbits < 0 ? kQNaN : x);  // +inf and NaN: x itself
    const bool regular = xbits > 0 && xbits < 0x7f800000;          // positive and finite
    return blend(regular, result, special);
}

// log(1 + y) for y >= 0 (the softplus tail): log(u) * y / (u - 1) with u = 1 + y cancels the rounding
// of u (Goldberg's trick); exact y where u rounds to 1.
inline float log1p_nonneg_f(float y) noexcept {
    const float u = 1.0f + y;
    const float d = u - 1.0f;
    const float corrected = log_f(u) * (y / blend(d == 0.0f, 1.0f, d));
    const float result = blend(d == 0.0f, y, corrected);
    return blend(u == kInf, log_f(y), result);
}

inline float sigmoid_f(float x) noexcept { return 1.0f / (1.0f + exp_f(-x)); }

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): never overflows.
inline float softplus_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float pos = x > 0.0f ? x : 0.0f;
    const float result = pos + log1p_nonneg_f(exp_f(-ax));
    return blend(x != x, x, result);
}

// log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|)).
inline float log_sigmoid_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float neg = x < 0.0f ? x : 0.0f;
    const float result = neg - log1p_nonneg_f(exp_f(-ax));
    return blend(x != x, x, result);
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

// sin and cos share one reduction: n = round(x * 2/pi), r = x - n pi/2 in double (pi/2 in two parts,
// the first with 33 bits, so n * part exactly while |n| < 2^20 and to 2^-53 |x| beyond: accurate for
// every float below 2^50), then FreeBSD's float kernels (k_sinf.c, k_cosf.c: errors below 2^-37 and
// 2^-34 on |r| <= pi/4) in double, and the quadrant selects sin r, cos r, -sin r or -cos r. Beyond
// |x| = 2^50 (a diverged network) and for inf/NaN the result is NaN.
inline float sin_cos_f(float x, int quadrant_offset) noexcept {
    const double xd = x;
    const double ad = __builtin_fabs(xd);
    const double xr = blend(ad < 1.125899906842624e15, xd, 0.0);  // 2^50; NaN compares false
    constexpr double kRound = 6755399441055744.0;              // 1.5 * 2^52
    const double shifted = xr * 0.63661977236758134308 + kRound;
    const double n = shifted - kRound;
    const auto q = static_cast<std::int32_t>(std::bit_cast<std::int64_t>(shifted) & 3) + quadrant_offset;
    double r = xr - n * 1.57079632673412561417e+00;
    r = r - n * 6.07710050650619224932e-11;
    const double z = r * r;
    const double w = z * z;
    const double s = z * r;
    const double sin_r = (r + s * (-0.166666666416265235595 + z * 0.0083333293858894631756)) +
                         s * w * (-0.000198393348360966317347 + z * 0.0000027183114939898219064);
    const double cos_r = ((1.0 + z * -0.499999997251031003120) + w * 0.0416666233237390631894) +
                         (w * z) * (-0.00138867637746099294692 + z * 0.0000243904487962774090654);
    const float sin_f32 = static_cast<float>(sin_r);  // every arm computed before the selects
    const float cos_f32 = static_cast<float>(cos_r);
    const float first = blend((q & 1) == 0, sin_f32, cos_f32);
    const float value = blend((q & 2) == 0, first, -first);
    const bool defined = ad < 1.125899906842624e15;  // false for inf and NaN too
    return blend(defined, value, kQNaN);
}
inline float sin_f(float x) noexcept { return sin_cos_f(x, 0); }
inline float cos_f(float x) noexcept { return sin_cos_f(x, 1); }

// sinh: (E + E / (E + 1)) / 2 with E = expm1(|x|) below 1 (no cancellation), else e^|x|/2 - e^-|x|/2
// with e^|x|/2 as (h/2) h, h = e^(|x|/2), so that it overflows only where sinh does.
inline float sinh_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float e = expm1_f(ax);
    const float small = 0.5f * (e + e / (e + 1.0f));
    const float h = exp_f(0.5f * ax);
    const float large = (0.5f * h) * h - (0.5f / h) / h;
    const float result = blend(ax < 1.0f, small, large);  // NaN: `large` is NaN
    return blend(x < 0.0f, -result, result);
}

inline float cosh_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float h = exp_f(0.5f * ax);
    return (0.5f * h) * h + (0.5f / h) / h;
}

// sqrt(w) for w in [1, 2^41): the exponent-halving guess (error < 4%), then three Newton steps
// (4e-2 -> 8e-4 -> 3e-7 -> 1e-13, plus rounding). std::sqrt would keep the loop scalar (errno).
inline float sqrt_ge1_f(float w) noexcept {
    float y = std::bit_cast<float>((std::bit_cast<std::int32_t>(w) >> 1) + 0x1fbd1df5);
    y = 0.5f * (y + w / y);
    y = 0.5f * (y + w / y);
    return 0.5f * (y + w / y);
}

// asinh(|x|) = log1p(|x| + x^2 / (1 + sqrt(1 + x^2))) (no cancellation near 0); log(2|x|) above 2^20,
// where x^2 would lose the 1 (and overflow further out).
inline float asinh_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const float axc = ax < 1048576.0f ? ax : 1.0f;
    const float z = axc * axc;
    const float moderate = log1p_nonneg_f(axc + z / (1.0f + sqrt_ge1_f(1.0f + z)));
    const float large = log_f(ax) + 0.693147180559945309f;
    const float result = blend(ax < 1048576.0f, moderate, large);  // NaN: `large` is NaN
    return blend(x < 0.0f, -result, result);
}

// atan (Cephes atanf): |x| reduced to [0, tan(pi/8)] by atan(x) = pi/2 - atan(1/x) above tan(3pi/8)
// and pi/4 + atan((x - 1)/(x + 1)) above tan(pi/8); odd polynomial there.
inline float atan_f(float x) noexcept {
    const float ax = x < 0.0f ? -x : x;
    const bool high = ax > 2.414213562373095f;
    const bool mid = !high & (ax > 0.4142135623730950f);
    const float safe = blend(ax == 0.0f, 1.0f, ax);
    const float inverse = -1.0f / safe;  // every arm computed before the selects
    const float shifted = (ax - 1.0f) / (ax + 1.0f);
    const float t = blend(high, inverse, blend(mid, shifted, ax));
    const float base = blend(high, 1.570796326794896619f, blend(mid, 0.7853981633974483096f, 0.0f));
    const float z = t * t;
    float p = 8.05374449538e-2f;
    p = p * z - 1.38776856032e-1f;
    p = p * z + 1.99777106478e-1f;
    p = p * z - 3.33329491539e-1f;
    const float result = base + (p * z * t + t);
    return blend(x < 0.0f, -result, result);  // NaN: every select passes it through to `t`
}

}  // namespace actsearch::detail
