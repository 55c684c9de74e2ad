// Fused log-softmax + cross-entropy with class-index targets for lamina's CUDA backend, over a
// contiguous (N, C) array: one block per row (blockDim.x a power of two, dynamic shared memory of
// blockDim.x values). Same formulas and order of operations as lamina-losses' CrossEntropyIndex
// (shift = row max, or 0 when it is not finite; logp = (x - shift) - log(sum exp(x - shift))).
// Host-side constants arrive in the array's dtype. Compiled after common.cuh (block_reduce), which
// _source.source() prepends.

// logp (N, C); loss (N,) per row before the reduction; wv (N,) = valid ? w[t] : 0 (the mean's denominator)
template <typename T>
__device__ void xent_forward(const T* __restrict__ x, const long long* __restrict__ target, const T* __restrict__ weight,
                             T* __restrict__ logp, T* __restrict__ loss, T* __restrict__ wv, long long C,
                             long long ignore_index, int has_weight, int smoothing, T keep, T eps_over_c) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const T* xr = x + blockIdx.x * C;
    T* lr = logp + blockIdx.x * C;
    T shift;
    const T ls = lm_log(row_exp_sum(xr, C, red, shift));
    T smooth = T(0);
    for (long long j = threadIdx.x; j < C; j += blockDim.x) {
        const T v = (xr[j] - shift) - ls;
        lr[j] = v;
        smooth += has_weight ? v * weight[j] : v;
    }
    if (smoothing) smooth = block_reduce(smooth, red, SumOp());
    if (threadIdx.x == 0) {
        const long long t = target[blockIdx.x];
        const bool valid = t != ignore_index;
        const long long tc = valid ? t : 0;
        const T w_t = has_weight ? weight[tc] : T(1);
        const T picked = (xr[tc] - shift) - ls;
        T l = valid ? -w_t * picked : T(0);
        if (smoothing) l = keep * l + eps_over_c * (valid ? -smooth : T(0));
        loss[blockIdx.x] = l;
        wv[blockIdx.x] = valid ? w_t : T(0);
    }
}

// dx (N, C) = valid ? (p * q_sum - eps/C * w - [c == t] (1 - eps) w_t) * s : 0, s = scale[row * s_step]
template <typename T>
__device__ void xent_backward(const T* __restrict__ logp, const long long* __restrict__ target,
                              const T* __restrict__ weight, const T* __restrict__ scale, long long s_step,
                              T* __restrict__ dx, long long C, long long ignore_index, int has_weight, int smoothing,
                              T keep, T eps_over_c, T eps, T c_len, T q_const) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const long long row = blockIdx.x;
    const long long t = target[row];
    const bool valid = t != ignore_index;
    const long long tc = valid ? t : 0;
    const T w_t = has_weight ? weight[tc] : T(1);
    T q_extra = q_const;  // eps * C / C without weight; eps * sum(w) / C with one
    if (smoothing && has_weight) {
        T ws = T(0);
        for (long long j = threadIdx.x; j < C; j += blockDim.x) ws += weight[j];
        q_extra = (eps * block_reduce(ws, red, SumOp())) / c_len;
    }
    const T q_sum = keep * w_t + q_extra;
    const T s = scale[row * s_step];
    const T* lr = logp + row * C;
    T* dr = dx + row * C;
    for (long long j = threadIdx.x; j < C; j += blockDim.x) {
        T g = lm_exp(lr[j]) * q_sum;
        if (smoothing) g = g - eps_over_c * (has_weight ? weight[j] : T(1));
        if (j == tc) g = g - keep * w_t;
        dr[j] = valid ? g * s : T(0);
    }
}

#define LM_XENT(SUFFIX, T) \
extern "C" __global__ void lm_xent_fwd_##SUFFIX(const T* x, const long long* target, const T* weight, T* logp, \
        T* loss, T* wv, long long C, long long ignore_index, int has_weight, int smoothing, T keep, T eps_over_c) { \
    xent_forward<T>(x, target, weight, logp, loss, wv, C, ignore_index, has_weight, smoothing, keep, eps_over_c); } \
extern "C" __global__ void lm_xent_bwd_##SUFFIX(const T* logp, const long long* target, const T* weight, \
        const T* scale, long long s_step, T* dx, long long C, long long ignore_index, int has_weight, int smoothing, \
        T keep, T eps_over_c, T eps, T c_len, T q_const) { \
    xent_backward<T>(logp, target, weight, scale, s_step, dx, C, ignore_index, has_weight, smoothing, keep, \
                     eps_over_c, eps, c_len, q_const); }

LM_XENT(f32, float)
LM_XENT(f64, double)
