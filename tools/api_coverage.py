"""How much of torch 2.13's public API lamina provides, per family; writes docs/compat.md.

    python tools/api_coverage.py                    # the table
    python tools/api_coverage.py --missing linalg   # one family's missing names
    python tools/api_coverage.py --write docs/compat.md
    python tools/api_coverage.py --check docs/compat.md   # fails when the file is out of date

It needs torch (the CPU build, the tests' oracle) and lamina with its plugins installed. A torch name
counts as provided when the same attribute path resolves on lamina (plugin names included, resolved
lazily as a user's program would). Internals are left out of every count, by the rules in
``INTERNAL`` below, and listed with their reason in the compat page.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path

#: (regex on the bare name, reason): torch names that are not part of the API a program uses
INTERNAL: tuple[tuple[str, str], ...] = (
    (r"^_", "private"),
    (r"quantiz|^q_|^int_repr$|^qscheme$|^is_quantized$|^dequantize$|choose_qparams|fake_quant", "quantization"),
    (r"cudnn|miopen|mkldnn|fbgemm|^is_vulkan_available$", "cuDNN/MIOpen/MKLDNN/FBGEMM kernels"),
    (r"_copy$", "*_copy view variant"),
    (r"^native_", "native_* kernel"),
    (r"^sym_", "symbolic-shape helper of torch.compile"),
    (r"^(parse_ir|parse_schema|parse_type_comment|merge_type_from_type_comment|import_ir_module(_from_buffer)?|"
     r"unify_type_list|fork|wait)$", "TorchScript IR"),
    (r"^batch_norm_(backward_elemt|backward_reduce|elemt|gather_stats(_with_counts)?|stats|update_stats)$",
     "SyncBatchNorm's CUDA kernels"),
    (r"^(autocast_(increment|decrement)_nesting|(get|set)_autocast_(ipu|xla)_(dtype|enabled)|is_autocast_(ipu|xla)_enabled)$",
     "autocast internals for IPU/XLA"),
    (r"^(get_file_path|compiled_with_cxx11_abi|classproperty|prepare_multiprocessing_environment|"
     r"profiler_allow_cudagraph_cupti_lazy_reinit_cuda12|thread_safe_generator)$", "build/runtime internals"),
    (r"^(common_args|factory_common_args|multi_dim_common|torch|Tensor)$", "docstring helper or re-export"),
    (r"^(has_torch_function(_unary|_variadic)?|handle_torch_function|boolean_dispatch|assert_int_or_pair)$",
     "__torch_function__ dispatch and TorchScript helpers"),
)


#: (family regex, name regex, why lamina lacks it): the reasons docs/compat.md gives for missing names
MISSING_WHY: tuple[tuple[str, str, str], ...] = (
    (r"^torch$", r"autocast", "autocast (mixed precision) is not provided yet (issue: real PyTorch programs, item 5)"),
    (r"^(torch|Tensor)$", r"sparse|bsr|bsc|csc|csr|crow|ccol|col_indices|row_indices|coalesce|^indices$|^values$|"
                          r"^smm$|^sspaddmm$|dense_dim|is_coalesced",
     "sparse layouts beyond what lamina-sparse provides"),
    (r"^Tensor$", r"^to_padded_tensor$", "nested (jagged) tensors, `torch.nested`, are not provided"),
    (r"^Tensor$", r"^index$", "first-class dimensions (`functorch.dim`), a prototype, are not provided"),
    (r"^(torch|Tensor)$", r"^slice_inverse$", "the inverse of a slice for torch.compile's functionalization; "
                                             "lamina.compile does not trace"),
    (r"^Tensor$", r"^share_memory_$", "moving a tensor's storage into shared memory is not provided (lamina "
                                      "cannot move a storage under existing views; the DataLoader's workers pass "
                                      "batches through shared memory of their own)"),
    (r"^Tensor$", r"^storage_type$", "the legacy typed-storage classes (`torch.FloatStorage`, ...) are not "
                                     "provided; `untyped_storage()` is"),
    (r"^nn(\.functional)?$", r"(?i)linear_cross_entropy|grouped_mm|scaled_mm", "a torch 2.13 prototype API"),
)

NOT_YET = "not implemented yet"


def missing_reason(family: str, name: str) -> str:
    for fam, pattern, why in MISSING_WHY:
        if re.search(fam, family) and re.search(pattern, name):
            return why
    return NOT_YET


def internal_reason(name: str) -> str | None:
    for pattern, reason in INTERNAL:
        if re.search(pattern, name):
            return reason
    return None


def _public(obj: object, keep: Callable[[object], bool]) -> list[str]:
    """Names of ``obj`` that ``keep`` accepts; functions and classes that other libraries define and a
    torch module merely imports (typing.Optional, functools.partial) are not torch's API."""
    names = []
    for name in dir(obj):
        try:
            value = getattr(obj, name)
        except Exception:
            continue
        if isinstance(value, types.ModuleType):
            continue
        origin = getattr(value, "__module__", None) if callable(value) else None
        if isinstance(origin, str) and not origin.startswith("torch") and origin not in ("builtins",):
            continue
        if keep(value):
            names.append(name)
    return sorted(names)


def _functions(value: object) -> bool:
    return callable(value) and not isinstance(value, type)


def _classes(value: object) -> bool:
    return isinstance(value, type)


def _anything(value: object) -> bool:
    return True


