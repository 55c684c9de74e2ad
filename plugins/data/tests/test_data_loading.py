"""lamina.utils.data: datasets, random_split, samplers, DataLoader and default_collate (PyTorch as oracle)."""

from __future__ import annotations

import collections
import math

import lamina
import numpy as np
import pytest
from lamina.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    random_split,
)
from lamina.utils.data import dataloader as dataloader_module


@pytest.fixture
def torch():
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch.utils.data")
    return torch


Point = collections.namedtuple("Point", ["x", "y"])


class Range(Dataset):
    def __init__(self, n):
        self.n = n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i

    def __len__(self):
        return self.n


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def tensor_dataset(n=10, seed=0):
    rng = np.random.default_rng(seed)
    return TensorDataset(lamina.tensor(rng.standard_normal((n, 3)).astype(np.float32)),
                         lamina.arange(n))


def as_lists(batches):
    return [[t.tolist() for t in b] for b in batches]


# --- datasets ---------------------------------------------------------------------------------
def test_tensor_dataset():
    ds = tensor_dataset(5)
    assert len(ds) == 5
    x, y = ds[3]
    assert x.shape == (3,) and y.item() == 3
    with pytest.raises(lamina.ShapeError, match=r"equal first dimension \(N\), got sizes \[5, 4\]"):
        TensorDataset(lamina.zeros(5, 2), lamina.zeros(4))
    with pytest.raises(ValueError, match="0-d tensor"):
        TensorDataset(lamina.tensor(1.0))


