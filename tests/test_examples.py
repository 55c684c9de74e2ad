"""The examples run end to end on a reduced budget (in process, through each script's ``main(argv)``).

Each must learn (test accuracy well above the 10% of chance), write a checkpoint that reloads into a
fresh model with identical predictions, and plot its curves when matplotlib is there. The main job
also runs on 28x28 IDX files written here (and on Debian's Fashion-MNIST when it is installed).
"""

from __future__ import annotations

import gzip
import importlib
import os
import struct
import sys

import lamina
import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
DEBIAN_FASHION = "/usr/share/datasets/fashion-mnist"

pytest.importorskip("lamina_datasets", reason="the examples need lamina-datasets (pip install -e plugins/datasets)")
pytest.importorskip("sklearn", reason="the examples' default data set (digits) needs scikit-learn")


def example(name: str):
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    return importlib.import_module(name)


def needs(*dists: str) -> None:
    for dist in dists:
        pytest.importorskip(dist.replace("-", "_"), reason=f"this example needs {dist} "
                            f"(pip install -e plugins/{dist.removeprefix('lamina-').replace('-', '_')})")


BASIC = ("lamina-layers-basic", "lamina-losses", "lamina-optim")
# script, extra argv, plugins, accuracy it must beat (chance is 0.10)
CASES = [
    ("train_convnet", ["--epochs", "2", "--limit", "800"], BASIC, 0.6),
    ("mlp_digits", ["--epochs", "2", "--limit", "800"], BASIC, 0.6),
    ("cnn_fashion_mnist", ["--dataset", "digits", "--epochs", "2", "--limit", "800"], BASIC + ("lamina-norms",), 0.6),
    ("sequence_classifier", ["--epochs", "2", "--limit", "800"], BASIC + ("lamina-layers-recurrent",), 0.4),
    ("sequence_classifier", ["--epochs", "2", "--limit", "800", "--cell", "gru"],
     BASIC + ("lamina-layers-recurrent",), 0.4),
    ("transformer_encoder", ["--epochs", "2", "--limit", "800"],
     BASIC + ("lamina-layers-attention", "lamina-norms"), 0.4),
]


@pytest.mark.parametrize("script,argv,plugins,floor", CASES,
                         ids=[f"{c[0]}{'-gru' if 'gru' in c[1] else ''}" for c in CASES])
