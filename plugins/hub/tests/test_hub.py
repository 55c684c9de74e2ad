"""lamina.hub against torch.hub: the cache-directory rules (set_dir, TORCH_HOME, XDG_CACHE_HOME, ~/.cache),
where load_state_dict_from_url looks for a URL's file, loading what is there with the same values as torch,
and never touching the network: an absent file raises an error naming the URL and the exact path."""

from __future__ import annotations

import hashlib
import os
import socket
import urllib.error

import lamina
import lamina.hub as lhub
import numpy as np
import pytest
import torch
import torch.hub as thub

URL = "https://download.example.invalid/models/tiny-0123abcd.pth"


@pytest.fixture(autouse=True)
def _clean_hub_state(monkeypatch, tmp_path):
    """Both libraries' set_dir state reset, a private HOME, no hub variables, and no network at all."""
    monkeypatch.setattr(lhub, "_hub_dir", None)
    monkeypatch.setattr(thub, "_hub_dir", None)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("TORCH_HOME", "XDG_CACHE_HOME", "LAMINA_HOME", "TORCH_HUB", "TORCH_MODEL_ZOO"):
        monkeypatch.delenv(var, raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("lamina.hub touched the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)


@pytest.mark.parametrize("env", [{}, {"TORCH_HOME": "th"}, {"XDG_CACHE_HOME": "xdg"},
                                 {"TORCH_HOME": "th", "XDG_CACHE_HOME": "xdg"}, {"TORCH_HOME": "~/tilde"}])
def test_get_dir_follows_torch(env, monkeypatch, tmp_path):
    for key, value in env.items():
        monkeypatch.setenv(key, value if value.startswith("~") else str(tmp_path / value))
    assert lhub.get_dir() == thub.get_dir()
    assert lhub.get_dir().endswith(os.sep + "hub")


def test_default_dir_is_home_cache():
    assert lhub.get_dir() == os.path.expanduser(os.path.join("~", ".cache", "torch", "hub")) == thub.get_dir()


def test_set_dir_as_torch(tmp_path):
    for lib in (lhub, thub):
        lib.set_dir("~/mine")
    assert lhub.get_dir() == thub.get_dir() == os.path.expanduser("~/mine")
    lhub.set_dir(tmp_path / "p")  # a PathLike
    assert lhub.get_dir() == str(tmp_path / "p")


def test_lamina_home_comes_first(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    monkeypatch.setenv("LAMINA_HOME", str(tmp_path / "lh"))
    assert lhub.get_dir() == str(tmp_path / "lh" / "hub")


def test_torch_hub_variable_warns_as_torch(monkeypatch):
    monkeypatch.setenv("TORCH_HUB", "x")
    for lib in (lhub, thub):
        with pytest.warns(UserWarning, match="TORCH_HUB is deprecated"):
            lib.get_dir()


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"fc.weight": rng.standard_normal((3, 4)).astype(np.float32), "fc.bias": rng.standard_normal(3),
            "steps": np.arange(5, dtype=np.int64)}


def _checkpoint_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    return os.path.join(thub.get_dir(), "checkpoints")


def _same(lamina_sd, torch_sd):
    assert list(lamina_sd) == list(torch_sd)
    for k in torch_sd:
        assert str(lamina_sd[k].dtype).split(".")[-1] == str(torch_sd[k].dtype).split(".")[-1]
        np.testing.assert_array_equal(lamina_sd[k].numpy(), torch_sd[k].numpy())


def test_loads_the_cached_file_torch_would_load(tmp_path, monkeypatch):
    """The same file name in the same directory: torch.hub loads its torch.save pickle, lamina.hub the same
    weights saved as safetensors under the name the URL gives."""
    ckpt = _checkpoint_dir(tmp_path, monkeypatch)
    os.makedirs(ckpt)
    weights = _weights()
    torch.save({k: torch.from_numpy(v) for k, v in weights.items()}, os.path.join(ckpt, "tiny-0123abcd.pth"))
    expected = thub.load_state_dict_from_url(URL, weights_only=True)
    os.remove(os.path.join(ckpt, "tiny-0123abcd.pth"))
    lamina.save({k: lamina.from_numpy(v) for k, v in weights.items()}, os.path.join(ckpt, "tiny-0123abcd.pth"))
    _same(lhub.load_state_dict_from_url(URL), expected)


def test_converted_safetensors_beside_the_name_is_used(tmp_path, monkeypatch):
    ckpt = _checkpoint_dir(tmp_path, monkeypatch)
    os.makedirs(ckpt)
    converted = os.path.join(ckpt, "tiny-0123abcd.safetensors")
    lamina.save({k: lamina.from_numpy(v) for k, v in _weights(1).items()}, converted)
    got = lhub.load_state_dict_from_url(URL, map_location="cpu", progress=False, check_hash=True)
    np.testing.assert_array_equal(got["fc.bias"].numpy(), _weights(1)["fc.bias"])


def test_model_dir_and_file_name(tmp_path):
    model_dir = tmp_path / "models"
    lamina.save({"w": lamina.ones(2)}, str(tmp_path / "elsewhere.safetensors"))
    os.makedirs(model_dir)
    os.replace(tmp_path / "elsewhere.safetensors", model_dir / "mine.safetensors")
    got = lhub.load_state_dict_from_url(URL, model_dir=str(model_dir), file_name="mine.safetensors")
    assert got["w"].tolist() == [1.0, 1.0]


def test_absent_file_raises_naming_url_and_path_and_creates_the_dir(tmp_path, monkeypatch):
    ckpt = _checkpoint_dir(tmp_path, monkeypatch)
    with pytest.raises(lhub.HubFileNotFoundError) as info:
        lhub.load_state_dict_from_url(URL)
    message = str(info.value)
    assert URL in message and os.path.join(ckpt, "tiny-0123abcd.pth") in message
    assert os.path.join(ckpt, "tiny-0123abcd.safetensors") in message
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, urllib.error.URLError)
    assert os.path.isdir(ckpt)  # created, as torch creates it before downloading


def test_absent_safetensors_url_names_one_path(tmp_path, monkeypatch):
    ckpt = _checkpoint_dir(tmp_path, monkeypatch)
    url = "https://download.example.invalid/models/tiny.safetensors"
    with pytest.raises(FileNotFoundError, match=r"put it at .*tiny\.safetensors \(where torch\.hub") as info:
        lhub.load_state_dict_from_url(url)
    assert "converted" not in str(info.value) and os.path.join(ckpt, "tiny.safetensors") in str(info.value)


def test_torch_pickle_in_the_cache_gets_loads_conversion_error(tmp_path, monkeypatch):
    ckpt = _checkpoint_dir(tmp_path, monkeypatch)
    os.makedirs(ckpt)
    torch.save({"w": torch.ones(2)}, os.path.join(ckpt, "tiny-0123abcd.pth"))
    with pytest.raises(lamina.serialization.CheckpointError, match="safetensors"):
        lhub.load_state_dict_from_url(URL)


def test_download_url_to_file(tmp_path):
    dst = tmp_path / "f.bin"
    with pytest.raises(lhub.HubFileNotFoundError, match=str(dst)):
        lhub.download_url_to_file(URL, str(dst))
    dst.write_bytes(b"payload")
    digest = hashlib.sha256(b"payload").hexdigest()
    lhub.download_url_to_file(URL, str(dst), hash_prefix=digest[:8], progress=False)
    with pytest.raises(RuntimeError, match="invalid hash value"):
        lhub.download_url_to_file(URL, str(dst), hash_prefix="0" * 8 if digest[0] != "0" else "1" * 8)
    assert dst.read_bytes() == b"payload"


@pytest.mark.parametrize("name,args", [("load", ("owner/repo", "model")), ("list", ("owner/repo",)),
                                       ("help", ("owner/repo", "model"))])
def test_repository_functions_refuse(name, args):
    with pytest.raises(NotImplementedError, match=rf"torch\.hub\.{name}\b.*network"):
        getattr(lhub, name)(*args)


def test_torch_names_exist():
    for name in ("HASH_REGEX", "ENV_TORCH_HOME", "ENV_XDG_CACHE_HOME", "DEFAULT_CACHE_DIR", "ENV_GITHUB_TOKEN",
                 "VAR_DEPENDENCY", "MODULE_HUBCONF", "READ_DATA_CHUNK", "HTTPError", "URLError"):
        got, want = getattr(lhub, name), getattr(thub, name)
        assert got == want or got is want
    assert lhub.HASH_REGEX.search("resnet18-f37072fd.pth").group(1) == "f37072fd"
    assert lamina.hub is lhub
