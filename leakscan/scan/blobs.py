"""Scanning many git blobs, each read and matched once, on every core.

The blob list (in delta-chain order, so deltas resolve from git's small cache) is cut into contiguous chunks; each
chunk is streamed through its own `git cat-file --batch` in a worker process, prefiltered with the
keyword literals, and only blobs that can match go through the rules. Workers return the hits of the
few blobs that matched, never blob bytes, so memory stays at a constant plus the largest blob.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack
from typing import TYPE_CHECKING, NamedTuple

from leakscan.errors import SourceError
from leakscan.match.engine import has_anchored_keyword
from leakscan.match.text import is_plain
from leakscan.scan.content import BlobHits, match_blob
from leakscan.settings import Settings
from leakscan.sources.git import BlobRef, Reader, cat_file

if TYPE_CHECKING:
    from typing import Any

MIN_CHUNK = 1 << 20
MAX_CHUNK = 64 << 20
MAX_CHUNK_BLOBS = 4096
CHUNKS_PER_JOB = 16  # enough chunks that both workers finish together and the progress bar moves
LFS_POINTER = b"version https://git-lfs.github.com/spec/"
Progress = Callable[[int, int], None]  # (blobs done, bytes done), called as chunks finish

# Settings and `git cat-file` of this worker process, set once by `_start_worker` so the compiled
# rules are not pickled with every chunk and git's caches last. The only module-level state in leakscan, and only in pool workers.
_WORKER: dict[str, Any] = {}


class BlobScan(NamedTuple):
    """What scanning a list of blobs found. `reads` counts blobs read from git (each exactly once);
    `full_scans` those that passed the keyword prefilter and went through the rules."""

    hits: dict[str, BlobHits]  # oid -> hits, only for blobs with a hit or a rule timeout
    reads: int = 0
    bytes: int = 0
    binary: int = 0
    lfs_pointers: int = 0
    full_scans: int = 0


def scan_blobs(
    settings: Settings,
    git_dir: str,
    blobs: Sequence[BlobRef],
    jobs: int,
    progress: Progress | None = None,
    chunk_bytes: int | None = None,
) -> BlobScan:
    """Read and match every blob of `blobs` once; `jobs` worker processes when there is enough work."""
    total = sum(b.size for b in blobs)
    if chunk_bytes is None:
        chunk_bytes = min(MAX_CHUNK, max(MIN_CHUNK, total // max(1, jobs * CHUNKS_PER_JOB)))
    chunks = split(blobs, chunk_bytes)
    if jobs <= 1 or len(chunks) <= 1:
        results: list[BlobScan] = []
        if chunks:
            with cat_file(git_dir, bulk=True) as read:
                for chunk in chunks:
                    results.append(scan_chunk(settings, read, chunk))
                    _report(progress, results)
        return merge(results)
    return merge(_in_pool(settings, git_dir, chunks, jobs, progress))


def split(blobs: Sequence[BlobRef], chunk_bytes: int) -> list[list[str]]:
    """Contiguous runs of oids of about `chunk_bytes` each (the list's order is kept inside a run)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    size = 0
    for blob in blobs:
        current.append(blob.oid)
        size += blob.size
        if size >= chunk_bytes or len(current) >= MAX_CHUNK_BLOBS:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    return chunks


def scan_chunk(settings: Settings, read: Reader, oids: Sequence[str]) -> BlobScan:
    hits: dict[str, BlobHits] = {}
    reads = nbytes = binary = lfs = full = 0
    for oid, data in read(oids, None):
        assert data is not None  # no size limit here: oversized blobs are never dispatched
        reads += 1
        nbytes += len(data)
        if len(data) < 1024 and data.startswith(LFS_POINTER):
            lfs += 1
        if not _may_match(settings, data):
            continue
        full += 1
        found = match_blob(settings, data)
        binary += found.binary
        if found.hits or found.timeouts:
            hits[oid] = found
    return BlobScan(hits, reads, nbytes, binary, lfs, full)


def _may_match(settings: Settings, data: bytes) -> bool:
    """The cheap prefilter: binary-looking content goes to `match_blob` (it may be UTF-16 text, or is
    counted as binary); other content only when a keyword sits where a key could start (`sk_test_`,
    not `run_test_case`: docs/decisions.md)."""
    return not is_plain(data) or has_anchored_keyword(settings.matcher, data)


def merge(parts: Sequence[BlobScan]) -> BlobScan:
    hits: dict[str, BlobHits] = {}
    for part in parts:
        overlap = hits.keys() & part.hits.keys()
        if overlap:  # an invariant, not a user error: each blob is dispatched once
            raise AssertionError(f"blob {min(overlap)} was scanned twice")
        hits.update(part.hits)
    return BlobScan(
        hits,
        sum(p.reads for p in parts),
        sum(p.bytes for p in parts),
        sum(p.binary for p in parts),
        sum(p.lfs_pointers for p in parts),
        sum(p.full_scans for p in parts),
    )


def _in_pool(
    settings: Settings, git_dir: str, chunks: list[list[str]], jobs: int, progress: Progress | None
) -> list[BlobScan]:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    results: list[BlobScan] = []
    with ProcessPoolExecutor(
        max_workers=min(jobs, len(chunks)),
        mp_context=multiprocessing.get_context(method),
        initializer=_start_worker,
        initargs=(settings, git_dir),
    ) as pool:
        pending: set[Future[BlobScan]] = {pool.submit(_worker_chunk, c) for c in chunks}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    results.append(fut.result())  # re-raises a worker's SourceError
                _report(progress, results)
        except BrokenProcessPool:
            raise SourceError(
                "a scanning worker process died (out of memory?); the scan did not finish. "
                "Try again with --jobs 1 or a smaller --max-file-size."
            ) from None
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    return results


def _start_worker(settings: Settings, git_dir: str) -> None:
    _WORKER["settings"] = settings
    # One `git cat-file --batch` for all the chunks of this worker; it ends when the worker does (its
    # stdin closes). Entered by hand: a pool worker has no scope to hold a `with` open.
    _WORKER["stack"] = stack = ExitStack()  # kept, or collecting it would close the reader
    _WORKER["read"] = stack.enter_context(cat_file(git_dir, bulk=True))
    # When the worker exits, close git's stdin and wait for it: no orphan, and its CPU time is counted.
    multiprocessing.util.Finalize(None, stack.close, exitpriority=10)
    # Ctrl-C reaches the whole process group: the parent reports it; a worker just stops, without the
    # traceback multiprocessing would print (its `git cat-file` gets the signal too).
    signal.signal(signal.SIGINT, _stop_worker)


def _stop_worker(signum: int, frame: object) -> None:
    os._exit(128 + signum)


def _worker_chunk(oids: list[str]) -> BlobScan:
    return scan_chunk(_WORKER["settings"], _WORKER["read"], oids)


def _report(progress: Progress | None, results: Sequence[BlobScan]) -> None:
    if progress is not None:
        progress(sum(r.reads for r in results), sum(r.bytes for r in results))
