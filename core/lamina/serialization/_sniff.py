"""Recognise files that are not lamina/safetensors checkpoints and say what they are.

``lamina.load`` looks at the first bytes before trusting the 8-byte header length, so that a
pickle, a ``torch.save`` zip archive or a ``.npy`` file gets a precise message with a way out
instead of "header too large". Nothing here parses or executes the foreign file.
"""

from __future__ import annotations

_TORCH_CONVERT = ("in PyTorch, convert it with `import torch, safetensors.torch; "
                  "safetensors.torch.save_file(torch.load(path, weights_only=True), 'model.safetensors')` "
                  "and load the .safetensors file")


def describe(head: bytes) -> tuple[str, str] | None:
    """``(what the file looks like, hint)`` for a known foreign format, else None."""
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ("a zip archive, as written by torch.save (PyTorch's default format) or numpy.savez",
                "lamina never unpickles; " + _TORCH_CONVERT)
    if len(head) >= 3 and head[0] == 0x80 and 2 <= head[1] <= 5 and head[2] != 0:  # byte 2: an opcode
        return (f"a Python pickle (protocol {head[1]}), as written by pickle.dump, legacy torch.save "
                "or lamina.save(..., pickle=True)",
                "loading a pickle can execute arbitrary code, so lamina.load refuses it by default; if the file "
                "was written by lamina.save(..., pickle=True) and you trust its source, pass weights_only=False; "
                "for a PyTorch file, " + _TORCH_CONVERT)
    if head.startswith(b"\x93NUMPY"):
        return ("a NumPy .npy file (numpy.save)",
                "read it with numpy.load(path) and wrap the array with lamina.from_numpy(...)")
    if head.startswith(b"\x1f\x8b\x08"):
        return ("a gzip-compressed file", "decompress it first (gzip.open) and load the result")
    if head.startswith(b"\x89HDF\r\n\x1a\n"):
        return ("an HDF5 file (h5py / Keras)", "export the arrays and save them with lamina.save")
    if head and all(32 <= b < 127 or b in b"\t\r\n" for b in head[:8]) and head.lstrip()[:1] in (b"{", b"["):
        return ("a JSON or text file", "a lamina checkpoint starts with an 8-byte header length, then the JSON header")
    return None


def hexdump(head: bytes, n: int = 16) -> str:
    """The first ``n`` bytes as hex, for messages about unrecognised files."""
    return " ".join(f"{b:02x}" for b in head[:n]) or "(none)"
