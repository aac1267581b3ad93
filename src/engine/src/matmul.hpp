// Matrix products of the dense layers on oneDNN's matmul (matmul_dnnl.cpp).
#pragma once

namespace actsearch::engine::matmul {

// One operand: a row-major matrix at `data` with leading dimension `ld`, read transposed when
// `transposed` (then the stored matrix is the operand's transpose).
struct Operand {
    const float* data;
    int ld;
    bool transposed = false;
};

// C[m, n] (leading dimension ldc) = A[m, k] B[k, n] (+ bias[n] broadcast over the rows, when bias is
// not null), or C += A B when accumulate. Single-threaded, on the calling thread, whatever its OpenMP
// settings. The result depends only on the shapes, the leading dimensions and the CPU: the same
// call gives the same bits wherever the buffers are, beside other threads and after anything else.
void product(int m, int n, int k, Operand a, Operand b, float* c, int ldc, const float* bias, bool accumulate);

}  // namespace actsearch::engine::matmul
