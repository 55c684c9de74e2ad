"""DDP's gradient buckets and the reducer that all-reduces them while backward runs.

Parameters are grouped, in reverse registration order (roughly the order backward finishes them),
into flat buffers of one dtype and device, each at most ``cap`` bytes (a parameter larger than the
cap gets a bucket of its own). A post-accumulate-grad hook per parameter copies its finished
``.grad``, divided by the world size, into its slot; when every slot of a bucket is filled a
non-blocking all-reduce of it starts. Buckets start strictly in index order, the same on
every rank, so the ranks' collectives always match. The hook that starts the last bucket waits for
all of them and writes the averaged gradients back into ``param.grad`` before backward returns.

Rule for a parameter that got no gradient in an iteration (marked ready by unused-parameter
detection): its slot holds its current ``.grad`` (zeros when it is None), so every rank ends with
the mean of the ranks' local ``.grad``; a parameter whose ``.grad`` is None on every rank keeps None.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import lamina
import numpy as np
from lamina import Tensor
from lamina.autograd.graph import increment_version

from ._local import LocalSum

MB = 1024 * 1024
DEFAULT_CAP_MB = 25
DEFAULT_FIRST_BUCKET_BYTES = 1 * MB  # the first bucket (the last gradients to finish) is small, as torch's


def assign_buckets(params: Sequence[Tensor], caps: Sequence[int]) -> list[list[int]]:
    """Group parameter indices into buckets, reverse order, per (dtype, device); bucket k of a group holds
    at most ``caps[min(k, len(caps) - 1)]`` bytes unless one parameter alone is larger.

    Buckets are listed in the order they were opened, which is the order they are reduced in.
    """
    open_: dict[tuple, tuple[list[int], int, int]] = {}  # key -> (indices, bytes, k)
    opened: list[list[int]] = []
    for i in reversed(range(len(params))):
        p = params[i]
        key = (str(p.dtype), str(p.device))
        size = p.numel() * p.element_size()
        idx, used, k = open_.get(key, (None, 0, 0))
        if idx is not None and used + size > caps[min(k, len(caps) - 1)]:
            idx, used, k = None, 0, k + 1
        if idx is None:
            idx = []
            opened.append(idx)
        idx.append(i)
        open_[key] = (idx, used + size, k)
    return opened


class Bucket:
    """One flat buffer ``flat`` (numel,) holding parameters ``members`` at ``offsets``."""

    def __init__(self, members: list[int], params: Sequence[Tensor], allocate: bool = True) -> None:
        first = params[members[0]]
        self.members = members
        self.offsets: list[int] = []
        n = 0
        for i in members:
            self.offsets.append(n)
            n += params[i].numel()
        with lamina.no_grad():  # no buffer of its own when the gradients meet in shared memory (LocalSum)
            self.flat = lamina.zeros(n if allocate else 0, dtype=first.dtype, device=first.device)
        self.pending = len(members)
        self.work: Any = None


class Reducer:
    """Buckets, hooks and per-iteration bookkeeping of one DistributedDataParallel.

    ``names`` label parameters in errors; ``divide`` is the world size; ``all_reduce(flat)`` starts a
    non-blocking sum and returns a Work; ``all_reduce_sync(t)`` sums in place and waits.
    """

    def __init__(self, params: Sequence[Tensor], names: Sequence[str], caps: Sequence[int], divide: int,
                 all_reduce: Any, all_reduce_sync: Any, gradient_as_bucket_view: bool,
                 batched_grad_copy: bool, local: LocalSum | None = None) -> None:
        self.params = list(params)
        self.names = list(names)
        self.divide = divide
        self._all_reduce, self._all_reduce_sync = all_reduce, all_reduce_sync
        self.as_view, self.batched = gradient_as_bucket_view, batched_grad_copy
        self.local = local  # sum the ranks' shares in shared memory instead of all-reducing the buckets
        self.buckets = [Bucket(m, self.params, local is None) for m in assign_buckets(self.params, caps)]
        self.where: list[tuple[int, int]] = [(0, 0)] * len(self.params)  # param -> (bucket, slot)
        for b, bucket in enumerate(self.buckets):
            for s, i in enumerate(bucket.members):
                self.where[i] = (b, s)
        self.grad_views: list[Tensor] = []  # param.grad as a view of its slot (gradient_as_bucket_view)
        with lamina.no_grad():
            for i, p in enumerate(self.params if local is None else ()):
                b, s = self.where[i]
                off = self.buckets[b].offsets[s]
                self.grad_views.append(self.buckets[b].flat[off:off + p.numel()].view(p.shape))
        self.expect_hooks = False  # between a forward that prepared an iteration and its finalisation
        self.hooks_fired = False
        self.ready = [False] * len(self.params)
        self.has_grad = [False] * len(self.params)
        self.check_unused = False  # all-reduce which parameters have a gradient anywhere (unused detection)
        self.next_bucket = 0
        me = weakref.ref(self)
        self.handles = [p.register_post_accumulate_grad_hook(_hook(me, i)) for i, p in enumerate(self.params)]

    def remove_hooks(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles = []

    # --- one iteration ------------------------------------------------------------------------
    def prepare(self, unused: Sequence[int], check_unused: bool) -> None:
        """Start an iteration (after a forward): parameters ``unused`` are ready already."""
        self.expect_hooks, self.hooks_fired, self.check_unused = True, False, check_unused
        self.ready = [False] * len(self.params)
        self.next_bucket = 0
        for bucket in self.buckets:
            bucket.pending, bucket.work = len(bucket.members), None
        for i in unused:
            self._mark_ready(i)

    def unfinished(self) -> list[int]:
        """Parameters not yet ready in an iteration whose backward has begun reducing (else [])."""
        if not (self.expect_hooks and self.hooks_fired):
            return []
        return [i for i, r in enumerate(self.ready) if not r]

    def abandon(self) -> None:
        self.expect_hooks = False

    def on_grad(self, i: int) -> None:
        """Parameter ``i``'s gradient is complete for this backward (its post-accumulate-grad hook)."""
        if not self.expect_hooks:
            return  # no_sync, no prepared forward, or a second backward after finalisation: local only
        if self.ready[i]:
            raise RuntimeError(
                f"DistributedDataParallel: expected to mark parameter {self.names[i]!r} ready only once per "
                "iteration, but its gradient was completed a second time before the reduction finished. The "
                "parameter is used in several backward passes of one forward (or outside forward), which DDP "
                "cannot reduce; do one backward per forward")
        self.hooks_fired = True
        self._mark_ready(i)
        self._launch_ready()

    def mark_late(self, indices: list[int]) -> None:
        """Parameters found unused as backward starts (reached only from outputs the loss left out)."""
        if not self.expect_hooks:
            return
        for i in indices:
            if not self.ready[i]:
                self._mark_ready(i)
        self.hooks_fired = True
        self._launch_ready()

    def _mark_ready(self, i: int) -> None:
        self.ready[i] = True
        p = self.params[i]
        b, s = self.where[i]
        bucket = self.buckets[b]
        g = p.grad
        self.has_grad[i] = g is not None
        if not self.batched:
            self._copy_in(i, bucket, s, g)
        bucket.pending -= 1

    def _copy_in(self, i: int, bucket: Bucket, s: int, g: Tensor | None) -> None:
        """Put ``g / world size`` into parameter ``i``'s slot: divided before the sum, as torch (fp16 headroom),
        in the same pass as the copy (np.divide dispatches to the array's own module, CuPy's too)."""
        view = self.grad_views[i].array if self.local is None else self.local.target(i)
        if g is None:
            view[...] = 0
        elif self.divide != 1:  # with gradient_as_bucket_view the gradient is in its slot already: in place
            np.divide(view if self.local is None and g is self.grad_views[i] else g.array, self.divide, out=view)
        elif self.local is not None or g is not self.grad_views[i]:
            view[...] = g.array

    def _launch_ready(self) -> None:
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            bucket = self.buckets[self.next_bucket]
            if self.batched:
                for s, i in enumerate(bucket.members):
                    self._copy_in(i, bucket, s, self.params[i].grad)
            if self.local is None:
                bucket.work = self._all_reduce(bucket.flat)
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self._finalize()

    def _finalize(self) -> None:
        if self.local is not None:
            self.local.meet()
        for bucket in self.buckets:
            if bucket.work is not None:
                bucket.work.wait()
                bucket.work = None
        anywhere = [True] * len(self.params)
        if self.check_unused:
            with lamina.no_grad():
                used = lamina.tensor([1 if h else 0 for h in self.has_grad], dtype=lamina.int32,
                                     device=self.params[0].device)
            self._all_reduce_sync(used)
            anywhere = [c > 0 for c in used.tolist()]
        with lamina.no_grad():
            for i, p in enumerate(self.params):
                if not anywhere[i]:
                    continue  # None on every rank: stays None (torch leaves such a gradient untouched)
                if self.local is not None:
                    if p.grad is None:
                        p.grad = lamina.from_numpy(self.local.sum_into(i, None))
                    else:
                        self.local.sum_into(i, p.grad.array)
                        increment_version(p.grad)
                    continue
                view = self.grad_views[i]
                if self.as_view:
                    p.grad = view
                elif p.grad is None:
                    p.grad = view.clone()
                else:
                    p.grad.array[...] = view.array
                    increment_version(p.grad)
        if self.local is not None:
            self.local.next_generation()
        self.expect_hooks = False


def _hook(reducer: weakref.ref, i: int) -> Any:
    def hook(param: Tensor) -> None:
        r = reducer()
        if r is not None:
            r.on_grad(i)

    return hook
