"""Scanning many git blobs, each read and matched once, on every core.

The blob list (in delta-chain order, so deltas resolve from git's small cache) is cut into contiguous
chunks; each worker process (`workers.blobpool`; this process alone for small scans) streams its
chunks through its own `git cat-file --batch`, prefilters them with the keyword literals (plain or
encoded), and sends only blobs that can match through the rules. Workers return the hits of the
few blobs that matched, never blob bytes, so memory stays at a constant plus the largest blob.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from typing import NamedTuple

from leakscan.errors import SourceError
from leakscan.match.engine import has_anchored_keyword
from leakscan.match.needles import has_encoded_keyword
from leakscan.match.text import COMPRESSED, is_plain
from leakscan.scan.content import BlobHits, is_lfs_pointer, match_blob
from leakscan.settings import Settings
from leakscan.sources.git import BlobRef, Reader, cat_file
from leakscan.workers import Executor, Job, Lost
from leakscan.workers.blobpool import BlobPool
from leakscan.workers.forks import ForkExecutor

MIN_CHUNK = 1 << 20
MAX_CHUNK = 64 << 20
MAX_CHUNK_BLOBS = 4096
CHUNKS_PER_JOB = 16  # enough chunks that both workers finish together and the progress bar moves
Progress = Callable[[int, int], None]  # (blobs done, bytes done), called as chunks finish


class Chunks(NamedTuple):
    """What every worker needs, sent once: the settings, and where to read blobs from (`read`: that
    worker's `git cat-file --batch`, once `reading` has started it)."""

    settings: Settings
    git_dir: str
    read: Reader | None = None


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
    """Read and match every blob of `blobs` once; `jobs` worker processes when there is enough work
    (one chunk, or `--jobs 1`: this process, no fork)."""
    total = sum(b.size for b in blobs)
    if chunk_bytes is None:
        chunk_bytes = min(MAX_CHUNK, max(MIN_CHUNK, total // max(1, jobs * CHUNKS_PER_JOB)))
    chunks = split(blobs, chunk_bytes)
    job = Job(scan_chunk, Chunks(settings, git_dir), opens=reading)
    workers = min(jobs, len(chunks))
    executor: Executor[list[str], BlobScan] = ForkExecutor[list[str], BlobScan](job, 1)
    if workers > 1:  # one worker is this process: no fork
        executor = BlobPool[list[str], BlobScan](job, workers)
    results: list[BlobScan] = []
    with closing(executor):
        for chunk in chunks:
            executor.submit(chunk)
        for _ in chunks:
            _, result = executor.next_done()  # re-raises a worker's SourceError
            if isinstance(result, Lost):
                raise SourceError(f"{result.reason}; the scan did not finish. "
                                  "Try again with --jobs 1 or a smaller --max-file-size.")  # fmt: skip
            results.append(result)
            _report(progress, results)
    return merge(results)


@contextmanager
def reading(chunks: Chunks) -> Iterator[Chunks]:
    """`chunks` with a running `git cat-file --batch`, kept for all of a worker's chunks (a new one per
    chunk re-inflated delta bases and re-faulted the pack at every boundary: docs/performance.md)."""
    with cat_file(chunks.git_dir, bulk=True) as read:
        yield chunks._replace(read=read)


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


def scan_chunk(chunks: Chunks, oids: list[str]) -> BlobScan:
    """Read one chunk's blobs and match those that may hold a key."""
    settings, _, read = chunks
    assert read is not None  # a `Job` with `opens=reading` started it
    hits: dict[str, BlobHits] = {}
    reads = nbytes = binary = lfs = full = 0
    for oid, data in read(oids, None):
        assert data is not None  # no size limit here: oversized blobs are never dispatched
        reads += 1
        nbytes += len(data)
        lfs += is_lfs_pointer(data)
        if not _may_match(settings, data):
            continue
        full += 1
        found = match_blob(settings, data)
        binary += found.binary
        if found.hits or found.timeouts or found.problems:
            hits[oid] = found
    return BlobScan(hits, reads, nbytes, binary, lfs, full)


def _may_match(settings: Settings, data: bytes) -> bool:
    """The cheap prefilter: binary-looking content goes to `match_blob` (it may be UTF-16 text, a binary
    holding a key prefix, or is counted as binary); other content only when a keyword sits where a key could start (`sk_test_`,
    not `run_test_case`: docs/decisions.md), or a keyword is there encoded (base64, an escaped `_`:
    match.needles), so that the decoders find in history every key they find in a tree."""
    return (
        not is_plain(data)
        or has_anchored_keyword(settings.matcher, data)
        or has_encoded_keyword(data)
        or data.startswith(COMPRESSED)  # a small gzip file may hold no NUL in its first bytes
    )


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


def _report(progress: Progress | None, results: Sequence[BlobScan]) -> None:
    if progress is not None:
        progress(sum(r.reads for r in results), sum(r.bytes for r in results))
