"""``DistributedDataParallel``: one model replica per process, gradients averaged during backward.

Construction checks that every rank holds the same parameters (shapes and dtypes), then broadcasts
rank 0's parameters and buffers. Each forward (in a synchronising iteration) first broadcasts rank
0's buffers, then prepares the reducer (``_buckets``): backward's post-accumulate-grad hooks fill
gradient buckets and all-reduce them while backward goes on, and the averaged gradients are in
``param.grad`` when ``backward()`` returns. ``no_sync()`` turns the hooks off for local accumulation.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import lamina
import lamina.distributed as dist
from lamina import Tensor
from lamina.nn import Module

from ..process_group import resolve
from . import _local
from ._buckets import DEFAULT_CAP_MB, DEFAULT_FIRST_BUCKET_BYTES, MB, Reducer
from ._local import LocalSum
from ._sync import broadcast_coalesced, verify_same_model
from ._unused import detect

__all__ = ["DistributedDataParallel"]

_NAME = "DistributedDataParallel"


def _not_implemented(what: str, hint: str = "") -> NotImplementedError:
    return NotImplementedError(f"{_NAME}: {what} is not implemented in lamina-distributed{hint}")


def _device_index(d: Any) -> int:
    if isinstance(d, int) and not isinstance(d, bool):
        return d
    index = getattr(d, "index", None)
    if index is None and isinstance(d, str):
        index = lamina.device(d).index
    if index is None:
        raise ValueError(f"{_NAME}: expected device_ids entries to be ints or indexed devices, got {d!r}")
    return int(index)


def _to_device(obj: Any, device: str) -> Any:
    if isinstance(obj, Tensor):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_device(o, device) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_device(v, device) for k, v in obj.items()}
    return obj


class DistributedDataParallel(Module):
    """Data parallelism over the processes of ``process_group`` (the default group when None).

    Wrap the model after ``init_process_group`` on every rank; give each rank its own part of the batch
    (``DistributedSampler``). The loss of each rank is averaged: with per-rank batches of B, gradients
    equal those of one process on the ranks' concatenated batch of ``world_size * B`` (for a loss that is
    a mean over the batch).

    Shape: whatever ``module`` takes and returns; the output is ``module``'s, untouched.

    Not implemented (they raise): ``delay_all_reduce_named_params``/``param_to_hook_all_reduce``,
    ``mixed_precision``, ``device_mesh``, ``skip_all_reduce_unused_params=True``, ``join()``,
    ``register_comm_hook()``.
    """

    def __init__(self, module: Module, device_ids: list[Any] | None = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params: Any = None, param_to_hook_all_reduce: Any = None,
                 mixed_precision: Any = None, device_mesh: Any = None, skip_all_reduce_unused_params: bool = False,
                 bucket_cap_mb_list: list[float] | None = None, batched_grad_copy: bool = False,
                 forward_sync_buffers: bool | None = None) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"{_NAME}: expected module to be a lamina.nn.Module, got {type(module).__name__}")
        if (delay_all_reduce_named_params is None) != (param_to_hook_all_reduce is None):
            raise ValueError("delay_all_reduce_named_params and param_to_hook_all_reduce need to be set at the "
                             "same time.")
        if delay_all_reduce_named_params is not None:
            raise _not_implemented("delay_all_reduce_named_params / param_to_hook_all_reduce")
        if mixed_precision is not None:
            raise _not_implemented("mixed_precision", "; cast the model (module.half()) instead")
        if process_group is not None and device_mesh is not None:
            raise RuntimeError("Cannot specify both process_group and device_mesh arguments.")
        if device_mesh is not None:
            raise _not_implemented("device_mesh", "; pass process_group")
        if skip_all_reduce_unused_params:
            raise _not_implemented("skip_all_reduce_unused_params=True")
        if process_group is None and not dist.is_initialized():
            raise ValueError(f"{_NAME}: the default process group has not been initialized, please make sure to "
                             "call lamina.distributed.init_process_group first")
        self.process_group = process_group

        self.parameters_to_ignore = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        named = [(n, p) for n, p in module.named_parameters() if n not in self.parameters_to_ignore]
        if not any(p.requires_grad for _, p in named):
            raise RuntimeError(f"{_NAME} is not needed when a module doesn't have any parameter that requires a "
                               "gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError(f"{_NAME}: device_ids can only be None or contain a single element, got {device_ids}")
        types = {p.device.type for _, p in named}
        if len(types) != 1:
            raise ValueError(f"{_NAME}'s input module must be on the same type of devices, but input module "
                             f"parameters locate in {sorted(types)}.")
        self.device_type = next(iter(types))
        self.is_multi_device_module = len({str(p.device) for _, p in named}) > 1
        if not device_ids or self.device_type == "cpu" or self.is_multi_device_module:
            if device_ids or output_device is not None:
                raise ValueError(
                    f"{_NAME}: device_ids and output_device only work with single-device GPU modules; for CPU "
                    f"and multi-device modules they must be None, but got device_ids {device_ids}, output_device "
                    f"{output_device}, and module parameters on {sorted({str(p.device) for _, p in named})}")
            self.device_ids, self.output_device = None, None
        else:
            self.device_ids = [_device_index(d) for d in device_ids]
            self.output_device = _device_index(device_ids[0] if output_device is None else output_device)
        self.dim = dim
        self.module = module
        self.device = named[0][1].device

        if broadcast_buffers is not None:
            warnings.warn("`broadcast_buffers` is deprecated (as in torch 2.13); use `forward_sync_buffers`. Unlike "
                          "`broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at init.",
                          FutureWarning, stacklevel=2)
        if forward_sync_buffers is not None:
            self.forward_sync_buffers, init_sync_buffers = bool(forward_sync_buffers), True
        else:
            self.forward_sync_buffers = init_sync_buffers = True if broadcast_buffers is None else bool(
                broadcast_buffers)
        if check_reduction:
            warnings.warn(f"The `check_reduction` argument in `{_NAME}` is deprecated (it has no effect); please "
                          "avoid using it.", FutureWarning, stacklevel=2)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.gradient_as_bucket_view = bool(gradient_as_bucket_view)
        self.batched_grad_copy = bool(batched_grad_copy)
        self.static_graph = bool(static_graph)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._static_unused: list[int] | None = None

        if bucket_cap_mb_list:
            caps = [int(mb * MB) for mb in bucket_cap_mb_list]
        elif bucket_cap_mb is None:
            caps = [DEFAULT_FIRST_BUCKET_BYTES, DEFAULT_CAP_MB * MB]
        else:
            if not bucket_cap_mb > 0:
                raise ValueError(f"{_NAME}: expected bucket_cap_mb > 0, got {bucket_cap_mb}")
            caps = [int(bucket_cap_mb * MB)]
        self.bucket_bytes_cap = max(caps)

        if init_sync:
            verify_same_model(dist, process_group, [n for n, _ in named], [p for _, p in named])
            broadcast_coalesced(dist, process_group, self._src(), [p for _, p in named], count_write=True)
            if init_sync_buffers and self._buffers_to_sync():
                broadcast_coalesced(dist, process_group, self._src(), self._buffers_to_sync(), count_write=False)

        grads = [(n, p) for n, p in named if p.requires_grad]
        world = dist.get_world_size(process_group)
        group = process_group

        def all_reduce(t: Tensor) -> Any:
            return dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group, async_op=True)

        def all_reduce_sync(t: Tensor) -> None:
            dist.all_reduce(t, op=dist.ReduceOp.SUM, group=group)

        params = [p for _, p in grads]
        self.reducer = Reducer(params, [n for n, _ in grads], caps, world, all_reduce, all_reduce_sync,
                               self.gradient_as_bucket_view, self.batched_grad_copy,
                               self._shared_memory_sum(params, world))
        weakref.finalize(self, self.reducer.remove_hooks)

    def _shared_memory_sum(self, params: Sequence[Tensor], world: int) -> LocalSum | None:
        """The shared-memory gradient sum (``_local.py``) where it applies: more than one rank, all on this
        machine, CPU parameters, ``gradient_as_bucket_view=False``, not turned off by LAMINA_DDP_SHARED_MEMORY."""
        if world < 2 or not params or self.gradient_as_bucket_view or not _local.wanted():
            return None
        if any(p.device.type != "cpu" for p in params):
            return None
        pg = resolve(self.process_group)
        if pg is None:
            return None
        offsets, nbytes = _local.layout(params)
        slots = pg.communicator("cpu").shared_slots(nbytes)  # collective: the same answer on every rank
        if slots is None:
            return None
        return LocalSum(slots, params, offsets, pg.rank(), world,
                        lambda req: pg.wait([req], f"{_NAME} (the ranks' gradients, in shared memory)"))

    # --- forward ------------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        inputs, kwargs = self._pre_forward(*inputs, **kwargs)
        return self._post_forward(self.module(*inputs, **kwargs))

    def _pre_forward(self, *inputs: Any, **kwargs: Any) -> tuple[tuple, dict]:
        if lamina.is_grad_enabled() and self.require_backward_grad_sync:
            left = self.reducer.unfinished()
            if left:
                self.reducer.abandon()
                self._raise_unfinished(left)
        if self.will_sync_module_buffers():
            self._sync_buffers()
        if self.device_ids:
            device = f"{self.device_type}:{self.device_ids[0]}"
            inputs, kwargs = _to_device(inputs, device), _to_device(kwargs, device)
        return inputs, kwargs

    def _post_forward(self, output: Any) -> Any:
        if lamina.is_grad_enabled() and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            find = self.find_unused_parameters or self.static_graph
            unused: list[int] = []
            if self.static_graph and self._static_unused is not None:
                unused = self._static_unused
            elif self.static_graph:  # the first iteration's graph stands for all of them
                _, unused = detect(output, self.reducer.params, self.reducer.mark_late)
                self._static_unused = unused
            elif find:
                output, unused = detect(output, self.reducer.params, self.reducer.mark_late)
            self.reducer.prepare(unused, check_unused=find)
        else:
            self.require_forward_param_sync = False
        return output

    def _raise_unfinished(self, left: list[int]) -> None:
        names = ", ".join(self.reducer.names[i] for i in left)
        indices = " ".join(str(i) for i in left)
        raise RuntimeError(
            "Expected to have finished reduction in the prior iteration before starting a new one. "
            f"{_NAME}: on rank {dist.get_rank(self.process_group)}, parameters {names} (indices {indices}) did "
            "not receive a gradient in the last backward, so their buckets were never reduced. If the module "
            f"has parameters that are not used in producing the loss, pass find_unused_parameters=True to {_NAME}"
            "; with it, a parameter is still expected to get a gradient when the graph of an output the loss uses "
            "reaches it (an op that returns no gradient for it cannot be detected).")

    # --- buffers ------------------------------------------------------------------------------
    def _buffers_to_sync(self) -> list[Tensor]:
        return [b for n, b in self.module.named_buffers() if n not in self.parameters_to_ignore]

    def will_sync_module_buffers(self) -> bool:
        """Whether the next forward broadcasts rank 0's buffers."""
        return self.require_forward_param_sync and self.forward_sync_buffers and bool(self._buffers_to_sync())

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = bool(value)

    def _sync_buffers(self) -> None:
        broadcast_coalesced(dist, self.process_group, self._src(), self._buffers_to_sync(), count_write=False)

    def _src(self) -> int:
        """The global rank of the process group's rank 0 (the authoritative replica)."""
        if self.process_group is None:
            return 0
        return dist.get_global_rank(self.process_group, 0)

    # --- gradient synchronisation -------------------------------------------------------------
    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Forward/backward inside accumulate gradients locally; the first synchronised backward after the
        context all-reduces the accumulated sum (run the forward inside the context, as in torch)."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def join(self, *args: Any, **kwargs: Any) -> Any:
        raise _not_implemented("join() (uneven inputs across ranks)",
                               "; give every rank the same number of batches (DistributedSampler does)")

    def register_comm_hook(self, state: object, hook: Any) -> None:
        raise _not_implemented("register_comm_hook()", "; gradients are averaged with all_reduce")

    def _remove_autograd_hooks(self) -> None:
        self.reducer.remove_hooks()

    @staticmethod
    def _set_params_and_buffers_to_ignore_for_model(module: Module, params_and_buffers_to_ignore: Any) -> None:
        """Names (as in ``module.named_parameters()``/``named_buffers()``) that DDP neither syncs nor reduces."""
        module._ddp_params_and_buffers_to_ignore = list(params_and_buffers_to_ignore)
