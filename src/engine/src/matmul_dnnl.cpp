// The dense layers' matrix products on oneDNN's matmul (matmul.hpp).
//
// oneDNN's matmul (brgemm kernels on AVX-512) runs the MLP's shapes at ~100 GFLOP/s on one core where
// Eigen 3.4 ran them at 56-84 (2026-12-03, Zen 5; scripts/bench_engine.sh has the per-layer figures).
//
// Determinism, as for the convolutions (conv_dnnl.cpp):
//   * threads: a primitive is created and run with the calling thread's OpenMP thread count set to 1,
//     so its work decomposition, and its reduction order, never depend on the caller's settings. The
//     layers split big products into blocks of fixed size themselves (layers.cpp), and run the blocks
//     on several threads: each block's bits are the same whichever thread computes it.
//   * placement: every primitive reads its operands with unaligned loads and blocks by shape only, so
//     the bits do not depend on where the buffers are (Layers.DenseBitsDoNotDependOnWhereTheBuffersAre
//     checks this on the machine the tests run on).
//   * primitives are cached per thread and per shape; each has its own scratchpad (user mode): nothing
//     is shared between threads.
#include "matmul.hpp"

#include <map>
#include <tuple>
#include <unordered_map>

#include <oneapi/dnnl/dnnl.hpp>

#include "dnnl_context.hpp"

namespace actsearch::engine::matmul {
namespace {

using dnnl::memory;
using dt = memory::data_type;

using dnnl_context::cpu_engine;
using dnnl_context::OneThread;

memory::desc matrix(int rows, int cols, int ld, bool transposed) {
    // Element (i, j) of the operand is data[i * ld + j], or data[j * ld + i] when stored transposed.
    return memory::desc({rows, cols}, dt::f32, transposed ? memory::dims{1, ld} : memory::dims{ld, 1});
}

using Key = std::tuple<int, int, int, int, bool, int, bool, int, bool, bool>;

struct Plan {
    dnnl::matmul primitive;
    memory a, b, c, bias, scratch;
};

Plan make_plan(int m, int n, int k, const Operand& a, const Operand& b, int ldc, bool bias, bool accumulate) {
    const memory::desc a_md = matrix(m, k, a.ld, a.transposed), b_md = matrix(k, n, b.ld, b.transposed),
                       c_md = matrix(m, n, ldc, false), bias_md({1, n}, dt::f32, memory::dims{n, 1});
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    if (accumulate) {
        dnnl::post_ops ops;
        ops.append_sum(1.0f);
        attr.set_post_ops(ops);
    }
    const dnnl::matmul::primitive_desc pd(
        bias ? dnnl::matmul::desc(a_md, b_md, bias_md, c_md) : dnnl::matmul::desc(a_md, b_md, c_md), attr,
        cpu_engine());
    Plan p;
    p.primitive = dnnl::matmul(pd);
    p.a = memory(a_md, cpu_engine(), DNNL_MEMORY_NONE);
    p.b = memory(b_md, cpu_engine(), DNNL_MEMORY_NONE);
    p.c = memory(c_md, cpu_engine(), DNNL_MEMORY_NONE);
    if (bias) p.bias = memory(bias_md, cpu_engine(), DNNL_MEMORY_NONE);
    p.scratch = memory(pd.scratchpad_desc(), cpu_engine());
    return p;
}

}  // namespace

void product(int m, int n, int k, Operand a, Operand b, float* c, int ldc, const float* bias, bool accumulate) {
    const OneThread one;
    thread_local std::map<Key, Plan> plans;
    thread_local dnnl::stream stream(cpu_engine());
    const Key key{m, n, k, a.ld, a.transposed, b.ld, b.transposed, ldc, bias != nullptr, accumulate};
    auto it = plans.find(key);
    if (it == plans.end()) it = plans.emplace(key, make_plan(m, n, k, a, b, ldc, bias != nullptr, accumulate)).first;
    Plan& p = it->second;
    p.a.set_data_handle(const_cast<float*>(a.data));
    p.b.set_data_handle(const_cast<float*>(b.data));
    p.c.set_data_handle(c);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC, p.a}, {DNNL_ARG_WEIGHTS, p.b}, {DNNL_ARG_DST, p.c}, {DNNL_ARG_SCRATCHPAD, p.scratch}};
    if (bias) {
        p.bias.set_data_handle(const_cast<float*>(bias));
        args.emplace(DNNL_ARG_BIAS, p.bias);
    }
    p.primitive.execute(stream, args);
    stream.wait();
}

}  // namespace actsearch::engine::matmul
