// Convolutions on oneDNN (forward, backward-data, backward-weights; conv.hpp's ConvKernels).
//
// oneDNN picks its own (blocked, e.g. nChw16c) layouts for the convolution's source, weights and
// destination; the engine's feature maps stay CNHW for batch norm, the activation program and pooling.
// Every call reorders its inputs from the engine's layouts into buffers in oneDNN's, runs the
// primitive, and reorders the result back. The reorders are element copies (no arithmetic), so they
// cannot change a bit; they cost a few percent of a convolution (see scripts/bench_engine.sh).
//
// Determinism. An evaluation must be bit-identical whatever ran before it, beside it, and at any
// --threads:
//   * threads: Debian's oneDNN runs on OpenMP and sizes a primitive's work decomposition (and so, for
//     backward-weights, its reduction order) by omp_get_max_threads() when the primitive is created.
//     Every creation and execution below runs under OneThread, which sets the calling thread's OpenMP
//     thread count to 1 for its duration: the same single-threaded kernels whatever the caller's
//     OpenMP settings (a driver's parallel loop over candidates, eval --threads N).
//   * alignment: oneDNN's kernels see only buffers oneDNN allocated itself (page- or 64-byte aligned),
//     never the caller's pointers, which only the reorders touch. The scratchpad is ours per plan
//     (scratchpad_mode::user), so no state is shared between networks.
//   * the primitive itself depends only on the shapes and on the CPU (the ISA oneDNN dispatches to):
//     results are reproducible on a given machine, as the engine promises, not across CPUs.
#include "conv.hpp"

#include <omp.h>

#include <algorithm>
#include <stdexcept>

#include <oneapi/dnnl/dnnl.hpp>

namespace actsearch::engine::conv {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// Runs oneDNN single-threaded on the calling thread (see the file comment).
class OneThread {
public:
    OneThread() : previous_(omp_get_max_threads()) { omp_set_num_threads(1); }
    ~OneThread() { omp_set_num_threads(previous_); }
    OneThread(const OneThread&) = delete;
    OneThread& operator=(const OneThread&) = delete;

private:
    int previous_;
};

dnnl::primitive_attr user_scratchpad() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

// A buffer in a primitive's layout, filled from (or emptied into) a buffer in the engine's layout.
struct Staged {
    memory user;     // the engine's buffer; its handle is set per call
    memory staged;   // oneDNN's layout, allocated by oneDNN
    dnnl::reorder to_staged, to_user;

    Staged() = default;
    Staged(const memory::desc& user_md, const memory::desc& staged_md, bool in, bool out)
        : user(user_md, cpu_engine(), DNNL_MEMORY_NONE), staged(staged_md, cpu_engine()) {
        if (in) to_staged = dnnl::reorder(user, staged);
        if (out) to_user = dnnl::reorder(staged, user);
    }
    void load(dnnl::stream& s, const float* data) {
        user.set_data_handle(const_cast<float*>(data));
        to_staged.execute(s, user, staged);
    }
    void store(dnnl::stream& s, float* data) {
        user.set_data_handle(data);
        to_user.execute(s, staged, user);
    }
};

memory::dims dims_of(int n, int c, int h, int w) { return {n, c, h, w}; }

}  // namespace

// The primitives and buffers of one (images, height, width, input strides).
struct ConvKernels::Plan {
    int images, height, width;
    PlaneStrides x_strides;
    memory::desc x_md, y_md, w_md;
    memory::dims strides, padding_l, padding_r;
    dnnl::stream stream;

    dnnl::convolution_forward::primitive_desc fwd_pd;
    dnnl::convolution_forward fwd;
    Staged src, weights, dst;
    memory fwd_scratch;

    bool backward_ready = false;
    dnnl::convolution_backward_data bwd_data;
    dnnl::convolution_backward_weights bwd_weights;
    Staged diff_dst_data, diff_dst_weights, bwd_weights_in, diff_src, bwd_src, diff_weights;
    memory data_scratch, weights_scratch;
    std::vector<float> weight_grad;  // the backward pass's dW in [out][in][k][k], added to the caller's

