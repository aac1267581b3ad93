// Convolutions on oneDNN (forward, backward-data, backward-weights; conv.hpp's ConvKernels).
//
// The networks' feature maps are NHWC, a layout oneDNN's convolution kernels (jit:avx512_core and
// friends) read and write directly: no reorder of the maps. Only the weights are reordered into the
// kernels' blocked layout on each call (a few thousand floats), and a 3-channel NCHW network input is
// reordered to NHWC.
//
// Determinism. An evaluation must be bit-identical whatever ran before it, beside it, and at any
// --threads:
//   * threads: Debian's oneDNN runs on OpenMP and sizes a primitive's work decomposition (and so, for
//     backward-weights, its reduction order) by omp_get_max_threads() when the primitive is created.
//     Every creation and execution below runs under OneThread, which sets the calling thread's OpenMP
//     thread count to 1 for its duration: the same single-threaded kernels whatever the caller's
//     OpenMP settings (a driver's parallel loop over candidates, eval --threads N).
//   * alignment: a caller's buffer is used in place only when it is 64-byte aligned (the networks'
//     AlignedFloats always are); any other is copied into a buffer oneDNN allocated (aligned) first.
//     So oneDNN's kernels only ever see 64-byte aligned addresses. The scratchpad is ours per plan
//     (scratchpad_mode::user): no state is shared between networks.
//   * the primitive itself depends only on the shapes and on the CPU (the ISA oneDNN dispatches to):
//     results are reproducible on a given machine, as the engine promises, not across CPUs.
//
// bf16 (Conv2d::bf16): the primitives take bf16 sources, weights and output gradients and write fp32
// outputs, input gradients and weight gradients. The networks' fp32 buffers are reordered (rounded to
// nearest even) into bf16 staging buffers by the same Arg mechanism that handles layouts; the master
// weights and every other layer stay fp32.
#include "actsearch/engine/detail/conv.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>

#include <oneapi/dnnl/dnnl.hpp>

#include "actsearch/engine/evaluate.hpp"
#include "dnnl_context.hpp"

namespace actsearch::engine::conv {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

using dnnl_context::cpu_engine;
using dnnl_context::OneThread;

dnnl::primitive_attr user_scratchpad() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

// One tensor argument of a primitive. The caller's buffer (user layout) is used in place when its
// layout is the primitive's and its address is 64-byte aligned; otherwise it is reordered into (or out
// of) a buffer oneDNN allocates on first need.
class Arg {
public:
    Arg() = default;
    Arg(const memory::desc& user_md, const memory::desc& primitive_md)
        : user_(user_md, cpu_engine(), DNNL_MEMORY_NONE), primitive_md_(primitive_md),
          same_layout_(user_md == primitive_md) {}

    // The memory to pass as an input, filled from `data`.
    memory input(dnnl::stream& s, const float* data) {
        if (in_place(data)) return wrap(const_cast<float*>(data));
        prepare();
        user_.set_data_handle(const_cast<float*>(data));
        to_primitive_.execute(s, user_, staged_);
        return staged_;
    }
    // The memory to pass as an output for `data`; call finish(s, data) after the primitive ran.
    memory output(float* data) {
        if (in_place(data)) return wrap(data);
        prepare();
        return staged_;
    }
    void finish(dnnl::stream& s, float* data) {
        if (in_place(data)) return;
        user_.set_data_handle(data);
        to_user_.execute(s, staged_, user_);
    }

private:
    bool in_place(const float* data) const {
        return same_layout_ && reinterpret_cast<std::uintptr_t>(data) % 64 == 0;
    }
    memory wrap(float* data) {
        if (!direct_) direct_ = memory(primitive_md_, cpu_engine(), DNNL_MEMORY_NONE);
        direct_.set_data_handle(data);
        return direct_;
    }
    void prepare() {
        if (staged_) return;
        staged_ = memory(primitive_md_, cpu_engine());
        to_primitive_ = dnnl::reorder(user_, staged_);
        to_user_ = dnnl::reorder(staged_, user_);
    }

    memory user_, direct_, staged_;
    memory::desc primitive_md_;
    bool same_layout_ = false;
    dnnl::reorder to_primitive_, to_user_;
};

memory::dims dims_of(int n, int c, int h, int w) { return {n, c, h, w}; }

}  // namespace

// The primitives and buffers of one (images, height, width, input layout).
struct ConvKernels::Plan {
    int images, height, width;
    Layout layout;
    memory::desc x_md, y_md, w_md;
    memory::dims strides, padding_l, padding_r;
    dnnl::stream stream;

