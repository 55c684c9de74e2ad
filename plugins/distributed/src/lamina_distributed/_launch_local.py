"""``lamina run script.py args`` without ``--nproc-per-node``: the program runs in this process, as
``python script.py args`` (or ``python -m module args``) would run it.

What matches python: ``sys.argv`` (the path as given, then the arguments), ``__name__ == "__main__"``,
``sys.path[0]`` (the script's folder with symlinks resolved; the folder or zip itself for a folder or zip
with ``__main__.py``; the working directory for ``-m``), the exit status (``sys.exit(3)`` gives 3,
``sys.exit("text")`` prints the text and gives 1, an uncaught exception gives 1) and the traceback, which
starts at the program's own frames and goes through ``sys.excepthook``. A missing file is python's
"can't open file" error with status 2. Deviation: an uncaught ``KeyboardInterrupt`` prints its traceback
and gives status 130 (python re-raises SIGINT on itself, which a shell reports as 130 too).
"""

from __future__ import annotations

import builtins
import importlib.machinery
import io
import os
import runpy
import sys
import types
from collections.abc import Sequence

#: frames of these modules are cut from the top of a failing program's traceback (python shows none)
_RUNNER_MODULES = frozenset({__name__, "runpy"})


def exit_status(code: object) -> int:
    """The process status python gives for ``SystemExit(code)``, printing a non-integer code as it does."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _program_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    while tb is not None and tb.tb_frame.f_globals.get("__name__") in _RUNNER_MODULES:
        tb = tb.tb_next
    return tb


def _report(exc: BaseException) -> None:
    tb = _program_traceback(exc.__traceback__)
    sys.excepthook(type(exc), exc.with_traceback(tb), tb)


def _path_entry(target: str, module: bool) -> str | None:
    """What python puts at ``sys.path[0]`` for this program; None when the file cannot be opened."""
    if module:
        return os.getcwd()
    import zipfile

    if os.path.isdir(target) or (os.path.isfile(target) and zipfile.is_zipfile(target)):
        return os.path.abspath(target)
    if not os.path.isfile(target):
        return None
    return os.path.dirname(os.path.realpath(target))


def _run_source_file(path: str) -> None:
    """Run the Python source file ``path`` (absolute, as python makes ``__file__``) as ``__main__``."""
    with io.open_code(path) as f:
        source = f.read()
    code = compile(source, path, "exec", dont_inherit=True)
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=path, __cached__=None, __builtins__=builtins,
                         __loader__=importlib.machinery.SourceFileLoader("__main__", path))
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = main
    try:
        exec(code, main.__dict__)
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved


def run_program(target: Sequence[str], *, module: bool = False, prog: str = "lamina run") -> int:
    """Run ``target`` = ``[script.py, *args]`` (or ``[module, *args]`` with ``module=True``) in this
    process as python would; returns the exit status. ``sys.argv`` and ``sys.path`` are restored after;
    ``prog`` starts the messages for a file or module that is not there.

    This is the one place where ``lamina run`` executes a program in-process (a later ``import torch``
    alias installs itself here).
    """
    if not target:
        raise ValueError("run_program: expected [script, *args] (or [module, *args]), got an empty list")
    name, args = target[0], list(target[1:])
    entry = _path_entry(name, module)
    if entry is None:
        print(f"{prog}: can't open file {os.path.abspath(name)!r}: "
              f"[Errno 2] No such file or directory", file=sys.stderr)
        return 2
    saved_argv, saved_path = sys.argv[:], sys.path[:]
    safe_path = getattr(sys.flags, "safe_path", False)  # python -P adds no program folder
    sys.argv[:] = [name, *args]
    if not safe_path and sys.path:  # sys.path[0] is this launcher's folder (python's is the program's)
        if entry == os.path.abspath(name):
            del sys.path[0]  # a folder or zip: runpy puts it first itself
        else:
            sys.path[0] = entry
    try:
        if module:
            runpy.run_module(name, run_name="__main__", alter_sys=True)
        elif entry == os.path.abspath(name) or name.endswith((".pyc", ".pyo")):
            runpy.run_path(name, run_name="__main__")  # a folder or zip with __main__.py, bytecode
        else:
            _run_source_file(os.path.abspath(name))
    except SystemExit as exc:
        return exit_status(exc.code)
    except KeyboardInterrupt as exc:
        _report(exc)
        return 130
    except BaseException as exc:  # noqa: BLE001 - reported as python reports an uncaught exception
        if _program_traceback(exc.__traceback__) is None:  # runpy's own error: python -m no_such_module
            print(f"{prog}: {exc}", file=sys.stderr)
        else:
            _report(exc)
        return 1
    finally:
        sys.argv[:], sys.path[:] = saved_argv, saved_path
    return 0
