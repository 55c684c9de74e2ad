// Fused pointwise activations (forward and backward) for lamina's CUDA backend.
// Compiled after common.cuh (math overloads, LM_LOOP), which _source.source() prepends.
// Each kernel is a grid-stride loop over n contiguous elements; _f32 / _f64 name the dtype.

// relu keeps NaN (like maximum(x, 0)); sigmoid splits by sign so exp never overflows.
template <typename T> __device__ __forceinline__ T relu_of(T v) { return (v > T(0) || v != v) ? v : T(0); }
template <typename T> __device__ __forceinline__ T sigmoid_of(T v) {
    const T e = lm_exp(v >= T(0) ? -v : v);
    return v >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

// y = f(x)
#define LM_FORWARD(NAME, T, EXPR) \
extern "C" __global__ void NAME(const T* __restrict__ x, T* __restrict__ y, long long n) { \
    LM_LOOP(n) { const T v = x[i]; y[i] = (EXPR); } }

// dx = dy * f'(y), written with the saved output y exactly as the reference backward does
#define LM_BACKWARD(NAME, T, EXPR) \
extern "C" __global__ void NAME(const T* __restrict__ dy, const T* __restrict__ y, T* __restrict__ dx, \
                                long long n) { \
    LM_LOOP(n) { const T g = dy[i]; const T u = y[i]; dx[i] = (EXPR); } }

LM_FORWARD(lm_relu_fwd_f32, float, relu_of(v))
LM_FORWARD(lm_relu_fwd_f64, double, relu_of(v))
LM_FORWARD(lm_sigmoid_fwd_f32, float, sigmoid_of(v))
LM_FORWARD(lm_sigmoid_fwd_f64, double, sigmoid_of(v))
LM_FORWARD(lm_tanh_fwd_f32, float, lm_tanh(v))
LM_FORWARD(lm_tanh_fwd_f64, double, lm_tanh(v))

LM_BACKWARD(lm_relu_bwd_f32, float, g * (float)(u > 0.0f))
LM_BACKWARD(lm_relu_bwd_f64, double, g * (double)(u > 0.0))
LM_BACKWARD(lm_sigmoid_bwd_f32, float, g * u * (1.0f - u))
LM_BACKWARD(lm_sigmoid_bwd_f64, double, g * u * (1.0 - u))
LM_BACKWARD(lm_tanh_bwd_f32, float, g * (1.0f - u * u))
LM_BACKWARD(lm_tanh_bwd_f64, double, g * (1.0 - u * u))