    dnnl::convolution_forward::primitive_desc fwd_pd;
    dnnl::convolution_forward fwd;
    Arg src, weights, dst;
    memory fwd_scratch;

    bool backward_ready = false;
    dnnl::convolution_backward_data bwd_data;
    dnnl::convolution_backward_weights bwd_weights;
    Arg diff_dst, data_weights, diff_src, weights_src, diff_weights;
    memory data_scratch, weights_scratch;
    AlignedFloats weight_grad;  // the backward pass's dW in [out][in][k][k], added to the caller's

    Plan(const Conv2d& conv, int n, int h, int w, Layout l)
        : images(n), height(h), width(w), layout(l), stream(cpu_engine()) {
        const int oh = conv.out_height(h), ow = conv.out_width(w);
        x_md = memory::desc(dims_of(n, conv.in_channels, h, w), dt::f32, l == Layout::nhwc ? tag::nhwc : tag::nchw);
        y_md = memory::desc(dims_of(n, conv.out_channels, oh, ow), dt::f32, tag::nhwc);
        w_md = memory::desc(dims_of(conv.out_channels, conv.in_channels, conv.kernel, conv.kernel), dt::f32, tag::oihw);
        strides = {conv.stride, conv.stride};
        padding_l = {conv.padding, conv.padding};
        // Right padding as PyTorch's floor-mode output size implies (may be less than the left one).
        padding_r = {(oh - 1) * conv.stride + conv.kernel - h - conv.padding,
                     (ow - 1) * conv.stride + conv.kernel - w - conv.padding};

        fwd_pd = dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                            src_md(conv, operand(conv)), any_weights(conv, operand(conv)), y_md,
                                            strides, padding_l, padding_r),
            user_scratchpad(), cpu_engine());
        fwd = dnnl::convolution_forward(fwd_pd);
        src = Arg(x_as_nhwc(conv), fwd_pd.src_desc());
        weights = Arg(w_md, fwd_pd.weights_desc());
        dst = Arg(y_md, fwd_pd.dst_desc());
        fwd_scratch = memory(fwd_pd.scratchpad_desc(), cpu_engine());
    }

    // The type of the convolutions' operands (sources, weights, output gradients).
    static dt operand(const Conv2d& conv) { return conv.bf16 ? dt::bf16 : dt::f32; }
    // The convolution's source is always NHWC; a 1-channel NCHW input already is NHWC.
    memory::desc src_md(const Conv2d& conv, dt type = dt::f32) const {
        return memory::desc(dims_of(images, conv.in_channels, height, width), type, tag::nhwc);
    }
    memory::desc x_as_nhwc(const Conv2d& conv) const { return conv.in_channels == 1 ? src_md(conv) : x_md; }
    memory::desc any_weights(const Conv2d& conv, dt type) const {
        return memory::desc(dims_of(conv.out_channels, conv.in_channels, conv.kernel, conv.kernel), type, tag::any);
    }
    memory::desc dy_md(const Conv2d& conv) const {
        return memory::desc(y_md.dims(), operand(conv), tag::nhwc);
    }

    void prepare_backward(const Conv2d& conv) {
        if (backward_ready) return;
        const dnnl::convolution_backward_data::primitive_desc data_pd(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src_md(conv),
                                                  any_weights(conv, operand(conv)), dy_md(conv), strides, padding_l,
                                                  padding_r),
            user_scratchpad(), cpu_engine(), fwd_pd);
        const dnnl::convolution_backward_weights::primitive_desc weights_pd(
            dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src_md(conv, operand(conv)),
                                                     any_weights(conv, dt::f32), dy_md(conv), strides, padding_l,
                                                     padding_r),
            user_scratchpad(), cpu_engine(), fwd_pd);
        bwd_data = dnnl::convolution_backward_data(data_pd);
        bwd_weights = dnnl::convolution_backward_weights(weights_pd);
        // One (staged, for bf16) output gradient feeds both backward primitives.
        if (data_pd.diff_dst_desc() != weights_pd.diff_dst_desc() || weights_pd.diff_dst_desc() != dy_md(conv))
            throw std::logic_error("ConvKernels: the backward primitives disagree on the output gradient's layout");
        diff_dst = Arg(y_md, dy_md(conv));
        data_weights = Arg(w_md, data_pd.weights_desc());
        diff_src = Arg(x_as_nhwc(conv), data_pd.diff_src_desc());
        weights_src = Arg(x_as_nhwc(conv), weights_pd.src_desc());
        diff_weights = Arg(w_md, weights_pd.diff_weights_desc());
        data_scratch = memory(data_pd.scratchpad_desc(), cpu_engine());
        weights_scratch = memory(weights_pd.scratchpad_desc(), cpu_engine());
        weight_grad.assign(conv.weight_count(), 0.0f);
        backward_ready = true;
    }
};