def test_concat_and_subset_match_pytorch(torch):
    from torch.utils import data as tdata

    lo = ConcatDataset([Range(3), Range(0), Range(4)])
    to = tdata.ConcatDataset([Range(3), Range(0), Range(4)])
    assert lo.cumulative_sizes == to.cumulative_sizes and len(lo) == len(to) == 7
    assert [lo[i] for i in range(-7, 7)] == [to[i] for i in range(-7, 7)]
    with pytest.raises(IndexError):
        lo[7]
    with pytest.raises(ValueError, match="should not exceed dataset length"):
        lo[-8]
    assert isinstance(Range(2) + Range(3), ConcatDataset)
    with pytest.raises(TypeError, match="IterableDataset"):
        ConcatDataset([Stream(3)])
    sub = Subset(Range(10), [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [7, 2, 5] and sub[[0, 2]] == [7, 5]


# --- random_split -----------------------------------------------------------------------------
SPLITS = [(10, [0.3, 0.7]), (10, [0.33, 0.33, 0.34]), (7, [0.5, 0.5]), (11, [0.1, 0.2, 0.3, 0.4]),
          (10, [3, 7]), (5, [1 / 3, 1 / 3, 1 / 3]), (100, [0.8, 0.1, 0.1])]


@pytest.mark.parametrize("n, lengths", SPLITS)
def test_random_split_lengths_match_pytorch(torch, n, lengths):
    from torch.utils import data as tdata

    expected = [len(s) for s in tdata.random_split(Range(n), lengths, generator=torch.Generator().manual_seed(0))]
    parts = random_split(Range(n), lengths, generator=lamina.Generator().manual_seed(0))
    assert [len(p) for p in parts] == expected
    assert sorted(i for p in parts for i in p.indices) == list(range(n))


def test_random_split_errors_and_warnings(torch):
    from torch.utils import data as tdata

    for bad in ([3, 3], [0.5, 1.5, -1.0]):
        with pytest.raises(ValueError) as expected:
            tdata.random_split(Range(10), bad)
        with pytest.raises(ValueError) as got:
            random_split(Range(10), bad)
        assert str(got.value).split("!")[0].split(",")[0] == str(expected.value).split("!")[0].split(",")[0]
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        tdata.random_split(Range(2), [0.5, 0.0, 0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Range(2), [0.5, 0.0, 0.5])


def test_random_split_is_seeded():
    g = lambda: lamina.Generator().manual_seed(3)  # noqa: E731
    a = [p.indices for p in random_split(Range(20), [0.5, 0.5], generator=g())]
    b = [p.indices for p in random_split(Range(20), [0.5, 0.5], generator=g())]
    assert a == b
    lamina.manual_seed(1)
    c = [p.indices for p in random_split(Range(20), [10, 10])]
    lamina.manual_seed(1)
    d = [p.indices for p in random_split(Range(20), [10, 10])]
    assert c == d and c != [list(range(10)), list(range(10, 20))]


# --- DataLoader length and batches -------------------------------------------------------------
@pytest.mark.parametrize("n, batch_size, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True), (9, 3, False),
                                                      (2, 5, True), (2, 5, False), (7, 1, False)])
def test_batch_counts_match_pytorch(torch, n, batch_size, drop_last):
    from torch.utils import data as tdata

    tl = tdata.DataLoader(Range(n), batch_size=batch_size, drop_last=drop_last)
    ll = DataLoader(Range(n), batch_size=batch_size, drop_last=drop_last)
    assert len(ll) == len(tl) == (n // batch_size if drop_last else math.ceil(n / batch_size))
    assert [b.tolist() for b in ll] == [b.tolist() for b in tl]
    ds = tensor_dataset(n)
    batches = list(DataLoader(ds, batch_size=batch_size, drop_last=drop_last, shuffle=True))
    assert len(batches) == len(tl) and [len(b[1]) for b in batches] == [len(b) for b in tl]
    tstream = tdata.DataLoader(StreamT(torch, n), batch_size=batch_size, drop_last=drop_last)
    lstream = DataLoader(Stream(n), batch_size=batch_size, drop_last=drop_last)
    assert len(lstream) == len(tstream)
    assert [b.tolist() for b in lstream] == [b.tolist() for b in tstream]


def StreamT(torch, n):
    from torch.utils import data as tdata

    class S(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(n))

        def __len__(self):
            return n

    return S()


def test_dataloader_yields_the_dataset_in_order():
    ds = tensor_dataset(10)
    batches = list(DataLoader(ds, batch_size=4))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), ds.tensors[0].numpy())
    assert all(isinstance(b, list) and b[0].dtype == lamina.float32 and b[1].dtype == lamina.int64 for b in batches)
    it = iter(DataLoader(ds, batch_size=4))
    assert len(it) == 3


def test_batch_size_none_converts_single_samples():
    loader = DataLoader([np.arange(3), np.ones(2, dtype=np.float32)], batch_size=None)
    out = list(loader)
    assert [o.dtype for o in out] == [lamina.int64, lamina.float32] and len(loader) == 2


def test_custom_samplers():
    loader = DataLoader(Range(10), sampler=[9, 8, 7, 1], batch_size=3)
    assert [b.tolist() for b in loader] == [[9, 8, 7], [1]]
    loader = DataLoader(Range(10), batch_sampler=[[1, 2], [5]])
    assert [b.tolist() for b in loader] == [[1, 2], [5]] and len(loader) == 2
    ds = tensor_dataset(10)
    fast = DataLoader(ds, batch_sampler=[[3, 1], [0]])  # fast path with a plain list of batches
    assert [b[1].tolist() for b in fast] == [[3, 1], [0]]


DATALOADER_ERRORS = [
    dict(sampler=[0, 1], shuffle=True),
    dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], drop_last=True),
    dict(batch_size=None, drop_last=True),
    dict(num_workers=-1),
    dict(prefetch_factor=2),
    dict(persistent_workers=True),
    dict(timeout=-1),
]


@pytest.mark.parametrize("kwargs", DATALOADER_ERRORS, ids=lambda k: ",".join(k))
def test_dataloader_argument_errors_match_pytorch(torch, kwargs):
    from torch.utils import data as tdata

    with pytest.raises(Exception) as expected:
        tdata.DataLoader(Range(4), **kwargs)
    with pytest.raises(type(expected.value)) as got:
        DataLoader(Range(4), **kwargs)
    assert str(got.value).split(" ")[:3] == str(expected.value).split(" ")[:3]


def test_iterable_dataset_rejects_shuffle_and_samplers(torch):
    from torch.utils import data as tdata

    for kwargs in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        with pytest.raises(ValueError) as expected:
            tdata.DataLoader(StreamT(torch, 3), **kwargs)
        with pytest.raises(ValueError) as got:
            DataLoader(Stream(3), **kwargs)
        assert str(got.value).split(",")[0] == str(expected.value).split(",")[0]


