// The pointwise part of one LSTM / GRU time step (forward and backward) for lamina's CUDA backend.
// The GEMMs stay in cuBLAS; each kernel replaces the ~10 elementwise launches of a step with one.
// One thread per (row, unit) of the step's n rows and H units; rows are contiguous. Gate layout
// and formulas follow lamina-layers-recurrent's LSTMLayer / GRULayer exactly: sigmoid(v) is
// computed as tanh(v / 2) / 2 + 1/2 (overflow-free), the LSTM's i, f, o pre-activations arriving
// already halved (pre-scaled weights). Optional outputs are skipped when their pointer flag is 0.
// Compiled after common.cuh (lm_tanh, LM_LOOP), which _source.source() prepends.

// gates (n, 4H): pre-activations in, activations i, f, g, o out. c (n, H): c_{t-1} in, c_t out.
// c_prev (n, H) <- c_{t-1} and tc (n, H) <- tanh(c_t) when save; out (n, H) <- o * tanh(c_t);
// h (n, H) <- the same when set_h (no projection).
template <typename T>
__device__ void lstm_step_forward(T* __restrict__ gates, T* __restrict__ c, T* __restrict__ c_prev,
                                  T* __restrict__ tc, T* __restrict__ out, T* __restrict__ h, long long n,
                                  long long H, int save, int set_h) {
    LM_LOOP(n * H) {
        const long long row = i / H, j = i % H;
        T* g = gates + row * 4 * H;
        const T gi = lm_tanh(g[j]) * T(0.5) + T(0.5);
        const T gf = lm_tanh(g[H + j]) * T(0.5) + T(0.5);
        const T gg = lm_tanh(g[2 * H + j]);
        const T go = lm_tanh(g[3 * H + j]) * T(0.5) + T(0.5);
        g[j] = gi; g[H + j] = gf; g[2 * H + j] = gg; g[3 * H + j] = go;
        const T cp = c[i];
        T cn = cp * gf;
        cn += gi * gg;
        c[i] = cn;
        const T t = lm_tanh(cn);
        if (save) { c_prev[i] = cp; tc[i] = t; }
        const T y = go * t;
        out[i] = y;
        if (set_h) h[i] = y;
    }
}

// dr (n, H): gradient of o * tanh(c_t) (plus dy (n, H) when has_dy); dc (n, H): carry in and out;
// dgates (n, 4H) <- gradients of the (unscaled) gate pre-activations.
template <typename T>
__device__ void lstm_step_backward(const T* __restrict__ gates, const T* __restrict__ c_prev,
                                   const T* __restrict__ tc, const T* __restrict__ dr_in, const T* __restrict__ dy,
                                   T* __restrict__ dc, T* __restrict__ dgates, long long n, long long H, int has_dy) {
    LM_LOOP(n * H) {
        const long long row = i / H, j = i % H;
        const T* g = gates + row * 4 * H;
        T* d = dgates + row * 4 * H;
        const T gi = g[j], gf = g[H + j], gg = g[2 * H + j], go = g[3 * H + j];
        const T t = tc[i];
        const T dr = has_dy ? dr_in[i] + dy[i] : dr_in[i];
        T dct = dr * (go * (T(1) - t * t));
        dct += dc[i];
        d[j] = dct * (gg * ((T(1) - gi) * gi));
        d[H + j] = dct * (c_prev[i] * ((T(1) - gf) * gf));
        d[2 * H + j] = dct * (gi * (T(1) - gg * gg));
        d[3 * H + j] = dr * (t * ((T(1) - go) * go));
        dc[i] = dct * gf;
    }
}

