"""Measuring one command with all the processes it starts: wall, CPU (user + system) of the whole
process tree, the peak RSS of its coordinator and of each worker, and for a Dask cluster the CPU its
long-lived processes spent on the run. Linux only (/proc, prctl). Used by benchmarks/fleet.py.

CPU: the command runs under a small wrapper that is a child subreaper, so processes that outlive
their parent (multiprocessing's fork server and its workers) are reaped by it and counted in its
RUSAGE_CHILDREN. Peak RSS per process: /proc/PID/status VmHWM, polled every 0.1 s for every process
of the tree (a worker lives for the whole run, so its peak is seen).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

WRAPPER = """
import ctypes, json, os, resource, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
child = subprocess.Popen(sys.argv[2:])
_, status, own = os.wait4(child.pid, 0)  # the command's own peak (and its waited-for children's)
code = os.waitstatus_to_exitcode(status)
while True:
    try:
        os.wait()
    except ChildProcessError:
        break
r = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "user": r.ru_utime, "sys": r.ru_stime, "own_kib": own.ru_maxrss}, out)
"""
TICK = os.sysconf("SC_CLK_TCK")


class Measured(NamedTuple):
    code: int
    wall: float
    cpu: float  # user + system seconds of every process of the tree (and of the cluster's, if any)
    coordinator_mib: float  # peak RSS of the command's own process (or of a git it waited for)
    worker_mib: (
        float  # the largest peak RSS of a worker process (a Python process with no Python child)
    )
    processes: int  # worker processes seen


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree(root: int) -> list[int]:
    """`root` and every process below it, now."""
    kids, out, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += kids.get(pid, [])
    return out


def _is_python(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip() in ("python", "python3", "leakscan",
                                                                   "dask")  # fmt: skip
    except OSError:
        return False


def _hwm_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def python_leaves(root: int) -> list[int]:
    """The worker processes under `root`: Python processes without a Python child."""
    kids = _children()
    pids = [p for p in tree(root) if _is_python(p)]
    return [p for p in pids if not any(_is_python(k) for k in kids.get(p, []))]


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of `pids` and of their waited-for children (git), so far."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / TICK


def reset_peaks(pids: Iterable[int]) -> None:
    """Reset VmHWM of long-lived processes (a cluster's workers) before a run."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def measure(
    cmd: Sequence[str],
    scratch: Path,
    cluster: Sequence[int] = (),
    cluster_workers: Sequence[int] = (),
) -> Measured:
    """Run `cmd` (output to /dev/null), measuring it; `cluster`: the pids of the Dask scheduler and
    worker processes it uses, whose CPU during the run is added; `cluster_workers`: those whose
    peak RSS is reported (the worker processes, not their nannies)."""
    result = scratch / "rusage.json"
    reset_peaks(cluster_workers)
    cluster_cpu = cpu_seconds(cluster)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", WRAPPER, str(result), *cmd],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    peaks: dict[int, int] = {}
    seen: dict[int, int] = {}  # Python leaves -> polls they were seen in
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            kids = _children()
            for pid in tree(proc.pid):
                peaks[pid] = max(peaks.get(pid, 0), _hwm_kib(pid))
            for p in python_leaves(proc.pid):
                if p not in kids.get(proc.pid, []):
                    seen[p] = seen.get(p, 0) + 1
            stop.wait(0.1)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    proc.wait()
    wall = time.monotonic() - started
    stop.set()
    poller.join()
    usage = json.loads(result.read_text())
    # a worker lives for many polls; a fork about to exec git is a Python leaf for an instant
    workers = [peaks.get(p, 0) for p, polls in seen.items() if polls >= 3]
    if cluster_workers:
        workers = [_hwm_kib(p) for p in cluster_workers]
    return Measured(
        code=usage["code"],
        wall=wall,
        cpu=usage["user"] + usage["sys"] + cpu_seconds(cluster) - cluster_cpu,
        coordinator_mib=usage["own_kib"] / 1024,
        worker_mib=max(workers, default=0) / 1024,
        processes=len(workers),
    )
