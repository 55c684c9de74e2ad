"""What a program sees when ``lamina run`` starts it, then how it ends (tests/test_launcher*.py).

Prints one JSON line: ``sys.argv``, ``__name__``, ``__file__``, ``sys.path[0]`` and the launcher's
environment variables (RANK, WORLD_SIZE, ...; null where unset). The first argument says how to end:
``ok`` (fall off the end), ``exit=N`` (``sys.exit(N)``), ``exit=none``, ``exit=text`` (``sys.exit("text")``),
``raise`` (an uncaught ValueError), ``interrupt`` (an uncaught KeyboardInterrupt).
"""

import json
import os
import sys

VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "NODE_RANK", "GROUP_WORLD_SIZE",
             "OMP_NUM_THREADS", "MASTER_ADDR", "MASTER_PORT")


def fail_here() -> None:
    raise ValueError("launch_report fails on purpose")


report = {"argv": sys.argv, "name": __name__, "file": __file__, "path0": sys.path[0],
          "env": {name: os.environ.get(name) for name in VARIABLES}}
print(json.dumps(report), flush=True)
how = sys.argv[1] if len(sys.argv) > 1 else "ok"
if how == "exit=none":
    sys.exit(None)
elif how == "exit=text":
    sys.exit("launch_report exits with a message")
elif how.startswith("exit="):
    sys.exit(int(how[len("exit="):]))
elif how == "raise":
    fail_here()
elif how == "interrupt":
    raise KeyboardInterrupt
