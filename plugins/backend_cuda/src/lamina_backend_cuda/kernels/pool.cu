// 2-D max pooling with indices (1-D runs as H = 1) for lamina's CUDA backend.
// Forward scans each window in kernel-offset order with the reference's rule (update when
// v > best or v is NaN; positions outside the input read -inf), writes y, the winning offset
// (int32, for backward) and optionally PyTorch's flat index into the input plane (clipped like
// the reference). Backward gathers: each input position sums dy of the windows whose winner it
// is, in offset order (no atomics). Compiled after common.cuh (WinGeo, LM_LOOP, lm_neg_inf), which
// _source.source() prepends.

__device__ __forceinline__ long long lm_clip(long long v, long long hi) { return v < 0 ? 0 : (v > hi ? hi : v); }

template <typename T>
__device__ void maxpool_forward(const T* __restrict__ x, T* __restrict__ y, int* __restrict__ arg,
                                long long* __restrict__ idx, int want_idx, WinGeo g) {
    const long long total = g.N * g.C * g.OH * g.OW;
    LM_LOOP(total) {
        long long r = i;
        const long long ow = r % g.OW; r /= g.OW;
        const long long oh = r % g.OH; r /= g.OH;   // r = n * C + c
        const T* plane = x + r * g.H * g.W;
        const long long h0 = oh * g.SH - g.PH, w0 = ow * g.SW - g.PW;
        T best = lm_neg_inf<T>();
        int k_best = 0;
        int k = 0;
        for (long long kh = 0; kh < g.KH; ++kh) {
            const long long ih = h0 + kh * g.DH;
            for (long long kw = 0; kw < g.KW; ++kw, ++k) {
                const long long iw = w0 + kw * g.DW;
                const T v = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? plane[ih * g.W + iw] : lm_neg_inf<T>();
                if (k == 0 || v > best || v != v) { best = v; k_best = k; }
            }
        }
        y[i] = best;
        arg[i] = k_best;
        if (want_idx) {
            const long long kh = k_best / g.KW, kw = k_best % g.KW;
            idx[i] = lm_clip(h0 + kh * g.DH, g.H - 1) * g.W + lm_clip(w0 + kw * g.DW, g.W - 1);
        }
    }
}

template <typename T>
__device__ void maxpool_backward(const T* __restrict__ dy, const int* __restrict__ arg, T* __restrict__ dx,
                                 WinGeo g) {
    const long long total = g.N * g.C * g.H * g.W;
    LM_LOOP(total) {
        long long r = i;
        const long long w = r % g.W; r /= g.W;
        const long long h = r % g.H; r /= g.H;      // r = n * C + c
        const long long base = r * g.OH * g.OW;
        T acc = T(0);
        lm_for_each_reader(g, h, w, [&](long long kh, long long kw, long long oh, long long ow) {
            const long long o = base + oh * g.OW + ow;
            if (arg[o] == (int)(kh * g.KW + kw)) acc += dy[o];
        });
        dx[i] = acc;
    }
}

#define LM_POOL(SUFFIX, T) \
extern "C" __global__ void lm_maxpool_fwd_##SUFFIX(const T* x, T* y, int* arg, long long* idx, int want_idx, \
                                                   LM_GEO_PARAMS) { maxpool_forward<T>(x, y, arg, idx, want_idx, LM_GEO); } \
extern "C" __global__ void lm_maxpool_bwd_##SUFFIX(const T* dy, const int* arg, T* dx, LM_GEO_PARAMS) { \
    maxpool_backward<T>(dy, arg, dx, LM_GEO); }

LM_POOL(f32, float)
LM_POOL(f64, double)