def test_attributes_are_frozen_after_init():
    loader = DataLoader(Range(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.num_workers = 0  # not frozen


def test_pin_memory_warns_without_an_accelerator_as_pytorch(torch):
    from torch.utils import data as tdata

    if torch.accelerator.is_available() or lamina.cuda.is_available():
        pytest.skip("pin_memory warns only without an accelerator")
    with pytest.warns(UserWarning) as expected:
        list(tdata.DataLoader(Range(4), batch_size=2, pin_memory=True))
    with pytest.warns(UserWarning) as got:
        a = as_lists(DataLoader(tensor_dataset(4), batch_size=2, pin_memory=True))
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]
    assert a == as_lists(DataLoader(tensor_dataset(4), batch_size=2))
    assert dataloader_module.get_worker_info() is None


# --- seeding ----------------------------------------------------------------------------------
def test_seeded_shuffling_is_reproducible():
    ds = tensor_dataset(20)

    def epochs(loader, k=2):
        return [as_lists(loader) for _ in range(k)]

    a = epochs(DataLoader(ds, batch_size=6, shuffle=True, generator=lamina.Generator().manual_seed(7)))
    b = epochs(DataLoader(ds, batch_size=6, shuffle=True, generator=lamina.Generator().manual_seed(7)))
    assert a == b
    assert a[0] != a[1]  # the generator advances between epochs
    order = [i for batch in a[0] for i in batch[1]]
    assert sorted(order) == list(range(20)) and order != list(range(20))
    lamina.manual_seed(11)
    c = epochs(DataLoader(ds, batch_size=6, shuffle=True))
    lamina.manual_seed(11)
    d = epochs(DataLoader(ds, batch_size=6, shuffle=True))
    assert c == d and c[0] != c[1]


def test_seeded_dataloader_leaves_the_global_stream_alone():
    ds = tensor_dataset(20)
    lamina.manual_seed(0)
    expected = lamina.rand(5).tolist()
    lamina.manual_seed(0)
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=lamina.Generator().manual_seed(1))
    for _ in range(3):
        list(loader)
    list(DataLoader(ds, batch_size=4))  # no shuffle: draws nothing either
    list(random_split(Range(8), [4, 4], generator=lamina.Generator().manual_seed(2)))
    assert lamina.rand(5).tolist() == expected
    lamina.manual_seed(0)
    list(DataLoader(ds, batch_size=4, shuffle=True))  # unseeded: one draw from the default generator
    assert lamina.rand(5).tolist() != expected


def test_fast_path_matches_per_sample_collation(monkeypatch):
    ds = tensor_dataset(23)
    subset = random_split(ds, [0.6, 0.4], generator=lamina.Generator().manual_seed(0))[0]
    for data in (ds, subset):
        make = lambda data=data, **kw: DataLoader(data, batch_size=5, shuffle=True,  # noqa: E731
                                                  generator=lamina.Generator().manual_seed(4), **kw)
        slow = as_lists(make(collate_fn=lambda batch: default_collate(batch)))
        fast = as_lists(make())
        assert fast == slow

    def forbidden(self, index):
        raise AssertionError("per-sample __getitem__ used on the fast path")

    monkeypatch.setattr(TensorDataset, "__getitem__", forbidden)
    assert len(list(DataLoader(ds, batch_size=5, shuffle=True))) == 5


def test_overridden_getitem_disables_the_fast_path():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    base = tensor_dataset(6)
    ds = Doubled(*base.tensors)
    (x, y), = list(DataLoader(ds, batch_size=6))
    np.testing.assert_allclose(x.numpy(), base.tensors[0].numpy() * 2)


def test_samplers():
    assert list(SequentialSampler(Range(4))) == [0, 1, 2, 3]
    g = lambda: lamina.Generator().manual_seed(0)  # noqa: E731
    perm = list(RandomSampler(Range(6), generator=g()))
    assert sorted(perm) == list(range(6)) and perm == list(RandomSampler(Range(6), generator=g()))
    long = list(RandomSampler(Range(4), num_samples=10, generator=g()))
    assert len(long) == 10 and sorted(long[:4]) == sorted(long[4:8]) == [0, 1, 2, 3]
    repl = list(RandomSampler(Range(3), replacement=True, num_samples=50, generator=g()))
    assert len(repl) == 50 and set(repl) <= {0, 1, 2}
    with pytest.raises(ValueError, match="num_samples should be a positive integer"):
        RandomSampler(Range(0))
    sub = list(SubsetRandomSampler([10, 20, 30], generator=g()))
    assert sorted(sub) == [10, 20, 30]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0], 5, generator=g()))
    assert w == [1] * 5
    bs = BatchSampler(SequentialSampler(Range(7)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6]] and len(bs) == 3
    assert list(BatchSampler(iter(range(5)), 2, drop_last=True)) == [[0, 1], [2, 3]]
    with pytest.raises(ValueError, match="batch_size should be a positive integer value"):
        BatchSampler(SequentialSampler(Range(7)), 0, False)


