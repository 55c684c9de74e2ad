"""DataLoader worker faults: errors re-raised with the worker's traceback, dead workers, timeouts,
and no orphan process or shared memory after break, del, gc, an exception or Ctrl-C."""

from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import threading

import lamina
import pytest
from _dataloader_procs import child_pids, wait_until
from lamina.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info

FORK = "fork"


class Failing(Dataset):
    """Raises ``exc`` for sample ``bad``; with ``kill``, the worker SIGKILLs itself there instead."""

    def __init__(self, n=12, bad=5, exc=None, kill=False, block=False):
        self.n, self.bad, self.exc, self.kill, self.block = n, bad, exc, kill, block

    def __getitem__(self, i):
        if i == self.bad:
            if self.kill:
                os.kill(os.getpid(), signal.SIGKILL)
            if self.block:
                threading.Event().wait(60)  # a stuck sample (the worker is terminated long before)
            if self.exc is not None:
                raise self.exc
        return lamina.tensor([float(i)])

    def __len__(self):
        return self.n


class TwoArgError(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class BrokenStream(IterableDataset):
    def __iter__(self):
        info = get_worker_info()
        yield from range(3)
        raise OSError(f"stream of worker {info.id} broke")


class Interrupting(Dataset):
    """Sample ``bad`` sends SIGINT to the main process (as Ctrl-C would) while it waits for a batch."""

    def __getitem__(self, i):
        if i == 6:
            os.kill(os.getppid(), signal.SIGINT)
        return i

    def __len__(self):
        return 40


def loader(dataset, **kwargs):
    kwargs = dict(dict(batch_size=4, num_workers=2, multiprocessing_context=FORK), **kwargs)
    return DataLoader(dataset, **kwargs)


def test_a_worker_error_is_reraised_with_its_type_traceback_and_sample_index(no_orphans):
    before = child_pids()
    with pytest.raises(ValueError) as info:
        list(loader(Failing(exc=ValueError("bad pixel"))))
    assert child_pids() == before  # stopped before raising, though the traceback holds the iterator
    message = str(info.value)
    assert message.startswith("Caught ValueError in DataLoader worker process 1 "
                              "(sample index 5 of batch [4, 5, 6, 7]).\nOriginal Traceback")
    assert "ValueError: bad pixel" in message and "in __getitem__" in message and __file__ in message


def test_the_error_prefix_matches_pytorch():
    torch = pytest.importorskip("torch")
    import sys

    try:  # PyTorch's worker wraps an exception so; its DataLoader is slow to stop after an error
        raise ValueError("bad pixel")
    except ValueError:
        wrapped = torch._utils.ExceptionWrapper(sys.exc_info(), where="in DataLoader worker process 1")
    with pytest.raises(ValueError) as expected:
        wrapped.reraise()
    with pytest.raises(ValueError) as got:
        list(loader(Failing(exc=ValueError("bad pixel"))))
    assert str(got.value).split(" (")[0] == str(expected.value).split(".\n")[0]
    assert str(got.value).splitlines()[1] == str(expected.value).splitlines()[1] == \
        "Original Traceback (most recent call last):"


@pytest.mark.parametrize("exc, raised, where", [
    (KeyError("missing"), KeyError, "sample index 5 of batch [4, 5, 6, 7]"),
    (TwoArgError("a", "b"), RuntimeError, "sample index 5 of batch [4, 5, 6, 7]"),  # cannot be rebuilt from a message
    (IndexError("out"), IndexError, "sample index 5"),
])
def test_error_types_are_kept_where_they_can_be(no_orphans, exc, raised, where):
    kwargs = dict(batch_size=None) if where == "sample index 5" else {}
    with pytest.raises(raised) as info:
        list(loader(Failing(exc=exc), **kwargs))
    assert f"({where}).\nOriginal Traceback" in str(info.value)
    assert type(exc).__name__ in str(info.value)


def test_an_iterable_dataset_error_names_the_position_in_the_stream(no_orphans):
    pattern = r"(?s)worker process 0 \(sample 3 of this worker's stream.*stream of worker 0 broke"
    with pytest.raises(OSError, match=pattern):
        list(loader(BrokenStream(), batch_size=2))


def test_worker_init_fn_errors_are_reraised(no_orphans):
    def init(worker_id):
        raise ArithmeticError(f"cannot init {worker_id}")

    with pytest.raises(ArithmeticError, match=r"Caught ArithmeticError in DataLoader worker process 0\."):
        list(loader(Failing(), worker_init_fn=init))


def test_a_killed_worker_raises_instead_of_hanging(no_orphans):
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly: "
                                           r"worker 1 \(pid \d+\) killed by signal SIGKILL"):
        list(loader(Failing(kill=True)))


