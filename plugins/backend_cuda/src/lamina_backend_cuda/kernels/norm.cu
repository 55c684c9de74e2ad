// Normalisation with batch statistics for lamina's CUDA backend (lamina-norms' Normalize).
// Groups: group b holds the elements base + a * outer_stride + k, a < A, k < B, base = b * B, and
// its parameters are weight[b % P] / bias[b % P] (batch norm: view (A, C, B), one group per
// channel, P = C; instance norm: A = 1, one group per (n, c), P = C). Rows: group r is the
// contiguous row r of length L with per-column parameters (layer norm, RMS norm when !center).
// One block per group (blockDim.x a power of two, shared memory of blockDim.x values); mean and
// biased variance in two passes, as the reference. Compiled after common.cuh (block_reduce), which
// _source.source() prepends.

#define LM_GROUP_LOOP(k) for (long long k = threadIdx.x; k < A * B; k += blockDim.x)
#define LM_AT(k) (base + ((k) / B) * outer_stride + (k) % B)

// mean, var, rstd (one per group); y = (x - mean) * rstd * w + b
template <typename T>
__device__ void group_forward(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                              T* __restrict__ y, T* __restrict__ mean, T* __restrict__ var, T* __restrict__ rstd,
                              long long A, long long B, long long outer_stride, long long P, T eps, int has_w,
                              int has_b) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const long long base = blockIdx.x * B;
    const T count = T(A * B);
    T s = T(0);
    LM_GROUP_LOOP(k) s += x[LM_AT(k)];
    const T m = block_reduce(s, red, SumOp()) / count;
    T q = T(0);
    LM_GROUP_LOOP(k) { const T d = x[LM_AT(k)] - m; q += d * d; }
    const T v = block_reduce(q, red, SumOp()) / count;
    const T r = T(1) / lm_sqrt(v + eps);
    const long long p = blockIdx.x % P;
    const T wp = has_w ? w[p] : T(1), bp = has_b ? b[p] : T(0);
    LM_GROUP_LOOP(k) {
        const long long at = LM_AT(k);
        T o = (x[at] - m) * r;
        if (has_w) o *= wp;
        if (has_b) o += bp;
        y[at] = o;
    }
    if (threadIdx.x == 0) { mean[blockIdx.x] = m; var[blockIdx.x] = v; rstd[blockIdx.x] = r; }
}

// weight constant in a group: dx = k1 dy + k1 rstd (-1/n) s2 (x - mean) - k1 s1 / n, k1 = rstd w;
// s1 = sum(dy), s2 = sum(dy (x - mean)) rstd per group (the parameter gradients before summing groups)
template <typename T>
__device__ void group_backward(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ w,
                               const T* __restrict__ mean, const T* __restrict__ rstd, T* __restrict__ dx,
                               T* __restrict__ s1_out, T* __restrict__ s2_out, long long A, long long B,
                               long long outer_stride, long long P, int has_w, int need_x) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const long long base = blockIdx.x * B;
    const T count = T(A * B);
    const T m = mean[blockIdx.x], r = rstd[blockIdx.x];
    T a1 = T(0), a2 = T(0);
    LM_GROUP_LOOP(k) { const long long at = LM_AT(k); a1 += dy[at]; a2 += dy[at] * (x[at] - m); }
    const T s1 = block_reduce(a1, red, SumOp());
    const T s2 = block_reduce(a2, red, SumOp()) * r;
    if (threadIdx.x == 0) { s1_out[blockIdx.x] = s1; s2_out[blockIdx.x] = s2; }
    if (!need_x) return;
    const T k1 = has_w ? r * w[blockIdx.x % P] : r;
    const T k2 = k1 * r * (T(-1) / count) * s2;
    const T k3 = k1 * s1 / count;
    LM_GROUP_LOOP(k) {
        const long long at = LM_AT(k);
        T d = dy[at] * k1;
        d += (x[at] - m) * k2;
        d -= k3;
        dx[at] = d;
    }
}

// rows (R, L), parameters per column; center = 0 is RMS norm (mean 0)
template <typename T>
__device__ void row_forward(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                            T* __restrict__ y, T* __restrict__ mean, T* __restrict__ var, T* __restrict__ rstd,
                            long long L, T eps, int has_w, int has_b, int center) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const T* xr = x + blockIdx.x * L;
    T* yr = y + blockIdx.x * L;
    T m = T(0);
    if (center) {
        T s = T(0);
        for (long long j = threadIdx.x; j < L; j += blockDim.x) s += xr[j];
        m = block_reduce(s, red, SumOp()) / T(L);
    }
    T q = T(0);
    for (long long j = threadIdx.x; j < L; j += blockDim.x) { const T d = xr[j] - m; q += d * d; }
    const T v = block_reduce(q, red, SumOp()) / T(L);
    const T r = T(1) / lm_sqrt(v + eps);
    for (long long j = threadIdx.x; j < L; j += blockDim.x) {
        T o = (xr[j] - m) * r;
        if (has_w) o *= w[j];
        if (has_b) o += b[j];
        yr[j] = o;
    }
    if (threadIdx.x == 0) { mean[blockIdx.x] = m; var[blockIdx.x] = v; rstd[blockIdx.x] = r; }
}