# --- default_collate --------------------------------------------------------------------------
def collate_cases(lib, torch):
    T = (lambda a: lamina.tensor(a)) if lib == "lamina" else (lambda a: torch.tensor(a))
    return {
        "tensors": [T(np.arange(3, dtype=np.float32)), T(np.ones(3, dtype=np.float32))],
        "int tensors": [T(np.int64(1)), T(np.int64(2))],
        "numpy arrays": [np.arange(4.0).reshape(2, 2), np.ones((2, 2))],
        "numpy int32": [np.arange(3, dtype=np.int32)] * 2,
        "numpy scalars": [np.float32(1.5), np.float32(2.5)],
        "numpy bool scalars": [np.bool_(True), np.bool_(False)],
        "floats": [1.0, 2.5, -3.0],
        "ints": [1, 2, 3],
        "bools": [True, False],
        "strings": ["a", "bc"],
        "dicts": [{"x": 1.0, "y": "a"}, {"x": 2.0, "y": "b"}],
        "tuples": [(1, 2.0), (3, 4.0)],
        "lists": [[1, 2], [3, 4]],
        "namedtuples": [Point(1, np.zeros(2)), Point(2, np.ones(2))],
        "nested": [{"a": (T(np.zeros(2, dtype=np.float32)), [1.0, 2])},
                   {"a": (T(np.ones(2, dtype=np.float32)), [3.0, 4])}],
    }


def assert_same_structure(got, expected, torch):
    if isinstance(expected, torch.Tensor):
        assert isinstance(got, lamina.Tensor), type(got)
        assert str(got.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
        assert tuple(got.shape) == tuple(expected.shape)
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
    elif isinstance(expected, dict):
        assert type(got) is type(expected) and list(got) == list(expected)
        for k in expected:
            assert_same_structure(got[k], expected[k], torch)
    elif isinstance(expected, (list, tuple)):
        assert type(got) is type(expected) and len(got) == len(expected)
        for g, e in zip(got, expected):
            assert_same_structure(g, e, torch)
    else:
        assert type(got) is type(expected) and got == expected


@pytest.mark.parametrize("kind", list(collate_cases("lamina", None)))
def test_default_collate_matches_pytorch(torch, kind):
    from torch.utils.data import default_collate as torch_collate
    from torch.utils.data import default_convert as torch_convert

    got = default_collate(collate_cases("lamina", torch)[kind])
    expected = torch_collate(collate_cases("torch", torch)[kind])
    assert_same_structure(got, expected, torch)
    sample = collate_cases("lamina", torch)[kind][0]
    assert_same_structure(default_convert(sample), torch_convert(collate_cases("torch", torch)[kind][0]), torch)


@pytest.mark.parametrize("batch", [[np.array(["a"]), np.array(["b"])], [[1, 2], [3]], [object(), object()]],
                         ids=["string array", "ragged lists", "objects"])
def test_default_collate_errors_match_pytorch(torch, batch):
    from torch.utils.data import default_collate as torch_collate

    with pytest.raises(Exception) as expected:
        torch_collate(batch)
    with pytest.raises(type(expected.value)) as got:
        default_collate(batch)
    assert str(got.value).split(";")[0] == str(expected.value).split(";")[0]


def test_dataloader_collates_structured_samples():
    class Pairs(Dataset):
        def __getitem__(self, i):
            return {"x": np.full(2, i, dtype=np.float32), "label": i, "name": f"s{i}"}

        def __len__(self):
            return 5

    batches = list(DataLoader(Pairs(), batch_size=2))
    assert [b["label"].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    assert batches[0]["x"].shape == (2, 2) and batches[0]["x"].dtype == lamina.float32
    assert batches[1]["name"] == ["s2", "s3"]
