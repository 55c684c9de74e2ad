"""lamina-hub: ``lamina.hub``, torch.hub's checkpoint cache without the network.

A faithful pass-through for what torch.hub does with files already in its cache, and a clear refusal for
what would need the network or a repository's code:

* :func:`get_dir` / :func:`set_dir`: torch's rules. The hub directory is the one given to ``set_dir``, else
  ``$TORCH_HOME/hub``, where ``$TORCH_HOME`` defaults to ``$XDG_CACHE_HOME/torch`` and ``$XDG_CACHE_HOME``
  to ``~/.cache``. lamina adds one rule in front: ``$LAMINA_HOME``, when set, stands in for ``$TORCH_HOME``.
* :func:`load_state_dict_from_url` looks for the URL's file name (or ``file_name``) in ``model_dir``
  (default ``<get_dir()>/checkpoints``, created as torch creates it) and loads it with ``lamina.load``
  (safetensors or lamina's own format; a torch pickle gets lamina.load's error explaining how to convert
  it). Where that file is absent, a converted ``<stem>.safetensors`` beside it is loaded instead.
* Nothing is ever downloaded: a file that is not in the cache raises :class:`HubFileNotFoundError` (a
  ``FileNotFoundError`` and a ``urllib.error.URLError``, what an offline torch raises) naming the URL and the
  exact path to put the file at. :func:`download_url_to_file` does the same unless ``dst`` exists already.
* ``load``, ``list`` and ``help`` (which fetch a repository and run its ``hubconf.py``) raise
  ``NotImplementedError``.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from typing import Any, NoReturn
from urllib.error import HTTPError, URLError
from urllib.parse import urlparse

__lamina_plugin_api__ = "1.0"

__all__ = ["DEFAULT_CACHE_DIR", "ENV_GITHUB_TOKEN", "ENV_LAMINA_HOME", "ENV_TORCH_HOME", "ENV_XDG_CACHE_HOME",
           "HASH_REGEX", "HTTPError", "HubFileNotFoundError", "MODULE_HUBCONF", "READ_DATA_CHUNK", "URLError",
           "VAR_DEPENDENCY", "download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url",
           "set_dir"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")  # the hash prefix in torch's checkpoint names: resnet18-f37072fd.pth
ENV_GITHUB_TOKEN = "GITHUB_TOKEN"
ENV_TORCH_HOME = "TORCH_HOME"
ENV_LAMINA_HOME = "LAMINA_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
VAR_DEPENDENCY = "dependencies"
MODULE_HUBCONF = "hubconf.py"
READ_DATA_CHUNK = 128 * 1024

_hub_dir: str | None = None


class HubFileNotFoundError(FileNotFoundError, URLError):
    """A file lamina.hub would have to download: lamina never touches the network. Caught by ``except
    FileNotFoundError``, ``except OSError`` and ``except urllib.error.URLError`` (what an offline torch raises)."""

    def __init__(self, url: str, path: str, converted: str | None = None) -> None:
        message = (f"lamina.hub does not download: {url} is not in the cache. Download it yourself and put it at "
                   f"{path} (where torch.hub would have saved it)")
        if converted:
            message += f", or put the checkpoint converted to safetensors at {converted}"
        OSError.__init__(self, 2, message, path)
        self.reason, self.url = message, url

    def __str__(self) -> str:
        return self.reason


def _torch_home() -> str:
    default = os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "torch")
    return os.path.expanduser(os.getenv(ENV_LAMINA_HOME) or os.getenv(ENV_TORCH_HOME, default))


def get_dir() -> str:
    """The hub cache directory: ``set_dir``'s, else ``$LAMINA_HOME/hub`` or ``$TORCH_HOME/hub`` (default
    ``$XDG_CACHE_HOME/torch/hub``, ``~/.cache/torch/hub``)."""
    if os.getenv("TORCH_HUB"):
        warnings.warn("TORCH_HUB is deprecated (as in torch), use the environment variable TORCH_HOME instead",
                      stacklevel=2)
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_torch_home(), "hub")


def set_dir(d: str | os.PathLike) -> None:
    """Use ``d`` (``~`` expanded) as the hub directory from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def _check_hash(path: str, hash_prefix: str | None) -> None:
    if not hash_prefix:
        return
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(READ_DATA_CHUNK), b""):
            digest.update(chunk)
    got = digest.hexdigest()
    if got[:len(hash_prefix)] != hash_prefix:
        raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{got}") for {path}')


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None, progress: bool = True) -> None:
    """``dst`` already present: check its SHA-256 against ``hash_prefix`` (if given) and keep it. Absent: raise
    :class:`HubFileNotFoundError` naming ``url`` and ``dst``; nothing is downloaded."""
    dst = os.path.expanduser(dst)
    if not os.path.isfile(dst):
        raise HubFileNotFoundError(url, os.path.abspath(dst))
    _check_hash(dst, hash_prefix)


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location: Any = None,
                             progress: bool = True, check_hash: bool = False, file_name: str | None = None,
                             weights_only: bool = False) -> dict[str, Any]:
    """Load the checkpoint that ``url`` names from the hub cache with ``lamina.load``.

    The file is ``<model_dir>/<file_name or the URL's file name>`` (``model_dir`` defaults to
    ``<get_dir()>/checkpoints``, created if missing); where it is absent, ``<stem>.safetensors`` beside it (a
    converted torch checkpoint) is used. ``check_hash`` is honoured as torch honours it: on download only,
    which never happens here, so a cached file is not hashed. Nothing cached: :class:`HubFileNotFoundError`.
    """
    import lamina

    if os.getenv("TORCH_MODEL_ZOO"):
        warnings.warn("TORCH_MODEL_ZOO is deprecated (as in torch), use the environment variable TORCH_HOME instead",
                      stacklevel=2)
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name if file_name is not None else os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    stem, ext = os.path.splitext(cached_file)
    converted = stem + ".safetensors"
    for candidate in (cached_file,) if ext == ".safetensors" else (cached_file, converted):
        if os.path.isfile(candidate):
            return lamina.load(candidate, map_location=map_location, weights_only=weights_only)
    raise HubFileNotFoundError(url, os.path.abspath(cached_file),
                               None if ext == ".safetensors" else os.path.abspath(converted))


def _refuse(name: str) -> NoReturn:
    raise NotImplementedError(f"lamina.hub.{name} (torch.hub.{name}) fetches a repository and runs its "
                              f"{MODULE_HUBCONF}; lamina.hub never touches the network nor runs repository code. "
                              "Build the model in Python and load its weights with "
                              "lamina.hub.load_state_dict_from_url or lamina.load")


def load(repo_or_dir: str, model: str, *args: Any, source: str = "github", trust_repo: Any = "check",
         force_reload: bool = False, verbose: bool = True, skip_validation: bool = False, **kwargs: Any) -> NoReturn:
    _refuse("load")


def list(github: str, force_reload: bool = False, skip_validation: bool = False, trust_repo: Any = "check",
         verbose: bool = True) -> NoReturn:  # noqa: A001 - torch's name
    _refuse("list")


def help(github: str, model: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo: Any = "check") -> NoReturn:  # noqa: A001 - torch's name
    _refuse("help")
