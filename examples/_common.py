"""What every example shares: data loading, the train/eval loops, checkpointing, plots.

Each example defines its model and calls :func:`run`, which does the tutorial's whole flow:
load the data, train with a progress bar, evaluate after every epoch, save a checkpoint
(model + optimizer state + epoch), reload it into a fresh model and check that its predictions
are identical, and plot the curves. ``run`` returns the metrics, so tests call ``main(argv)``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import lamina
from lamina import nn
from lamina.utils.data import DataLoader, TensorDataset

DATASETS = ("digits", "mnist", "fashion-mnist")
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def base_parser(description: str, *, dataset: str = "digits", epochs: int = 10,
                batch_size: dict[str, int] | None = None, lr: float = 1e-3) -> argparse.ArgumentParser:
    """The flags every example takes; an example adds its own on top.

    ``batch_size`` maps a dataset to its default batch size (default: 32 for the 1438 digits, the
    tutorial's 64 for MNIST and Fashion-MNIST); :func:`parse_args` fills it in.
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--dataset", choices=DATASETS, default=dataset,
                   help="digits: scikit-learn's 8x8 digits (offline); mnist/fashion-mnist: IDX files on disk")
    p.add_argument("--data-root", default=None, help="folder holding the IDX files (default: the dataset's own)")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=None,
                   help="default: 32 for digits, 64 for mnist and fashion-mnist")
    p.set_defaults(batch_size_by_dataset={"digits": 32, "mnist": 64, "fashion-mnist": 64, **(batch_size or {})})
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--limit", type=int, default=None, help="use only the first N samples of each split (for CI)")
    p.add_argument("--out", default=DEFAULT_OUT, help="where the checkpoint and the plot go")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu, cuda, ... (default: lamina's default device)")
    p.add_argument("--blas-threads", type=int, default=None,
                   help="BLAS threads (default 1 unless OPENBLAS_NUM_THREADS/OMP_NUM_THREADS is set)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, no per-epoch lines")
    return p


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.batch_size is None:
        args.batch_size = args.batch_size_by_dataset[args.dataset]
    return args


def blas_threads(threads: int | None) -> contextlib.AbstractContextManager:
    """Limit BLAS threads while training (through threadpoolctl, which scikit-learn brings along).

    These models' GEMMs are small: on a few cores one thread is fastest, and on a busy machine
    many threads are an order of magnitude slower. An explicit environment setting is kept.
    """
    if threads is None and ("OPENBLAS_NUM_THREADS" in os.environ or "OMP_NUM_THREADS" in os.environ):
        return contextlib.nullcontext()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads or 1, user_api="blas")


# --- data ---------------------------------------------------------------------------------------
@dataclass
class Data:
    name: str
    train: TensorDataset          # images (N, 1, H, W) float32, normalised; labels (N,) int64
    test: TensorDataset
    classes: list[str]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.train.tensors[0].shape[1:])  # type: ignore[return-value]


def load_data(name: str, limit: int | None = None, root: str | None = None) -> Data:
    """Both splits of a dataset as whole-split ``TensorDataset``s (the DataLoader's fast path).

    Images become ``(N, 1, H, W)`` float32 in [0, 1], then are normalised with the training set's
    per-channel mean and std through ``transforms.Normalize`` (applied to the whole split at once).
    """
    from lamina_datasets import datasets, transforms

    if name == "digits":
        train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    elif name in ("mnist", "fashion-mnist"):
        cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
        train, test = cls(root, train=True), cls(root, train=False)
    else:
        raise ValueError(f"dataset must be one of {list(DATASETS)}, got {name!r}")

    def images(ds: Any) -> lamina.Tensor:
        x = ds.data[:limit] if limit else ds.data
        x = x.float() / 255.0 if x.dtype == lamina.uint8 else x.float()
        return x.unsqueeze(1)

    x_train, x_test = images(train), images(test)
    mean, std = float(x_train.mean().item()), float(x_train.std().item())
    norm = transforms.Normalize((mean,), (std,))
    y_train = train.targets[:limit] if limit else train.targets
    y_test = test.targets[:limit] if limit else test.targets
    return Data(name, TensorDataset(norm(x_train), y_train), TensorDataset(norm(x_test), y_test),
                list(train.classes))


