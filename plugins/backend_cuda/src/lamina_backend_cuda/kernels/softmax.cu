// Row-wise softmax and log-softmax over the last axis of a contiguous (R, L) array, forward and
// backward, for lamina's CUDA backend. One block per row; blockDim.x is a power of two and the
// dynamic shared memory holds blockDim.x values for the tree reductions (block_reduce of
// common.cuh, which _source.source() prepends).

// y = softmax(x) or log_softmax(x) of one row, shifted as row_exp_sum says
template <typename T, bool LOG>
__device__ void softmax_forward(const T* __restrict__ x, T* __restrict__ y, long long L) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const T* xr = x + blockIdx.x * L;
    T* yr = y + blockIdx.x * L;
    T shift;
    const T s = row_exp_sum(xr, L, red, shift);
    if (LOG) {
        const T ls = lm_log(s);
        for (long long i = threadIdx.x; i < L; i += blockDim.x) yr[i] = (xr[i] - shift) - ls;
    } else {
        for (long long i = threadIdx.x; i < L; i += blockDim.x) yr[i] = lm_exp(xr[i] - shift) / s;
    }
}

// softmax:     dx = y * dy - y * sum(y * dy)
// log_softmax: dx = dy - exp(y) * sum(dy)
template <typename T, bool LOG>
__device__ void softmax_backward(const T* __restrict__ y, const T* __restrict__ dy, T* __restrict__ dx,
                                 long long L) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const long long off = blockIdx.x * L;
    T s = T(0);
    for (long long i = threadIdx.x; i < L; i += blockDim.x) s += LOG ? dy[off + i] : y[off + i] * dy[off + i];
    s = block_reduce(s, red, SumOp());
    for (long long i = threadIdx.x; i < L; i += blockDim.x) {
        const T u = y[off + i], g = dy[off + i];
        dx[off + i] = LOG ? g - lm_exp(u) * s : u * g - u * s;
    }
}

#define LM_SOFTMAX(SUFFIX, T) \
extern "C" __global__ void lm_softmax_fwd_##SUFFIX(const T* x, T* y, long long L) { \
    softmax_forward<T, false>(x, y, L); } \
extern "C" __global__ void lm_log_softmax_fwd_##SUFFIX(const T* x, T* y, long long L) { \
    softmax_forward<T, true>(x, y, L); } \
extern "C" __global__ void lm_softmax_bwd_##SUFFIX(const T* y, const T* dy, T* dx, long long L) { \
    softmax_backward<T, false>(y, dy, dx, L); } \
extern "C" __global__ void lm_log_softmax_bwd_##SUFFIX(const T* y, const T* dy, T* dx, long long L) { \
    softmax_backward<T, true>(y, dy, dx, L); }

LM_SOFTMAX(f32, float)
LM_SOFTMAX(f64, double)
