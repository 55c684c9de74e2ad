"""``lamina run`` and ``python -m lamina.distributed.run``: run a program here, or as an MPI job of N ranks.

Usage::

    lamina run [--nproc-per-node N] [--hostfile FILE] [-m] [--report] [--no-torch-alias] [--] program [args ...]
    python -m lamina.distributed.run ...          # the same options

``--nproc_per_node`` is accepted too. Options after the program belong to the program.

Without ``--nproc-per-node`` (and without ``--hostfile``) the program runs in this process exactly as
``python program.py args`` would (``-m``: as ``python -m module args``): its ``sys.argv``, ``__name__ ==
"__main__"``, ``sys.path[0]`` (the program's folder), its exit status (``sys.exit(3)`` gives 3, an uncaught
exception 1 with python's traceback; an uncaught KeyboardInterrupt gives 130).

With ``--nproc-per-node N`` (N >= 1; N = 1 starts a job of one rank, as torchrun does) the program runs as N
ranks of one MPI job, started by the ``mpiexec`` next to this Python (MPICH's wheel in a venv), else the
first on PATH (``pip install "lamina-distributed[mpi]"``, or ``pip install "lamina[mpi]"``, installs both
mpi4py and MPICH). Each rank runs the program under mpi4py's runner (as ``python -m mpi4py program``), so a
rank that raises prints its traceback and aborts the whole job (once the program has imported mpi4py's
MPI, as ``lamina.distributed.init_process_group`` does). Each rank's environment has torchrun's variables:

    RANK, WORLD_SIZE            the rank in the job and the job's size (MPI's COMM_WORLD rank and size)
    LOCAL_RANK, LOCAL_WORLD_SIZE  the rank on this machine and the ranks on this machine
    GROUP_RANK, NODE_RANK       the machine's index (RANK // LOCAL_WORLD_SIZE); GROUP_WORLD_SIZE machines
    OMP_NUM_THREADS=1           unless it is set already

MASTER_ADDR and MASTER_PORT are not set: MPI does the rendezvous. Programs need nothing from this launcher:
``mpiexec -n N python -m mpi4py program.py`` runs them too (lamina.distributed takes the ranks from MPI).

Exit status: 0 when every rank succeeds; else the first failing rank's status (``sys.exit(3)`` in one rank
gives 3, an uncaught exception 1; "first" by the time each rank failed, as recorded by the ranks on this
machine, else mpiexec's own status, which for MPICH's hydra is the bitwise OR of the ranks'); a rank
killed by signal S ends the job and gives hydra's status, S (9 for SIGKILL). SIGINT, SIGTERM or SIGHUP
sent to the launcher is forwarded to the job (SIGINT as SIGINT: the ranks see KeyboardInterrupt, and a
second SIGINT makes hydra kill them; SIGTERM and SIGHUP as SIGTERM: hydra kills the ranks) and the
launcher returns 128 + the signal's number (130, 143, 129).

The program's ``import torch`` (in it and in every library it imports), ``import torchvision`` and the
other aliases plugins declare resolve to lamina's modules (:func:`lamina.compat.install_torch_alias`), in
this process or in every rank; ``--no-torch-alias`` runs the program's imports as they are. ``--report``
first prints the torch names the program's source uses that lamina does not provide
(:func:`lamina_distributed.report.missing_names`), then runs it.

``--hostfile FILE`` is passed to mpiexec (``-f FILE -ppn N`` for hydra, ``--hostfile FILE -N N`` for Open
MPI) with ``-n`` = N times the number of hosts in FILE, for a job over several machines; the same Python
environment must exist at the same path on each. Multi-machine runs are not verified here, nor is Open MPI.
Output is Python's usual: a rank's stdout is block-buffered through mpiexec's pipe, so print with
``flush=True`` (or run with ``PYTHONUNBUFFERED=1``) to see lines as they come.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ._bootstrap import TORCH_ALIAS_ENV


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer N, got {text!r}")
    return value


def configure(parser: argparse.ArgumentParser) -> None:
    """The options of ``lamina run`` (also those of ``python -m lamina.distributed.run``)."""
    parser.add_argument("--nproc-per-node", "--nproc_per_node", dest="nproc_per_node", type=_positive_int,
                        default=None, metavar="N",
                        help="run N ranks on each machine through mpiexec (default: run in this process)")
    parser.add_argument("--hostfile", default=None, metavar="FILE",
                        help="mpiexec's host file, for a job over several machines (N defaults to 1 a host)")
    parser.add_argument("-m", "--module", action="store_true",
                        help="the program is a module name, run as python -m module")
    parser.add_argument("--report", action="store_true",
                        help="first list the torch names the program's source uses that lamina does not provide")
    parser.add_argument("--no-torch-alias", dest="torch_alias", action="store_false",
                        help="do not serve `import torch` (and torchvision) from lamina: run the program as is")
    parser.add_argument("target", nargs=argparse.REMAINDER, metavar="program [args ...]",
                        help="the script (or module) to run and its arguments")


def run_command(args: argparse.Namespace, prog: str = "lamina run") -> int:
    """Run the program that ``configure``'s options describe; returns the exit status."""
    target = list(args.target)
    if target[:1] == ["--"]:
        del target[0]
    if not target:
        print(f"{prog}: error: expected a program to run ({'a module name' if args.module else 'script.py'} "
              f"[args ...]), got none", file=sys.stderr)
        return 2
    alias = getattr(args, "torch_alias", True)
    if getattr(args, "report", False):
        _report_missing(target[0], args.module, prog)
    if args.nproc_per_node is None and args.hostfile is None:
        from ._launch_local import run_program

        if alias:
            from lamina.compat import install_torch_alias

            install_torch_alias()
        return run_program(target, module=args.module, prog=prog)
    if alias:
        os.environ[TORCH_ALIAS_ENV] = "1"   # each rank's bootstrap installs it
    from ._launch_mpi import LaunchError, launch

    try:
        return launch(target, args.nproc_per_node or 1, module=args.module, hostfile=args.hostfile)
    except LaunchError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1


def _report_missing(target: str, module: bool, prog: str) -> None:
    """Print (to stderr) the torch names the program's source uses that lamina lacks (``--report``)."""
    import importlib.util

    from .report import missing_names

    path = target
    if module:
        spec = importlib.util.find_spec(target)
        path = spec.origin if spec is not None and spec.origin else ""
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
        found = missing_names(source, path)
    except (OSError, SyntaxError, UnicodeDecodeError) as exc:
        print(f"{prog} --report: cannot read {target}: {exc}", file=sys.stderr)
        return
    if not found:
        print(f"{prog} --report: lamina provides every torch name {target} uses (methods of tensors are not "
              "checked before the run)", file=sys.stderr)
        return
    print(f"{prog} --report: {target} uses {len(found)} torch name{'s' * (len(found) != 1)} lamina does not "
          "provide:", file=sys.stderr)
    for name, line, why in found:
        why = why.split(". Available in ")[0]
        print(f"  line {line}: {why if why.startswith(name.partition('.')[0] + '.') else f'{name}: {why}'}",
              file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m lamina.distributed.run [options] program [args ...]``; returns the exit status."""
    prog = "python -m lamina.distributed.run"
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n", 1)[0])
    configure(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    return run_command(args, prog)


if __name__ == "__main__":
    sys.exit(main())