def as_sequences(data: Data) -> Data:
    """Images (N, 1, H, W) -> sequences (N, H, W): H steps of W features (one image row per step)."""
    def rows(ds: TensorDataset) -> TensorDataset:
        x, y = ds.tensors
        return TensorDataset(x.squeeze(1), y)
    return Data(data.name, rows(data.train), rows(data.test), data.classes)


# --- loops --------------------------------------------------------------------------------------
def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="sample", leave=True, dynamic_ncols=True)


def train_epoch(model: nn.Module, loader: DataLoader, loss_fn: nn.Module, optimizer: Any,
                device: Any, desc: str = "", progress: bool = True,
                batch_transform: Callable | None = None) -> tuple[float, float]:
    """One pass over ``loader``; returns (mean training loss per sample, samples per second).

    ``batch_transform`` (e.g. a random crop) is applied to each whole batch of inputs.
    """
    model.train()
    bar = _progress(len(loader.dataset), desc, progress)  # type: ignore[arg-type]
    total_loss, seen, start = 0.0, 0, time.perf_counter()
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        if batch_transform is not None:
            x = batch_transform(x)
        loss = loss_fn(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        n = int(y.shape[0])
        total_loss += loss.item() * n
        seen += n
        if bar is not None:
            bar.update(n)
            bar.set_postfix(loss=f"{total_loss / seen:.4f}", refresh=False)
    elapsed = max(time.perf_counter() - start, 1e-9)
    if bar is not None:
        bar.close()
    return total_loss / max(seen, 1), seen / elapsed


def evaluate(model: nn.Module, loader: DataLoader, loss_fn: nn.Module, device: Any) -> tuple[float, float]:
    """(mean loss, accuracy) over ``loader`` in eval mode, without building a graph."""
    model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with lamina.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            n = int(y.shape[0])
            total_loss += loss_fn(logits, y).item() * n
            correct += int((logits.argmax(1) == y).sum().item())
            seen += n
    return total_loss / max(seen, 1), correct / max(seen, 1)


def predict(model: nn.Module, x: lamina.Tensor) -> lamina.Tensor:
    model.eval()
    with lamina.no_grad():
        return model(x)


# --- checkpoint and plot ------------------------------------------------------------------------
def save_checkpoint(path: str, model: nn.Module, optimizer: Any, epoch: int, history: dict) -> None:
    """Model weights, optimizer state, epoch and history in one safetensors file."""
    lamina.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch,
                 "history": history}, path)


def reload_and_compare(path: str, build_model: Callable[[], nn.Module], make_optimizer: Callable,
                       trained: nn.Module, x: lamina.Tensor, device: Any) -> dict:
    """Load the checkpoint into a fresh model and optimizer; its predictions must equal the trained model's."""
    ckpt = lamina.load(path)
    fresh = build_model().to(device)
    fresh.load_state_dict(ckpt["model"])
    make_optimizer(fresh).load_state_dict(ckpt["optimizer"])
    before, after = predict(trained, x), predict(fresh, x)
    identical = bool(lamina.equal(before, after))
    if not identical:
        raise RuntimeError(f"checkpoint {path}: the reloaded model's predictions differ from the trained model's "
                           f"(max abs difference {float((before - after).abs().max().item())})")
    return {"identical": identical, "epoch": ckpt["epoch"]}