def families(torch) -> dict[str, list[str]]:
    """Family name (an attribute path under torch) -> the public torch names in it."""
    import torch.distributions
    import torch.fft
    import torch.linalg
    import torch.nn.functional
    import torch.special

    return {
        "torch": _public(torch, _functions),
        "Tensor": _public(torch.Tensor, _anything),
        "nn": _public(torch.nn, _classes),
        "nn.functional": _public(torch.nn.functional, _functions),
        "nn.init": _public(torch.nn.init, _functions),
        "optim": _public(torch.optim, _classes),
        "optim.lr_scheduler": _public(torch.optim.lr_scheduler, _classes),
        "linalg": _public(torch.linalg, _functions),
        "fft": _public(torch.fft, _functions),
        "special": _public(torch.special, _functions),
        "distributions": [n for n in torch.distributions.__all__],
    }


def _resolve(root: object, path: str) -> object:
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def provided(lamina, family: str, name: str) -> bool:
    try:
        _resolve(lamina, name if family == "torch" else f"{family}.{name}")
    except Exception:  # a missing name, or a plugin that is absent: both count as not provided
        return False
    return True


def measure(torch, lamina) -> dict[str, dict[str, list]]:
    """Family -> {"have": [...], "missing": [...], "internal": [(name, reason), ...]}."""
    out: dict[str, dict[str, list]] = {}
    for family, names in families(torch).items():
        row: dict[str, list] = {"have": [], "missing": [], "internal": []}
        for name in names:
            reason = internal_reason(name)
            if reason is not None:
                row["internal"].append((name, reason))
            elif provided(lamina, family, name):
                row["have"].append(name)
            else:
                row["missing"].append(name)
        out[family] = row
    return out


def _percent(row: dict[str, list]) -> float:
    total = len(row["have"]) + len(row["missing"])
    return 100.0 * len(row["have"]) / total if total else 100.0


def table(result: dict[str, dict[str, list]]) -> str:
    lines = [f"{'family':<20} {'provided':>8} {'of':>5} {'coverage':>9} {'internal':>9}"]
    for family, row in result.items():
        total = len(row["have"]) + len(row["missing"])
        lines.append(f"{family:<20} {len(row['have']):>8} {total:>5} {_percent(row):>8.1f}% {len(row['internal']):>9}")
    have = sum(len(r["have"]) for r in result.values())
    total = sum(len(r["have"]) + len(r["missing"]) for r in result.values())
    lines.append(f"{'all':<20} {have:>8} {total:>5} {100.0 * have / total:>8.1f}%")
    return "\n".join(lines)


def markdown(result: dict[str, dict[str, list]], torch_version: str) -> str:
    out = [
        "# Compatibility with PyTorch",
        "",
        f"Generated by `python tools/api_coverage.py --write docs/compat.md` against torch {torch_version};",
        "do not edit by hand. A name counts as provided when the same attribute path resolves on lamina with",
        "every first-party plugin installed. Internals (quantization, cuDNN/MIOpen/MKLDNN/FBGEMM kernels,",
        "`*_copy` view variants, `native_*` kernels, TorchScript IR) are left out of the counts.",
        "",
        "| family | provided | of | coverage |",
        "|---|---:|---:|---:|",
    ]
    for family, row in result.items():
        total = len(row["have"]) + len(row["missing"])
        out.append(f"| `{family}` | {len(row['have'])} | {total} | {_percent(row):.1f}% |")
    out.append("")
    out.append("## Not provided yet")
    out.append("")
    out.append("Every name below raises an error naming the torch name when a program reaches it; each list says")
    out.append("why the name is missing.")
    for family, row in result.items():
        if not row["missing"]:
            continue
        out.append("")
        out.append(f"### `{family}` ({len(row['missing'])})")
        why: dict[str, list[str]] = {}
        for n in row["missing"]:
            why.setdefault(missing_reason(family, n), []).append(n)
        for reason in sorted(why, key=lambda r: (r == NOT_YET, r)):
            out.append("")
            out.append(f"- {reason}: " + ", ".join(f"`{n}`" for n in why[reason]))
    out.append("")
    out.append("## Left out as internals")
    for family, row in result.items():
        if not row["internal"]:
            continue
        by_reason: dict[str, list[str]] = {}
        for name, reason in row["internal"]:
            if reason != "private":
                by_reason.setdefault(reason, []).append(name)
        if not by_reason:
            continue
        out.append("")
        out.append(f"### `{family}`")
        out.append("")
        for reason, names in by_reason.items():
            out.append(f"- {reason}: " + ", ".join(f"`{n}`" for n in names))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--missing", metavar="FAMILY", help="print one family's missing names")
    parser.add_argument("--write", metavar="PATH", help="write the compat page")
    parser.add_argument("--check", metavar="PATH", help="fail when the compat page is out of date")
    args = parser.parse_args(argv)
    import lamina
    import torch

    result = measure(torch, lamina)
    if args.missing:
        print("\n".join(result[args.missing]["missing"]))
        return 0
    print(table(result))
    text = markdown(result, torch.__version__.split("+")[0])
    if args.write:
        Path(args.write).write_text(text, encoding="utf-8")
    if args.check:
        current = Path(args.check).read_text(encoding="utf-8") if Path(args.check).exists() else ""
        if current != text:
            print(f"{args.check} is out of date: run python tools/api_coverage.py --write {args.check}",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
