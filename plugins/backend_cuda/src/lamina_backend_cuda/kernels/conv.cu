// im2col / col2im for 2-D convolution (1-D runs as H = 1) for lamina's CUDA backend.
// x (N, C, H, W) <-> cols (N, C, KH, KW, OH, OW): rows ordered (c, kh, kw) like the weight, so
// cols viewed (N, G, C/G*K, L) feeds one batched GEMM per direction. col2im gathers (each input
// position sums the column entries that read it, in kernel-offset order): no atomics, deterministic.
// Compiled after common.cuh (WinGeo, LM_GEO_PARAMS, LM_LOOP), which _source.source() prepends.

template <typename T>
__device__ void im2col(const T* __restrict__ x, T* __restrict__ cols, WinGeo g) {
    const long long total = g.N * g.C * g.KH * g.KW * g.OH * g.OW;
    LM_LOOP(total) {
        long long r = i;
        const long long ow = r % g.OW; r /= g.OW;
        const long long oh = r % g.OH; r /= g.OH;
        const long long kw = r % g.KW; r /= g.KW;
        const long long kh = r % g.KH; r /= g.KH;   // r = n * C + c
        const long long ih = oh * g.SH - g.PH + kh * g.DH;
        const long long iw = ow * g.SW - g.PW + kw * g.DW;
        cols[i] = (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? x[(r * g.H + ih) * g.W + iw] : T(0);
    }
}

template <typename T>
__device__ void col2im(const T* __restrict__ cols, T* __restrict__ dx, WinGeo g) {
    const long long total = g.N * g.C * g.H * g.W;
    LM_LOOP(total) {
        long long r = i;
        const long long w = r % g.W; r /= g.W;
        const long long h = r % g.H; r /= g.H;      // r = n * C + c
        T acc = T(0);
        lm_for_each_reader(g, h, w, [&](long long kh, long long kw, long long oh, long long ow) {
            acc += cols[(((r * g.KH + kh) * g.KW + kw) * g.OH + oh) * g.OW + ow];
        });
        dx[i] = acc;
    }
}

#define LM_CONV(SUFFIX, T) \
extern "C" __global__ void lm_im2col_##SUFFIX(const T* x, T* cols, LM_GEO_PARAMS) { im2col<T>(x, cols, LM_GEO); } \
extern "C" __global__ void lm_col2im_##SUFFIX(const T* cols, T* dx, LM_GEO_PARAMS) { col2im<T>(cols, dx, LM_GEO); }

LM_CONV(f32, float)
LM_CONV(f64, double)
