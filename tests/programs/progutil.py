"""The few lines every program here shares so two runs can be compared (see README.md): initial weights in,
final weights and a JSON-lines log out. Imported by the programs as ``import progutil`` (their own folder is
on sys.path), under real torch and under ``lamina run`` alike."""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from safetensors.numpy import load_file, save_file


def add_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--save-init", default=None, help="write the initial state_dict (safetensors)")
    parser.add_argument("--init", default=None, help="load the initial state_dict (safetensors)")
    parser.add_argument("--log", default=None, help="write one JSON record per line here")
    parser.add_argument("--final", default=None, help="write the trained state_dict (safetensors)")


def _arrays(modules: dict[str, torch.nn.Module]) -> dict[str, np.ndarray]:
    out = {}
    for prefix, m in modules.items():
        for k, v in m.state_dict().items():
            out[f"{prefix}.{k}" if prefix else k] = np.ascontiguousarray(v.detach().cpu().numpy())
    return out


def start(args: argparse.Namespace, **modules: torch.nn.Module) -> None:
    """Save (--save-init) or load (--init) the initial weights of ``modules`` (name -> module)."""
    if args.save_init:
        save_file(_arrays(modules), args.save_init)
    if args.init:
        found = load_file(args.init)
        for prefix, m in modules.items():
            sd = {k[len(prefix) + 1:] if prefix else k: torch.from_numpy(v.copy()) for k, v in found.items()
                  if (k.startswith(prefix + ".") if prefix else True)}
            m.load_state_dict(sd)
    if args.log:
        open(args.log, "w").close()


def log(args: argparse.Namespace, **record: object) -> None:
    if args.log:
        with open(args.log, "a") as f:
            f.write(json.dumps(record) + "\n")


def finish(args: argparse.Namespace, **modules: torch.nn.Module) -> None:
    if args.final:
        save_file(_arrays(modules), args.final)
