"""Profile lamina's side of one workload with cProfile (one thread).

Usage: python benchmarks/profile_workload.py SUBSTRING [--steps N] [--sort tottime|cumtime] [--lines K] [--wall]
"""

from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rss  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("only")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--sort", default="tottime")
    p.add_argument("--lines", type=int, default=30)
    p.add_argument("--framework", default="lamina", choices=rss.FRAMEWORKS)
    p.add_argument("--wall", action="store_true", help="wall-clock timer (default: CPU time, steadier on a busy box)")
    args = p.parse_args(argv)
    env = rss.pinned_env(1)
    if os.environ.get("OPENBLAS_NUM_THREADS") != "1" or "numpy" in sys.modules:
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    import cProfile
    import pstats
    import time

    from workloads import WORKLOADS

    (w,) = [w for w in WORKLOADS if args.only in w.name]
    bench = w.build(args.framework)
    bench.step()
    bench.step()
    prof = cProfile.Profile() if args.wall else cProfile.Profile(time.process_time)
    prof.enable()
    for _ in range(args.steps):
        bench.step()
    prof.disable()
    pstats.Stats(prof).sort_stats(args.sort).print_stats(args.lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
