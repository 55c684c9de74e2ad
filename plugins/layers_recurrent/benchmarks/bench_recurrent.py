"""lamina vs PyTorch CPU, one thread, same run: a training step (forward + backward of the output sum).

Run (from the repository root):
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python plugins/layers_recurrent/benchmarks/bench_recurrent.py
The two libraries alternate step by step (a busy machine slows both alike); prints the best CPU time
per step of each and the median of the per-pair ratios lamina / torch. Gradients go to the parameters
(the input does not require grad), as in training.
"""

from __future__ import annotations

import statistics
import time

import lamina
import numpy as np
import torch

CASES = [
    ("LSTM", dict(input_size=100, hidden_size=128, num_layers=2, batch_first=True)),
    ("GRU", dict(input_size=100, hidden_size=128, num_layers=2, batch_first=True)),
    ("LSTM", dict(input_size=100, hidden_size=128, num_layers=2, batch_first=True, bidirectional=True)),
    ("RNN", dict(input_size=100, hidden_size=128, num_layers=2, batch_first=True)),
    ("LSTM", dict(input_size=100, hidden_size=128, num_layers=1, batch_first=True, proj_size=64)),
]
SHAPE = (32, 50, 100)


def _timed(fn) -> float:
    # CPU time of this process: on a shared machine wall time mostly measures the neighbours
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main(reps: int = 21) -> None:
    torch.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal(SHAPE).astype("float32")
    for name, kw in CASES:
        lm = getattr(lamina.nn, name)(**kw)
        tm = getattr(torch.nn, name)(**kw)
        tm.load_state_dict({k: torch.from_numpy(np.array(v.detach().array)) for k, v in lm.state_dict().items()})
        lx, tx = lamina.tensor(x), torch.tensor(x)

        def lam_step(lm=lm, lx=lx):
            lm.zero_grad()
            lm(lx)[0].sum().backward()

        def torch_step(tm=tm, tx=tx):
            tm.zero_grad()
            tm(tx)[0].sum().backward()

        lam_step(), torch_step()
        pairs = [(_timed(lam_step), _timed(torch_step)) for _ in range(reps)]
        tl, tt = min(p[0] for p in pairs), min(p[1] for p in pairs)
        ratio = statistics.median(p[0] / p[1] for p in pairs)
        print(f"{name}({', '.join(f'{k}={v}' for k, v in kw.items())}) on {SHAPE}: lamina {tl * 1e3:.2f} ms, "
              f"torch {tt * 1e3:.2f} ms (best of {reps}); median ratio {ratio:.2f}x, ratio of bests {tl / tt:.2f}x")


if __name__ == "__main__":
    main()
