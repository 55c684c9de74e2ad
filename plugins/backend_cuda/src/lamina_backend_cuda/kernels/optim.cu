// Fused optimizer updates for lamina's CUDA backend: one pass over a parameter updates it and
// its state in place, in the parameter's dtype, in the same order of operations as the
// reference (lamina_backend_cuda.kernels.optim, mirroring lamina-optim's Adam and SGD).
// Compiled after common.cuh (lm_sqrt, LM_LOOP), which _source.source() prepends.

// Adam / AdamW. flags: 1 maximize, 2 amsgrad (vmax is read and written), 4 decoupled weight decay.
// decay = 1 - lr * weight_decay (decoupled); lerp weight w = 1 - beta1 and 1 - w come from the host
// in double precision (PyTorch's lerp_ form switches at w = 0.5).
template <typename T>
__device__ void adam_step(T* p, const T* grad, T* m, T* v, T* vmax, long long n, T wd, T decay, T w,
                          T one_minus_w, T beta2, T one_minus_beta2, T bc2_sqrt, T eps, T neg_step_size, int flags) {
    LM_LOOP(n) {
        T g = grad[i];
        T x = p[i];
        if (flags & 1) g = -g;
        if (wd != T(0)) {
            if (flags & 4) x = x * decay;
            else g = g + wd * x;
        }
        T mi = m[i];
        mi = (w < T(0.5)) ? mi + (g - mi) * w : g - (g - mi) * one_minus_w;
        T vi = v[i] * beta2 + (g * g) * one_minus_beta2;
        m[i] = mi;
        v[i] = vi;
        if (flags & 2) {
            const T vm = vmax[i] > vi || vmax[i] != vmax[i] ? vmax[i] : vi;
            vmax[i] = vm;
            vi = vm;
        }
        const T denom = lm_sqrt(vi) / bc2_sqrt + eps;
        p[i] = x + (mi / denom) * neg_step_size;
    }
}

// SGD with momentum. flags: 1 maximize, 2 nesterov, 4 first step (buf = g), 8 momentum != 0.
template <typename T>
__device__ void sgd_step(T* p, const T* grad, T* buf, long long n, T lr, T wd, T momentum, T damp_keep,
                         int flags) {
    LM_LOOP(n) {
        T g = grad[i];
        const T x = p[i];
        if (flags & 1) g = -g;
        if (wd != T(0)) g = g + wd * x;
        if (flags & 8) {
            T b = (flags & 4) ? g : buf[i] * momentum + damp_keep * g;
            buf[i] = b;
            g = (flags & 2) ? g + momentum * b : b;
        }
        p[i] = x - lr * g;
    }
}

#define LM_OPTIM(SUFFIX, T) \
extern "C" __global__ void lm_adam_step_##SUFFIX(T* p, const T* g, T* m, T* v, T* vmax, long long n, T wd, \
        T decay, T w, T one_minus_w, T beta2, T one_minus_beta2, T bc2_sqrt, T eps, T neg_step_size, \
        int flags) { \
    adam_step<T>(p, g, m, v, vmax, n, wd, decay, w, one_minus_w, beta2, one_minus_beta2, bc2_sqrt, eps, neg_step_size, \
                 flags); } \
extern "C" __global__ void lm_sgd_step_##SUFFIX(T* p, const T* g, T* buf, long long n, T lr, T wd, \
        T momentum, T damp_keep, int flags) { \
    sgd_step<T>(p, g, buf, n, lr, wd, momentum, damp_keep, flags); }

LM_OPTIM(f32, float)
LM_OPTIM(f64, double)
