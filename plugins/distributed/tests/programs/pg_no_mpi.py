"""Without MPI: ``import lamina.distributed`` imports no mpi4py, and init_process_group names the pip command.

    python pg_no_mpi.py            # prints one JSON line

mpi4py is made unimportable (``sys.modules["mpi4py"] = None``) after the import check.
"""

from __future__ import annotations

import json
import sys

import lamina
import lamina.distributed as dist

out = {"mpi4py_after_import": "mpi4py" in sys.modules, "lamina_mpi4py": "mpi4py" in lamina.__dict__,
       "is_available": dist.is_available()}
sys.modules["mpi4py"] = None  # type: ignore[assignment]
out["is_mpi_available"] = dist.is_mpi_available()
try:
    dist.init_process_group()
except BaseException as e:  # noqa: BLE001  (the type is what is reported)
    out["error_type"] = type(e).__name__
    out["is_import_error"] = isinstance(e, ImportError)
    out["message"] = str(e)
out["is_initialized"] = dist.is_initialized()
print(json.dumps(out))
