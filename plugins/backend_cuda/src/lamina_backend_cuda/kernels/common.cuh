// Device helpers shared by every kernel source of lamina's CUDA backend. `_source.source(name)`
// prepends this text to `<name>.cu` (then a `#line 1 "<name>.cu"`, so diagnostics keep the file's
// own line numbers); CuPy's RawModule (NVRTC) and the CPU-only `nvcc --ptx` test compile that same
// string. No #include: NVRTC has no standard headers.

// float / double overloads of the math functions the kernels call
__device__ __forceinline__ float lm_exp(float v) { return expf(v); }
__device__ __forceinline__ double lm_exp(double v) { return exp(v); }
__device__ __forceinline__ float lm_log(float v) { return logf(v); }
__device__ __forceinline__ double lm_log(double v) { return log(v); }
__device__ __forceinline__ float lm_tanh(float v) { return tanhf(v); }
__device__ __forceinline__ double lm_tanh(double v) { return tanh(v); }
__device__ __forceinline__ float lm_sqrt(float v) { return sqrtf(v); }
__device__ __forceinline__ double lm_sqrt(double v) { return sqrt(v); }
__device__ __forceinline__ bool lm_finite(float v) { return isfinite(v); }
__device__ __forceinline__ bool lm_finite(double v) { return isfinite(v); }
template <typename T> __device__ __forceinline__ T lm_neg_inf();
template <> __device__ __forceinline__ float lm_neg_inf<float>() { return __int_as_float(0xff800000); }
template <> __device__ __forceinline__ double lm_neg_inf<double>() {
    return __longlong_as_double(0xfff0000000000000ULL);
}

// grid-stride loop: i runs over [0, n) across the whole grid
#define LM_LOOP(n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); \
                        i += (long long)blockDim.x * gridDim.x)

// Block reductions: blockDim.x is a power of two and red holds blockDim.x values (the dynamic
// shared memory); every thread gets the result.
struct MaxOp {  // NaN wins, as in NumPy's max
    template <typename T> __device__ T operator()(T a, T b) const { return (a > b || a != a) ? a : b; }
};
struct SumOp {
    template <typename T> __device__ T operator()(T a, T b) const { return a + b; }
};

template <typename T, typename Op>
__device__ T block_reduce(T v, T* red, Op op) {
    red[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] = op(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }
    const T r = red[0];
    __syncthreads();
    return r;
}

// The shift of a row xr[0, L) (its max, or 0 when that is not finite: the reference's guard, so an
// all -inf row gives NaN the same way and +inf does not poison the shift) and sum(exp(xr - shift)),
// both reduced over the block.
template <typename T>
__device__ T row_exp_sum(const T* __restrict__ xr, long long L, T* red, T& shift) {
    T m = lm_neg_inf<T>();
    for (long long i = threadIdx.x; i < L; i += blockDim.x) m = MaxOp()(m, xr[i]);
    m = block_reduce(m, red, MaxOp());
    shift = lm_finite(m) ? m : T(0);
    T s = T(0);
    for (long long i = threadIdx.x; i < L; i += blockDim.x) s += lm_exp(xr[i] - shift);
    return block_reduce(s, red, SumOp());
}

// The geometry of a 2-D window op (convolution, pooling; 1-D runs as H = 1). It travels as 14
// scalar arguments (plain integers launch from any host binding): LM_GEO_PARAMS in a kernel's
// signature, LM_GEO to gather them.
struct WinGeo {
    long long N, C, H, W, KH, KW, OH, OW;
    long long SH, SW, PH, PW, DH, DW;
};

#define LM_GEO_PARAMS long long N, long long C, long long H, long long W, long long KH, long long KW, \
    long long OH, long long OW, long long SH, long long SW, long long PH, long long PW, long long DH, long long DW
#define LM_GEO WinGeo{N, C, H, W, KH, KW, OH, OW, SH, SW, PH, PW, DH, DW}

// visit(kh, kw, oh, ow) for every window (oh, ow) whose kernel offset (kh, kw) reads input position
// (h, w), in kernel-offset order: the gather of a window op's backward (no atomics, deterministic).
template <typename Visit>
__device__ __forceinline__ void lm_for_each_reader(const WinGeo& g, long long h, long long w, Visit visit) {
    for (long long kh = 0; kh < g.KH; ++kh) {
        const long long th = h + g.PH - kh * g.DH;
        if (th < 0 || th % g.SH) continue;
        const long long oh = th / g.SH;
        if (oh >= g.OH) continue;
        for (long long kw = 0; kw < g.KW; ++kw) {
            const long long tw = w + g.PW - kw * g.DW;
            if (tw < 0 || tw % g.SW) continue;
            const long long ow = tw / g.SW;
            if (ow >= g.OW) continue;
            visit(kh, kw, oh, ow);
        }
    }
}
