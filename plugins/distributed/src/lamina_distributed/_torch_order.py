"""The permutation PyTorch's ``DistributedSampler`` draws, so that every rank of a lamina job sees the
same samples, in the same order, as a PyTorch job with the same ``seed`` and epoch.

torch's ``randperm(n, generator=g)`` on the CPU, with ``g.manual_seed(s)``: a Mersenne Twister
(MT19937, seeded by the classic ``init_genrand`` with ``s`` mod 2**32) drives a Fisher-Yates pass,
``swap(r[i], r[i + u_i % (n - i)])`` for i = 0 .. n-2, where ``u_i`` is the next 32-bit output (two
outputs joined high word first once n no longer fits 32-bit draws comfortably). NumPy's ``MT19937``
with its legacy seeding is the same engine. lamina's own ``randperm`` keeps lamina's generator (its
streams are not torch's); only the sampler needs torch's order.
"""

from __future__ import annotations

import numpy as np

_SMALL = (2**32 - 1) // 20  # below this torch draws one 32-bit word per swap


def torch_randperm(n: int, seed: int) -> list[int]:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()``, without torch.

    Shape: () -> (n,)
    """
    engine = np.random.MT19937()
    engine._legacy_seeding(seed & 0xFFFFFFFF)
    order = list(range(n))
    if n < 2:
        return order
    if n < _SMALL:
        draws = engine.random_raw(n - 1).tolist()
    else:  # unverified against torch for such sizes (2e8 items); same engine, 64-bit words
        raw = engine.random_raw(2 * (n - 1)).astype(np.uint64)
        draws = ((raw[0::2] << np.uint64(32)) | raw[1::2]).tolist()
    for i, u in enumerate(draws):
        j = i + u % (n - i)
        order[i], order[j] = order[j], order[i]
    return order