def test_example_learns_and_checkpoint_reloads(tmp_path, script, argv, plugins, floor):
    needs(*plugins)
    metrics = example(script).main(argv + ["--quiet", "--out", str(tmp_path), "--seed", "0"])
    assert metrics["test_accuracy"] > floor, metrics["history"]
    assert metrics["reload_identical"] is True
    assert os.path.isfile(metrics["checkpoint"]) and os.path.dirname(metrics["checkpoint"]) == str(tmp_path)
    ckpt = lamina.load(metrics["checkpoint"])
    assert ckpt["epoch"] == 2 and set(ckpt) == {"model", "optimizer", "epoch", "history"}
    assert list(ckpt["model"]) == list(metrics["model"].state_dict())
    assert ckpt["optimizer"]["state"] and ckpt["history"]["test_accuracy"] == metrics["history"]["test_accuracy"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert metrics["plot"] is None
    else:
        with open(metrics["plot"], "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"


def test_main_job_output_and_reload_by_hand(tmp_path, capsys):
    needs(*BASIC)
    tc = example("train_convnet")
    metrics = tc.main(["--epochs", "1", "--limit", "400", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "Layer (type (var_name))" in out and "Total params: 53,002" in out  # the summary of the 8x8 ConvNet
    assert "epoch 1/1: train loss" in out and "test accuracy" in out and "samples/s" in out
    assert f"checkpoint: {metrics['checkpoint']}" in out
    # a fresh model from the file gives bit-identical logits; a model with other weights does not
    x = lamina.randn(64, 1, 8, 8)
    fresh = tc.ConvNet((8, 8))
    fresh.load_state_dict(lamina.load(metrics["checkpoint"])["model"])
    fresh.eval()
    metrics["model"].eval()
    with lamina.no_grad():
        assert lamina.equal(fresh(x), metrics["model"](x))
    common = example("_common")
    other = lambda: tc.ConvNet((8, 8))  # noqa: E731
    lamina.manual_seed(123)
    with pytest.raises(RuntimeError, match="predictions differ"):
        common.reload_and_compare(metrics["checkpoint"], other, lambda m: lamina.optim.Adam(m.parameters()),
                                  other(), x, "cpu")


def test_main_job_writes_tensorboard_event_files_that_read_back_equal(tmp_path):
    """``--tensorboard DIR``: the per-epoch history and weight histograms (logged as each epoch ends), the
    test images and the hyperparameters, read back with tensorboard's own EventAccumulator."""
    needs(*BASIC, "lamina-tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import STORE_EVERYTHING_SIZE_GUIDANCE, EventAccumulator

    def read(folder):
        accumulator = EventAccumulator(str(folder), size_guidance=STORE_EVERYTHING_SIZE_GUIDANCE)
        return accumulator.Reload()

    log_dir = tmp_path / "tb"
    tc = example("train_convnet")
    metrics = tc.main(["--epochs", "2", "--limit", "400", "--quiet", "--out", str(tmp_path), "--tensorboard",
                       str(log_dir)])
    assert metrics["tensorboard"] == str(log_dir)
    run = read(log_dir)
    for key, tag in tc.TENSORBOARD_TAGS.items():
        expected = [(epoch, float(np.float32(v))) for epoch, v in enumerate(metrics["history"][key], start=1)]
        assert [(e.step, e.value) for e in run.Scalars(tag)] == expected, tag
    for name, param in metrics["model"].named_parameters():
        first, last = run.Histograms(name)  # one per epoch: the last holds the trained weights
        values = param.detach().numpy().astype(np.float64).reshape(-1)
        h = last.histogram_value
        assert (first.step, last.step) == (1, 2) and first.histogram_value != h, name
        assert (h.num, h.min, h.max, h.sum) == (values.size, values.min(), values.max(), values.sum()), name
    (images,) = run.Images("test images")
    assert (images.width, images.height) == (8 * 8, 2 * 8)  # 16 digits of 8 x 8, 8 per row
    hparams = read(log_dir / "hparams")
    assert sorted(hparams.PluginTagToContent("hparams")) == ["_hparams_/experiment", "_hparams_/session_end_info",
                                                            "_hparams_/session_start_info"]
    assert hparams.Scalars("hparam/test_accuracy")[0].value == np.float32(metrics["test_accuracy"])


def test_augmentation_reaches_every_training_batch(tmp_path):
    needs(*BASIC, "lamina-norms")
    from lamina_datasets import transforms

    common, seen = example("_common"), []
    data = common.load_data("digits", limit=100)
    loader = lamina.utils.data.DataLoader(data.train, batch_size=32)
    model = lamina.nn.Sequential(lamina.nn.Flatten(), lamina.nn.Linear(64, 10))
    crop = transforms.Compose([transforms.RandomCrop(8, padding=2), transforms.Lambda(lambda x: seen.append(x) or x)])
    common.train_epoch(model, loader, lamina.nn.CrossEntropyLoss(), lamina.optim.SGD(model.parameters(), lr=0.1),
                       "cpu", progress=False, batch_transform=crop)
    assert [tuple(x.shape) for x in seen] == [(32, 1, 8, 8)] * 3 + [(4, 1, 8, 8)]
    assert any(not lamina.equal(x, y) for x, (y, _) in zip(seen, loader))  # some batch was shifted
    metrics = example("cnn_fashion_mnist").main(["--dataset", "digits", "--epochs", "1", "--limit", "200",
                                                 "--augment", "--quiet", "--out", str(tmp_path)])
    assert metrics["reload_identical"]


def _write_idx_u8(path: str, a: np.ndarray, gz: bool) -> None:
    blob = bytes([0, 0, 0x08, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.astype(np.uint8).tobytes()
    with open(path + (".gz" if gz else ""), "wb") as fh:
        fh.write(gzip.compress(blob) if gz else blob)


def _write_mnist_like(root, n_train: int, n_test: int) -> None:
    """28x28 "MNIST" IDX files made from the 8x8 digits (each pixel 3x3, 2-pixel border), gzip and raw."""
    from lamina_datasets import datasets

    folder = os.path.join(root, "MNIST", "raw")
    os.makedirs(folder)
    for train, n, gz in ((True, n_train, True), (False, n_test, False)):
        ds = datasets.Digits(train=train)
        small = (ds.data.numpy()[:n] * 255).round().astype(np.uint8)
        big = np.pad(np.kron(small, np.ones((1, 3, 3), np.uint8)), ((0, 0), (2, 2), (2, 2)))
        prefix = "train" if train else "t10k"
        _write_idx_u8(os.path.join(folder, f"{prefix}-images-idx3-ubyte"), big, gz)
        _write_idx_u8(os.path.join(folder, f"{prefix}-labels-idx1-ubyte"), ds.targets.numpy()[:n], gz)


def test_main_job_on_28x28_idx_files(tmp_path):
    needs(*BASIC)
    _write_mnist_like(tmp_path / "data", 600, 200)
    metrics = example("train_convnet").main(["--dataset", "mnist", "--data-root", str(tmp_path / "data"),
                                             "--epochs", "1", "--quiet", "--out", str(tmp_path)])
    assert metrics["model"].fc1.in_features == 64 * 7 * 7  # the tutorial's 3136
    assert metrics["test_accuracy"] > 0.5 and metrics["reload_identical"]
    assert metrics["checkpoint"].endswith("convnet_mnist.safetensors")


@pytest.mark.skipif(not os.path.isdir(DEBIAN_FASHION), reason=f"{DEBIAN_FASHION} missing "
                    "(Debian/Ubuntu: apt-get install dataset-fashion-mnist)")
def test_main_job_on_debian_fashion_mnist(tmp_path):
    needs(*BASIC)
    metrics = example("train_convnet").main(["--dataset", "fashion-mnist", "--epochs", "1", "--limit", "1000",
                                             "--quiet", "--out", str(tmp_path)])
    assert metrics["test_accuracy"] > 0.5 and metrics["reload_identical"]


def test_missing_fashion_files_say_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="FashionMNIST: dataset files not found"):
        example("train_convnet").main(["--dataset", "fashion-mnist", "--data-root", str(tmp_path), "--quiet",
                                       "--out", str(tmp_path)])


def test_ddp_example_on_two_ranks_and_on_one():
    """examples/ddp_digits.py under `lamina run --nproc-per-node 2` (MPI through the venv's mpiexec) and as
    a plain one-process script: both learn, and only rank 0 prints."""
    import re
    import subprocess

    pytest.importorskip("lamina_distributed", reason="the DDP example needs lamina-distributed")
    script = os.path.join(EXAMPLES, "ddp_digits.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    runs = {}
    for ranks, cmd in ((2, [sys.executable, "-m", "lamina", "run", "--nproc-per-node", "2", script]),
                       (1, [sys.executable, script])):
        proc = subprocess.run([*cmd, "--epochs", "4"], capture_output=True, text=True, timeout=120, env=env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        losses = [float(v) for v in re.findall(r"train loss ([0-9.]+)", proc.stdout)]
        assert len(losses) == 4 and losses[-1] < losses[0], proc.stdout  # printed once (rank 0), decreasing
        assert f"({ranks} rank" in proc.stdout
        runs[ranks] = float(re.search(r"test accuracy ([0-9.]+)%", proc.stdout).group(1))
    assert min(runs.values()) > 85.0, runs
