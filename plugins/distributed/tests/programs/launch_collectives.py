"""lamina.distributed under a launcher (tests/test_launcher_jobs.py): prints one JSON line per rank.

Joins the default process group, all-reduces ``rank + 1`` and reports the rank and world size it got
from lamina.distributed, the launcher's RANK/WORLD_SIZE (null under plain ``mpiexec``) and the sum.
"""

import json
import os

import lamina
import lamina.distributed as dist

dist.init_process_group()
t = lamina.tensor([float(dist.get_rank() + 1)])
dist.all_reduce(t)
print(json.dumps({"rank": dist.get_rank(), "world_size": dist.get_world_size(), "sum": t.item(),
                  "env_rank": os.environ.get("RANK"), "env_world_size": os.environ.get("WORLD_SIZE")}), flush=True)
dist.destroy_process_group()