def test_timeout_raises_like_pytorch(no_orphans):
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0.3 seconds$"):
        list(loader(Failing(block=True), timeout=0.3))


def children_during(scenario):
    """Run ``scenario`` (given a started iterator's worker pids) and return the workers still alive after."""
    before = child_pids()
    holder = {}

    def started(it):
        holder["pids"] = {p.pid for p in it._workers}
        assert holder["pids"] <= child_pids() - before

    scenario(started)
    gc.collect()
    assert wait_until(lambda: not holder["pids"] & child_pids())
    return child_pids() - before


def scenario_break(started):
    it = iter(loader(Failing(40)))
    started(it)
    for _batch in it:
        break


def scenario_del(started):
    it = iter(loader(Failing(40)))
    started(it)
    next(it)
    del it


def scenario_gc_cycle(started):
    it = iter(loader(Failing(40), persistent_workers=True))
    started(it)
    next(it)
    cycle = [it]
    cycle.append(cycle)
    del it, cycle


def scenario_exception_in_loop(started):
    with pytest.raises(ZeroDivisionError):
        it = iter(loader(Failing(40)))
        started(it)
        for _batch in it:
            raise ZeroDivisionError("in the loop body")


def scenario_keyboard_interrupt_in_loop(started):
    with pytest.raises(KeyboardInterrupt):
        it = iter(loader(Failing(40)))
        started(it)
        for _batch in it:
            raise KeyboardInterrupt


def scenario_ctrl_c_while_waiting(started):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGINT is handled in the main thread only")
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            it = iter(loader(Interrupting(), batch_size=2))
            started(it)
            for _batch in it:
                pass
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("scenario", [scenario_break, scenario_del, scenario_gc_cycle, scenario_exception_in_loop,
                                      scenario_keyboard_interrupt_in_loop, scenario_ctrl_c_while_waiting],
                         ids=lambda f: f.__name__.removeprefix("scenario_"))
def test_no_orphan_workers(no_orphans, scenario):
    assert children_during(scenario) == set()


KILLED_MAIN = """
import os, signal
import lamina
from lamina.utils.data import DataLoader, TensorDataset
loader = DataLoader(TensorDataset(lamina.arange(100)), batch_size=2, num_workers=2, persistent_workers=True,
                    multiprocessing_context="fork")
it = iter(loader)
next(it)
print(*(p.pid for p in it._workers), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def running(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# killed before the workers (spawned: they still import lamina) have even read who their parent is
KILLED_BEFORE_WORKERS_START = """
import os, signal
import lamina
from lamina.utils.data import DataLoader, TensorDataset
loader = DataLoader(TensorDataset(lamina.arange(100)), batch_size=2, num_workers=2, multiprocessing_context="spawn")
it = iter(loader)
print(*(p.pid for p in it._workers), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.parametrize("script", [KILLED_MAIN, KILLED_BEFORE_WORKERS_START], ids=["running", "starting"])
def test_workers_exit_when_the_main_process_is_killed(tmp_path, script):
    if not os.path.isdir("/proc"):
        pytest.skip("reads /proc")
    out, err = tmp_path / "pids", tmp_path / "stderr"
    with open(out, "w") as f, open(err, "w") as g:  # files, not pipes: orphaned workers would keep a pipe open
        done = subprocess.run([sys.executable, "-c", script], stdout=f, stderr=g, timeout=120)
    assert done.returncode == -signal.SIGKILL, err.read_text()
    pids = [int(pid) for pid in out.read_text().split()]
    assert len(pids) == 2
    assert wait_until(lambda: not any(running(pid) for pid in pids), 15), "workers outlived their main process"
