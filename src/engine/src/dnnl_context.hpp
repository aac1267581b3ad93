// What the engine's oneDNN code shares (conv_dnnl.cpp, matmul_dnnl.cpp): the CPU engine, and running a
// primitive single-threaded on the calling thread.
#pragma once

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>

namespace actsearch::engine::dnnl_context {

// The one CPU engine every primitive is created on.
inline dnnl::engine& cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// Debian's oneDNN runs on OpenMP and sizes a primitive's work decomposition (and so its reduction
// order) by omp_get_max_threads() when the primitive is created. Creating and running every primitive
// under OneThread (the calling thread's OpenMP thread count set to 1 for the scope) gives the same
// single-threaded kernels whatever the caller's OpenMP settings.
class OneThread {
public:
    OneThread() : previous_(omp_get_max_threads()) { omp_set_num_threads(1); }
    ~OneThread() { omp_set_num_threads(previous_); }
    OneThread(const OneThread&) = delete;
    OneThread& operator=(const OneThread&) = delete;

private:
    int previous_;
};

}  // namespace actsearch::engine::dnnl_context