// dx = (g - xhat * sum(g xhat) / L - [center] sum(g) / L) * rstd, g = dy * w, xhat = (x - mean) * rstd
template <typename T>
__device__ void row_backward(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ w,
                             const T* __restrict__ mean, const T* __restrict__ rstd, T* __restrict__ dx, long long L,
                             int has_w, int center) {
    extern __shared__ unsigned char lm_smem[];
    T* red = reinterpret_cast<T*>(lm_smem);
    const long long off = blockIdx.x * L;
    const T m = mean[blockIdx.x], r = rstd[blockIdx.x];
    T a1 = T(0), a2 = T(0);
    for (long long j = threadIdx.x; j < L; j += blockDim.x) {
        const T g = has_w ? dy[off + j] * w[j] : dy[off + j];
        a1 += g;
        a2 += g * ((x[off + j] - m) * r);
    }
    const T sg = block_reduce(a1, red, SumOp()) / T(L);
    const T proj = block_reduce(a2, red, SumOp()) / T(L);
    for (long long j = threadIdx.x; j < L; j += blockDim.x) {
        const T g = has_w ? dy[off + j] * w[j] : dy[off + j];
        T d = g - ((x[off + j] - m) * r) * proj;
        if (center) d -= sg;
        dx[off + j] = d * r;
    }
}

// per column j of (R, L): dw[j] = sum_r dy (x - mean) rstd, db[j] = sum_r dy (rows in order)
template <typename T>
__device__ void row_param_grads(const T* __restrict__ x, const T* __restrict__ dy, const T* __restrict__ mean,
                                const T* __restrict__ rstd, T* __restrict__ dw, T* __restrict__ db, long long R,
                                long long L, int need_w, int need_b) {
    for (long long j = blockIdx.x * (long long)blockDim.x + threadIdx.x; j < L; j += (long long)blockDim.x * gridDim.x) {
        T aw = T(0), ab = T(0);
        for (long long r = 0; r < R; ++r) {
            const T g = dy[r * L + j];
            aw += g * ((x[r * L + j] - mean[r]) * rstd[r]);
            ab += g;
        }
        if (need_w) dw[j] = aw;
        if (need_b) db[j] = ab;
    }
}

#define LM_NORM(SUFFIX, T) \
extern "C" __global__ void lm_group_norm_fwd_##SUFFIX(const T* x, const T* w, const T* b, T* y, T* mean, T* var, \
        T* rstd, long long A, long long B, long long outer_stride, long long P, T eps, int has_w, int has_b) { \
    group_forward<T>(x, w, b, y, mean, var, rstd, A, B, outer_stride, P, eps, has_w, has_b); } \
extern "C" __global__ void lm_group_norm_bwd_##SUFFIX(const T* x, const T* dy, const T* w, const T* mean, \
        const T* rstd, T* dx, T* s1, T* s2, long long A, long long B, long long outer_stride, long long P, int has_w, \
        int need_x) { group_backward<T>(x, dy, w, mean, rstd, dx, s1, s2, A, B, outer_stride, P, has_w, need_x); } \
extern "C" __global__ void lm_row_norm_fwd_##SUFFIX(const T* x, const T* w, const T* b, T* y, T* mean, T* var, \
        T* rstd, long long L, T eps, int has_w, int has_b, int center) { \
    row_forward<T>(x, w, b, y, mean, var, rstd, L, eps, has_w, has_b, center); } \
extern "C" __global__ void lm_row_norm_bwd_##SUFFIX(const T* x, const T* dy, const T* w, const T* mean, \
        const T* rstd, T* dx, long long L, int has_w, int center) { \
    row_backward<T>(x, dy, w, mean, rstd, dx, L, has_w, center); } \
extern "C" __global__ void lm_row_norm_params_##SUFFIX(const T* x, const T* dy, const T* mean, const T* rstd, \
        T* dw, T* db, long long R, long long L, int need_w, int need_b) { \
    row_param_grads<T>(x, dy, mean, rstd, dw, db, R, L, need_w, need_b); }

LM_NORM(f32, float)
LM_NORM(f64, double)