    Plan(const Conv2d& conv, int n, int h, int w, PlaneStrides xs)
        : images(n), height(h), width(w), x_strides(xs), stream(cpu_engine()) {
        const int oh = conv.out_height(h), ow = conv.out_width(w);
        x_md = memory::desc(dims_of(n, conv.in_channels, h, w), dt::f32,
                            memory::dims{memory::dim(xs.image_stride), memory::dim(xs.channel_stride), w, 1});
        const std::size_t out_plane = std::size_t(oh) * ow;
        // CNHW output: [out][n][oh][ow].
        y_md = memory::desc(dims_of(n, conv.out_channels, oh, ow), dt::f32,
                            memory::dims{memory::dim(out_plane), memory::dim(std::size_t(n) * out_plane), ow, 1});
        w_md = memory::desc(dims_of(conv.out_channels, conv.in_channels, conv.kernel, conv.kernel), dt::f32, tag::oihw);
        strides = {conv.stride, conv.stride};
        padding_l = {conv.padding, conv.padding};
        // Right padding as PyTorch's floor-mode output size implies (may be less than the left one).
        padding_r = {(oh - 1) * conv.stride + conv.kernel - h - conv.padding,
                     (ow - 1) * conv.stride + conv.kernel - w - conv.padding};

        const memory::desc any_src(dims_of(n, conv.in_channels, h, w), dt::f32, tag::any);
        const memory::desc any_w(dims_of(conv.out_channels, conv.in_channels, conv.kernel, conv.kernel), dt::f32,
                                 tag::any);
        const memory::desc any_dst(dims_of(n, conv.out_channels, oh, ow), dt::f32, tag::any);
        fwd_pd = dnnl::convolution_forward::primitive_desc(
            dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                            any_src, any_w, any_dst, strides, padding_l, padding_r),
            user_scratchpad(), cpu_engine());
        fwd = dnnl::convolution_forward(fwd_pd);
        src = Staged(x_md, fwd_pd.src_desc(), true, false);
        weights = Staged(w_md, fwd_pd.weights_desc(), true, false);
        dst = Staged(y_md, fwd_pd.dst_desc(), false, true);
        fwd_scratch = memory(fwd_pd.scratchpad_desc(), cpu_engine());
    }

    void prepare_backward(const Conv2d& conv) {
        if (backward_ready) return;
        const int oh = conv.out_height(height), ow = conv.out_width(width);
        const memory::desc any_src(dims_of(images, conv.in_channels, height, width), dt::f32, tag::any);
        const memory::desc any_w(dims_of(conv.out_channels, conv.in_channels, conv.kernel, conv.kernel), dt::f32,
                                 tag::any);
        const memory::desc any_dst(dims_of(images, conv.out_channels, oh, ow), dt::f32, tag::any);
        const dnnl::convolution_backward_data::primitive_desc data_pd(
            dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, any_src, any_w, any_dst,
                                                  strides, padding_l, padding_r),
            user_scratchpad(), cpu_engine(), fwd_pd);
        const dnnl::convolution_backward_weights::primitive_desc weights_pd(
            dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, any_src, any_w, any_dst,
                                                     strides, padding_l, padding_r),
            user_scratchpad(), cpu_engine(), fwd_pd);
        bwd_data = dnnl::convolution_backward_data(data_pd);
        bwd_weights = dnnl::convolution_backward_weights(weights_pd);
        // dy is CNHW like the forward output.
        diff_dst_data = Staged(y_md, data_pd.diff_dst_desc(), true, false);
        diff_dst_weights = Staged(y_md, weights_pd.diff_dst_desc(), true, false);
        bwd_weights_in = Staged(w_md, data_pd.weights_desc(), true, false);
        diff_src = Staged(x_md, data_pd.diff_src_desc(), false, true);
        bwd_src = Staged(x_md, weights_pd.src_desc(), true, false);
        diff_weights = Staged(w_md, weights_pd.diff_weights_desc(), false, true);
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