def plot_history(history: dict, path: str, title: str) -> str | None:
    """Loss and accuracy curves as a PNG; None (with a message) when matplotlib is not installed."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: skipping the plot (pip install matplotlib)")
        return None
    epochs = range(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train")
    ax_loss.plot(epochs, history["test_loss"], "o-", label="test")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * a for a in history["test_accuracy"]], "o-", color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="%", title="test accuracy")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --- the whole flow -----------------------------------------------------------------------------
def run(args: argparse.Namespace, name: str, data: Data, build_model: Callable[[], nn.Module],
        summary_input: tuple[int, ...] | None = None, batch_transform: Callable | None = None,
        on_epoch: Callable[[int, nn.Module, dict[str, float]], None] | None = None) -> dict:
    """Train ``build_model()`` on ``data`` with Adam + cross-entropy; checkpoint, reload, plot. Returns metrics.

    ``summary_input``: print ``lamina.summary`` of the model for inputs of that size first.
    ``batch_transform``: applied to every training batch (augmentation).
    ``on_epoch(epoch, model, values)``: called as each epoch ends, ``values`` that epoch's history entries
    (e.g. to log them to TensorBoard while training runs).
    """
    with blas_threads(args.blas_threads):
        return _run(args, name, data, build_model, summary_input, batch_transform, on_epoch)


def _run(args: argparse.Namespace, name: str, data: Data, build_model: Callable[[], nn.Module],
         summary_input: tuple[int, ...] | None, batch_transform: Callable | None,
         on_epoch: Callable[[int, nn.Module, dict[str, float]], None] | None) -> dict:
    device = args.device or lamina.get_default_device()
    lamina.manual_seed(args.seed)
    model = build_model().to(device)
    make_optimizer = lambda m: lamina.optim.Adam(m.parameters(), lr=args.lr)  # noqa: E731
    optimizer = make_optimizer(model)
    loss_fn = nn.CrossEntropyLoss()
    shuffle_gen = lamina.Generator().manual_seed(args.seed)
    train_loader = DataLoader(data.train, batch_size=args.batch_size, shuffle=True, generator=shuffle_gen)
    test_loader = DataLoader(data.test, batch_size=512)
    say = (lambda *a: None) if args.quiet else print
    say(f"{name} on {data.name}: {len(data.train)} train / {len(data.test)} test samples, "
        f"{sum(p.numel() for p in model.parameters())} parameters")
    if summary_input is not None and not args.quiet:
        print(lamina.summary(model, input_size=summary_input, device=device, verbose=0))

    history: dict[str, list[float]] = {"train_loss": [], "test_loss": [], "test_accuracy": [], "samples_per_s": []}
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        train_loss, rate = train_epoch(model, train_loader, loss_fn, optimizer, device,
                                       desc=f"epoch {epoch}/{args.epochs}", progress=not args.quiet,
                                       batch_transform=batch_transform)
        test_loss, acc = evaluate(model, test_loader, loss_fn, device)
        for key, value in zip(history, (train_loss, test_loss, acc, rate)):
            history[key].append(value)
        if on_epoch is not None:
            on_epoch(epoch, model, {key: values[-1] for key, values in history.items()})
        say(f"epoch {epoch}/{args.epochs}: train loss {train_loss:.4f}  test loss {test_loss:.4f}  "
            f"test accuracy {100 * acc:.2f}%  ({rate:.0f} samples/s)")
    seconds = time.perf_counter() - start

    os.makedirs(args.out, exist_ok=True)
    stem = f"{name}_{data.name}"
    ckpt_path = os.path.join(args.out, f"{stem}.safetensors")
    save_checkpoint(ckpt_path, model, optimizer, args.epochs, history)
    probe = data.test.tensors[0][:256].to(device)
    reload = reload_and_compare(ckpt_path, build_model, make_optimizer, model, probe, device)
    plot = plot_history(history, os.path.join(args.out, f"{stem}.png"), f"{name} on {data.name}")
    final = history["test_accuracy"][-1] if history["test_accuracy"] else float("nan")
    say(f"test accuracy {100 * final:.2f}% after {args.epochs} epochs in {seconds:.1f} s")
    say(f"checkpoint: {ckpt_path} (reloaded into a fresh model: predictions identical)")
    if plot:
        say(f"plot: {plot}")
    return {"test_accuracy": final, "history": history, "seconds": seconds, "checkpoint": ckpt_path,
            "plot": plot, "reload_identical": reload["identical"], "model": model}