ConvKernels::ConvKernels(const Conv2d& conv) : conv_(conv) {}
ConvKernels::~ConvKernels() = default;
ConvKernels::ConvKernels(ConvKernels&&) noexcept = default;
ConvKernels& ConvKernels::operator=(ConvKernels&&) noexcept = default;

ConvKernels::Plan& ConvKernels::plan(int images, int height, int width, Layout layout) {
    for (auto& p : plans_)
        if (p->images == images && p->height == height && p->width == width && p->layout == layout) return *p;
    plans_.push_back(std::make_unique<Plan>(conv_, images, height, width, layout));
    return *plans_.back();
}

void ConvKernels::forward(const float* x, Layout layout, int images, int height, int width, const float* weight,
                          float* y) {
    if (images <= 0) return;
    const OneThread one_thread;
    Plan& p = plan(images, height, width, layout);
    const memory src = p.src.input(p.stream, x);
    const memory weights = p.weights.input(p.stream, weight);
    const memory dst = p.dst.output(y);
    p.fwd.execute(p.stream, {{DNNL_ARG_SRC, src},
                             {DNNL_ARG_WEIGHTS, weights},
                             {DNNL_ARG_DST, dst},
                             {DNNL_ARG_SCRATCHPAD, p.fwd_scratch}});
    p.dst.finish(p.stream, y);
    p.stream.wait();
}

void ConvKernels::backward(const float* x, Layout layout, int images, int height, int width, const float* weight,
                           const float* dy, float* dweight, float* dx) {
    if (images <= 0) return;
    const OneThread one_thread;
    Plan& p = plan(images, height, width, layout);
    p.prepare_backward(conv_);
    const memory diff_dst = p.diff_dst.input(p.stream, dy);
    const memory src = p.weights_src.input(p.stream, x);
    const memory diff_weights = p.diff_weights.output(p.weight_grad.data());
    p.bwd_weights.execute(p.stream, {{DNNL_ARG_SRC, src},
                                     {DNNL_ARG_DIFF_DST, diff_dst},
                                     {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                     {DNNL_ARG_SCRATCHPAD, p.weights_scratch}});
    p.diff_weights.finish(p.stream, p.weight_grad.data());
    if (dx != nullptr) {
        const memory weights = p.data_weights.input(p.stream, weight);
        const memory diff_src = p.diff_src.output(dx);
        p.bwd_data.execute(p.stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                      {DNNL_ARG_WEIGHTS, weights},
                                      {DNNL_ARG_DIFF_SRC, diff_src},
                                      {DNNL_ARG_SCRATCHPAD, p.data_scratch}});
        p.diff_src.finish(p.stream, dx);
    }
    p.stream.wait();
    for (std::size_t i = 0; i < p.weight_grad.size(); ++i) dweight[i] += p.weight_grad[i];
}

}  // namespace actsearch::engine::conv

namespace actsearch::engine {

bool bf16_native() {
    static const bool native = [] {
        try {
            using dnnl::memory;
            using dt = memory::data_type;
            using tag = memory::format_tag;
            const memory::desc src({1, 16, 8, 8}, dt::bf16, tag::nhwc), weights({16, 16, 3, 3}, dt::bf16, tag::any),
                dst({1, 16, 8, 8}, dt::f32, tag::nhwc);
            const dnnl::convolution_forward::primitive_desc pd(
                dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                                src, weights, dst, {1, 1}, {1, 1}, {1, 1}),
                dnnl_context::cpu_engine());
            // oneDNN emulates bf16 on CPUs without it, under an implementation named for the older ISA.
            const std::string impl = pd.impl_info_str();
            return impl.find("avx512_core_bf16") != std::string::npos || impl.find("amx") != std::string::npos;
        } catch (const dnnl::error&) {
            return false;
        }
    }();
    return native;
}

}  // namespace actsearch::engine

namespace actsearch::engine::conv {

void conv2d_forward(const Conv2d& conv, const float* x, Layout layout, int images, int height, int width,
                    const float* weight, float* y) {
    ConvKernels(conv).forward(x, layout, images, height, width, weight, y);
}

void conv2d_backward(const Conv2d& conv, const float* x, Layout layout, int images, int height, int width,
                     const float* weight, const float* dy, float* dweight, float* dx) {
    ConvKernels(conv).backward(x, layout, images, height, width, weight, dy, dweight, dx);
}

}  // namespace actsearch::engine::conv
