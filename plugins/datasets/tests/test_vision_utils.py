"""lamina_datasets.vision.utils (make_grid against hand-built grids, save_image round trip), the refused
modules ops/models/io, the package surface, and ``import torchvision`` through the lamina.aliases entry point."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import lamina
import lamina_datasets.vision as tv
import numpy as np
import pytest
from lamina_datasets.vision.utils import make_grid, save_image
from PIL import Image


def _hand_grid(batch, nrow, padding, pad_value):
    b, c, h, w = batch.shape
    cols = min(nrow, b)
    rows = -(-b // cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value, batch.dtype)
    for k in range(b):
        y, x = divmod(k, cols)
        top, left = padding + y * (h + padding), padding + x * (w + padding)
        grid[:, top:top + h, left:left + w] = batch[k]
    return grid


@pytest.mark.parametrize("b,nrow,padding,pad_value", [(5, 2, 2, 0.0), (3, 8, 1, 0.5), (6, 3, 0, 1.0), (4, 4, 3, 0)])
@pytest.mark.parametrize("dtype", [lamina.float32, lamina.float64])
def test_make_grid_matches_a_hand_built_grid(b, nrow, padding, pad_value, dtype):
    x = lamina.rand(b, 3, 4, 5, dtype=dtype)
    grid = make_grid(x, nrow=nrow, padding=padding, pad_value=pad_value)
    assert grid.dtype == dtype
    np.testing.assert_array_equal(grid.numpy(), _hand_grid(x.numpy(), nrow, padding, pad_value))


def test_make_grid_single_channel_list_and_single_image():
    x = lamina.rand(3, 1, 2, 2)
    grid = make_grid([x[0], x[1], x[2]], nrow=2, padding=1)
    assert tuple(grid.shape) == (3, 2 * 3 + 1, 2 * 3 + 1)
    np.testing.assert_array_equal(grid.numpy(), _hand_grid(np.repeat(x.numpy(), 3, axis=1), 2, 1, 0.0))
    one = make_grid(x[:1], padding=5)
    assert tuple(one.shape) == (3, 2, 2)  # a single image comes back unpadded
    np.testing.assert_array_equal(make_grid(lamina.ones(4, 6)).numpy(), np.ones((3, 4, 6), np.float32))


def test_make_grid_normalize_value_range_and_scale_each():
    x = lamina.tensor([[[[0.0, 2.0]]], [[[4.0, 8.0]]]])  # (2, 1, 1, 2)
    whole = make_grid(x, padding=0, normalize=True)
    np.testing.assert_allclose(whole.numpy()[0], [[0.0, 0.25, 0.5, 1.0]])
    each = make_grid(x, padding=0, normalize=True, scale_each=True)
    np.testing.assert_allclose(each.numpy()[0], [[0.0, 1.0, 0.0, 1.0]])
    ranged = make_grid(x, padding=0, normalize=True, value_range=(1.0, 5.0))
    np.testing.assert_allclose(ranged.numpy()[0], [[0.0, 0.25, 0.75, 1.0]])
    np.testing.assert_array_equal(x.numpy()[0, 0, 0], [0.0, 2.0])  # the input is not modified
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        make_grid(x, normalize=True, value_range=[0, 1])
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        make_grid(np.zeros((2, 3, 4, 4)))


def test_save_image_round_trip(tmp_path):
    x = lamina.rand(4, 3, 5, 6)
    path = tmp_path / "grid.png"
    save_image(x, path, nrow=2, padding=1)
    with Image.open(path) as im:
        saved = np.asarray(im)
    grid = _hand_grid(x.numpy(), 2, 1, 0.0)
    expected = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(saved, expected)
    save_image(x[0], tmp_path / "one.jpg", format="PNG")
    with Image.open(tmp_path / "one.jpg") as im:
        assert im.format == "PNG"


@pytest.mark.parametrize("module,name", [("ops", "nms"), ("ops", "roi_align"), ("models", "resnet18"),
                                         ("io", "read_image")])
def test_unprovided_modules_refuse_every_name(module, name):
    mod = getattr(tv, module)
    with pytest.raises(NotImplementedError, match=rf"torchvision\.{module}\.{name}: lamina-datasets does not provide"):
        getattr(mod, name)
    with pytest.raises(AttributeError):
        _ = mod.__path__  # import machinery probes dunders: a plain AttributeError


def test_package_surface():
    assert tv.__version__ == "0.28.0+lamina"
    assert tv.get_image_backend() == "PIL"
    tv.set_image_backend("PIL")
    with pytest.raises(ValueError, match="Invalid backend 'cv2'"):
        tv.set_image_backend("cv2")
    with pytest.raises(NotImplementedError, match="Pillow only"):
        tv.set_image_backend("accimage")
    assert tv.transforms.functional.to_tensor is tv.transforms.functional.to_tensor
    assert {"MNIST", "CIFAR10", "ImageFolder", "FakeData"} <= set(tv.datasets.__all__)


def test_lamina_run_serves_import_torchvision(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import torch, torchvision
        import torchvision.transforms.functional as TF
        from torchvision import datasets, transforms, utils
        import lamina_datasets.vision as vision
        assert torchvision is vision and transforms is vision.transforms and TF is vision.transforms.functional
        assert datasets.FakeData is vision.datasets.FakeData and utils is vision.utils
        torch.manual_seed(0)
        ds = datasets.FakeData(size=4, image_size=(3, 8, 8), transform=transforms.Compose([
            transforms.RandomHorizontalFlip(), transforms.ToTensor(), transforms.Normalize((0.5,) * 3, (0.5,) * 3)]))
        loader = torch.utils.data.DataLoader(ds, batch_size=2)
        x, y = next(iter(loader))
        assert isinstance(x, torch.Tensor) and tuple(x.shape) == (2, 3, 8, 8) and y.dtype == torch.int64
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 10))
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        assert tuple(utils.make_grid(x).shape) == (3, 12, 22)
        try:
            torchvision.models.resnet18
        except NotImplementedError as e:
            print("refused:", e)
        print("ok", torchvision.__version__)
    """))
    out = subprocess.run([sys.executable, "-m", "lamina", "run", str(script)], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert "refused: torchvision.models.resnet18: lamina-datasets does not provide" in out.stdout
    assert out.stdout.strip().endswith("ok 0.28.0+lamina")