ConvKernels::Plan& ConvKernels::plan(int images, int height, int width, PlaneStrides x_strides) {
    for (auto& p : plans_)
        if (p->images == images && p->height == height && p->width == width &&
            p->x_strides.channel_stride == x_strides.channel_stride &&
            p->x_strides.image_stride == x_strides.image_stride)
            return *p;
    plans_.push_back(std::make_unique<Plan>(conv_, images, height, width, x_strides));
    return *plans_.back();
}

void ConvKernels::forward(const float* x, PlaneStrides x_strides, int images, int height, int width,
                          const float* weight, float* y) {
    if (images <= 0) return;
    const OneThread one_thread;
    Plan& p = plan(images, height, width, x_strides);
    p.src.load(p.stream, x);
    p.weights.load(p.stream, weight);
    p.fwd.execute(p.stream, {{DNNL_ARG_SRC, p.src.staged},
                             {DNNL_ARG_WEIGHTS, p.weights.staged},
                             {DNNL_ARG_DST, p.dst.staged},
                             {DNNL_ARG_SCRATCHPAD, p.fwd_scratch}});
    p.dst.store(p.stream, y);
    p.stream.wait();
}

void ConvKernels::backward(const float* x, PlaneStrides x_strides, int images, int height, int width,
                           const float* weight, const float* dy, float* dweight, float* dx) {
    if (images <= 0) return;
    const OneThread one_thread;
    Plan& p = plan(images, height, width, x_strides);
    p.prepare_backward(conv_);
    p.diff_dst_weights.load(p.stream, dy);
    p.bwd_src.load(p.stream, x);
    p.bwd_weights.execute(p.stream, {{DNNL_ARG_SRC, p.bwd_src.staged},
                                     {DNNL_ARG_DIFF_DST, p.diff_dst_weights.staged},
                                     {DNNL_ARG_DIFF_WEIGHTS, p.diff_weights.staged},
                                     {DNNL_ARG_SCRATCHPAD, p.weights_scratch}});
    p.diff_weights.store(p.stream, p.weight_grad.data());
    if (dx != nullptr) {
        // The two backward primitives usually agree on dy's layout: reorder it once.
        memory diff_dst = p.diff_dst_weights.staged;
        if (p.diff_dst_data.staged.get_desc() != diff_dst.get_desc()) {
            p.diff_dst_data.load(p.stream, dy);
            diff_dst = p.diff_dst_data.staged;
        }
        p.bwd_weights_in.load(p.stream, weight);
        p.bwd_data.execute(p.stream, {{DNNL_ARG_DIFF_DST, diff_dst},
                                      {DNNL_ARG_WEIGHTS, p.bwd_weights_in.staged},
                                      {DNNL_ARG_DIFF_SRC, p.diff_src.staged},
                                      {DNNL_ARG_SCRATCHPAD, p.data_scratch}});
        p.diff_src.store(p.stream, dx);
    }
    p.stream.wait();
    for (std::size_t i = 0; i < p.weight_grad.size(); ++i) dweight[i] += p.weight_grad[i];
}

void conv2d_forward(const Conv2d& conv, const float* x, PlaneStrides x_strides, int images, int height,
                    int width, const float* weight, float* y) {
    ConvKernels(conv).forward(x, x_strides, images, height, width, weight, y);
}

void conv2d_backward(const Conv2d& conv, const float* x, PlaneStrides x_strides, int images, int height,
                     int width, const float* weight, const float* dy, float* dweight, float* dx) {
    ConvKernels(conv).backward(x, x_strides, images, height, width, weight, dy, dweight, dx);
}

}  // namespace actsearch::engine::conv