// gates (n, 3H): input projections (r, z, n) in, activations out; gh (n, 3H) = h W_hh^T + b_hh.
// h (n, H): h_{t-1} in, h_t out; y (n, H) <- h_t; h_prev, ghn (n, H) <- h_{t-1}, gh_n when save.
template <typename T>
__device__ void gru_step_forward(T* __restrict__ gates, const T* __restrict__ gh, T* __restrict__ h,
                                 T* __restrict__ y, T* __restrict__ h_prev, T* __restrict__ ghn, long long n,
                                 long long H, int save) {
    LM_LOOP(n * H) {
        const long long row = i / H, j = i % H;
        T* g = gates + row * 3 * H;
        const T* u = gh + row * 3 * H;
        const T r = lm_tanh((g[j] + u[j]) * T(0.5)) * T(0.5) + T(0.5);
        const T z = lm_tanh((g[H + j] + u[H + j]) * T(0.5)) * T(0.5) + T(0.5);
        const T hn = u[2 * H + j];
        const T nt = lm_tanh(g[2 * H + j] + r * hn);
        g[j] = r; g[H + j] = z; g[2 * H + j] = nt;
        const T hp = h[i];
        if (save) { h_prev[i] = hp; ghn[i] = hn; }
        T yt = (hp - nt) * z;
        yt += nt;
        y[i] = yt;
        h[i] = yt;
    }
}

// dh (n, H): carry in (plus dy when has_dy), out as dh_t * z (the caller adds dgh @ W_hh);
// dgi, dgh (n, 3H) <- gradients of the input and hidden projections.
template <typename T>
__device__ void gru_step_backward(const T* __restrict__ gates, const T* __restrict__ h_prev, const T* __restrict__ ghn,
                                  T* __restrict__ dh, const T* __restrict__ dy, T* __restrict__ dgi,
                                  T* __restrict__ dgh, long long n, long long H, int has_dy) {
    LM_LOOP(n * H) {
        const long long row = i / H, j = i % H;
        const T* g = gates + row * 3 * H;
        const T r = g[j], z = g[H + j], nt = g[2 * H + j];
        const T dht = has_dy ? dh[i] + dy[i] : dh[i];
        const T dn = dht * ((T(1) - z) * (T(1) - nt * nt));
        const T dr = dn * (ghn[i] * (r * (T(1) - r)));
        const T dz = dht * ((h_prev[i] - nt) * (z * (T(1) - z)));
        T* a = dgi + row * 3 * H;
        T* b = dgh + row * 3 * H;
        a[j] = dr; a[H + j] = dz; a[2 * H + j] = dn;
        b[j] = dr; b[H + j] = dz; b[2 * H + j] = dn * r;
        dh[i] = dht * z;
    }
}

#define LM_RNN(SUFFIX, T) \
extern "C" __global__ void lm_lstm_step_fwd_##SUFFIX(T* gates, T* c, T* c_prev, T* tc, T* out, T* h, long long n, \
        long long H, int save, int set_h) { lstm_step_forward<T>(gates, c, c_prev, tc, out, h, n, H, save, set_h); } \
extern "C" __global__ void lm_lstm_step_bwd_##SUFFIX(const T* gates, const T* c_prev, const T* tc, const T* dr, \
        const T* dy, T* dc, T* dgates, long long n, long long H, int has_dy) { \
    lstm_step_backward<T>(gates, c_prev, tc, dr, dy, dc, dgates, n, H, has_dy); } \
extern "C" __global__ void lm_gru_step_fwd_##SUFFIX(T* gates, const T* gh, T* h, T* y, T* h_prev, T* ghn, \
        long long n, long long H, int save) { gru_step_forward<T>(gates, gh, h, y, h_prev, ghn, n, H, save); } \
extern "C" __global__ void lm_gru_step_bwd_##SUFFIX(const T* gates, const T* h_prev, const T* ghn, T* dh, \
        const T* dy, T* dgi, T* dgh, long long n, long long H, int has_dy) { \
    gru_step_backward<T>(gates, h_prev, ghn, dh, dy, dgi, dgh, n, H, has_dy); }

LM_RNN(f32, float)
LM_RNN(f64, double)
