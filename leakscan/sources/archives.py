"""Containers opened in memory, never extracted to disk: zip and everything zip-shaped (jar, apk,
whl, docx, a Chrome extension after its header, ...), tar, gzip / bz2 / xz / zstd streams, container
images (sources/images.py), and containers inside containers up to a depth.

A container is recognised by its magic bytes, never by its name. `walk` yields each member that is
not itself a container, with its path inside (`lib/app.jar!config.properties`), and a `Problem` for
whatever could not be read in full: corrupt or truncated data, an encrypted entry, a limit of
`ArchiveLimits` that cut it (docs/security.md, "Archives"). Nothing is ever written, so a member
named `../../etc/passwd` is only a name, and a symlink inside a tar has no content of its own.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, NamedTuple

from leakscan.match.text import container_kind
from leakscan.model import ArchiveLimits, masked_repr
from leakscan.units import human_size

if TYPE_CHECKING:
    import tarfile

# zipfile, tarfile, bz2 and lzma are imported where a container is met, not here: zipfile imports
# pathlib, and a pre-commit scan with no container would pay ~6 ms for them (tests/test_main.py).

CHUNK = 1 << 20  # read decompressed data this much at a time (and check the limits in between)
RATIO_FLOOR = 1 << 20  # the ratio limit applies to a member once it has this many bytes


class Member(NamedTuple):
    """One thing inside a container that is not a container itself."""

    path: str  # levels joined by `!`; "" for the content of a compressed file itself
    data: bytes
    encoding: str = "plain"  # `gzip`, `bz2`, ... when a compressed stream held no archive
    notes: tuple[str, ...] = ()  # what the container says about it (image, later whiteout)
    unopened: bool = False  # a container that could not be opened: matched as its bytes are

    def __repr__(self) -> str:
        return masked_repr(self, "data")


class Problem(NamedTuple):
    """Something inside a container that was not read in full, and why."""

    path: str  # "" : the container itself
    reason: str


Stream = IO[bytes] | io.BufferedIOBase
Item = Member | Problem | int  # int: the bytes of a container opened on the way (for the budget)


def walk(data: bytes, limits: ArchiveLimits) -> Iterator[Member | Problem]:
    """Every member of the container `data`, opening the containers inside it up to
    `limits.max_depth` levels; stops, saying so, past `max_total` bytes or `max_members` members."""
    total = members = 0
    for item in open_container(data, "", 1, limits):
        if isinstance(item, Problem):
            yield item
            continue
        size = item if isinstance(item, int) else len(item.data)
        total += size
        members += 1
        if total > limits.max_total or members > limits.max_members:
            yield Problem("", f"stopped after {members} members and {human_size(total)} of "
                              "uncompressed content, the limit for one file")  # fmt: skip
            return
        if isinstance(item, Member):
            yield item


def open_container(data: bytes, path: str, depth: int, limits: ArchiveLimits) -> Iterator[Item]:
    """The members of the container `data`, found at `path` (`depth`: its level, 1 for a file)."""
    kind = container_kind(data)
    if kind == "zip":
        yield from _inside(_zip(data, limits), path, depth, limits)
    elif kind == "tar":
        yield from _inside(_tar(data, limits, depth), path, depth, limits)
    elif kind is not None:
        yield from _stream(kind, data, path, depth, limits)


def _inside(items: Iterator[Item], path: str, depth: int, limits: ArchiveLimits) -> Iterator[Item]:
    """`items` of one container at `path`, with their full paths; containers among them opened."""
    for item in items:
        if isinstance(item, int):
            yield item
        elif isinstance(item, Problem):
            yield item._replace(path=join(path, item.path))
        else:
            yield from nested(item._replace(path=join(path, item.path)), depth, limits)


def nested(member: Member, depth: int, limits: ArchiveLimits) -> Iterator[Item]:
    """`member` of a container at `depth`: opened if it is a container, else as it is."""
    if member.unopened or container_kind(member.data) is None:
        yield member
    elif depth >= limits.max_depth:
        yield Problem(member.path, f"nested deeper than --max-archive-depth ({limits.max_depth}): "
                                   "not opened, only its raw bytes were matched")  # fmt: skip
        yield member._replace(unopened=True)
    else:
        yield len(member.data)
        for item in open_container(member.data, member.path, depth + 1, limits):
            yield (
                item._replace(notes=member.notes + item.notes) if isinstance(item, Member) else item
            )


def join(outer: str, inner: str) -> str:
    return f"{outer}!{inner}" if outer and inner else outer or inner


def _stream(kind: str, data: bytes, path: str, depth: int, limits: ArchiveLimits) -> Iterator[Item]:
    """A compressed file: its content, opened again if it is an archive (`.tar.gz`)."""
    out, problem = read_capped(_decompressor(kind, data), limits, len(data))
    if problem is not None:  # its raw bytes are matched too: magic bytes must not hide a key
        yield Problem(path, f"{kind}: {problem}")
        yield Member(path, data, unopened=True)
    if not out:
        return
    inner = container_kind(out)
    if inner in ("tar", "zip"):  # an archive in a compression layer is one level (`.tar.gz`)
        yield len(out)
        yield from open_container(out, path, depth, limits)
    else:  # text, or another compression layer: a level of its own (gzip in gzip in ...)
        yield from nested(Member(path, out, kind), depth, limits)


def _decompressor(kind: str, data: bytes) -> Stream:
    raw = io.BytesIO(data)
    if kind == "gzip":
        import gzip  # not at the top: a scan with no gzip file does not import it (~1 ms)

        return gzip.GzipFile(fileobj=raw)
    if kind == "bz2":
        import bz2

        return bz2.BZ2File(raw)
    if kind == "xz":
        import lzma

        return lzma.LZMAFile(raw)
    try:
        import zstandard  # the optional `zstd` extra (pyproject.toml)
    except ImportError:
        raise NotImplementedError(
            "zstd needs the `zstandard` package: pip install 'leakscan[zstd]'"
        )
    reader: Stream = zstandard.ZstdDecompressor().stream_reader(raw)
    return reader


def read_capped(stream: Stream, limits: ArchiveLimits, packed: int) -> tuple[bytes, str | None]:
    """Up to `limits.max_member` bytes of `stream` (`packed`: its compressed size), and why it
    stopped early, if it did; what was read before damage or a limit is kept."""
    chunks: list[bytes] = []
    total = 0
    try:
        with stream:
            while chunk := stream.read(CHUNK):
                chunks.append(chunk)
                total += len(chunk)
                if total >= RATIO_FLOOR and total > limits.max_ratio * max(packed, 1):
                    return b"".join(chunks), (
                        f"expands more than {limits.max_ratio}:1 (a decompression bomb?); "
                        f"only its first {human_size(total)} were scanned")  # fmt: skip
                if total > limits.max_member:
                    cut = human_size(limits.max_member)
                    return b"".join(chunks)[: limits.max_member], (
                        f"larger than --max-file-size ({cut}); only its first {cut} were scanned")  # fmt: skip
    except errors() as exc:
        what = "the part before the damage was scanned" if chunks else "nothing could be read"
        return b"".join(chunks), f"corrupt or truncated ({_said(exc)}); {what}"
    return b"".join(chunks), None


def errors() -> tuple[type[Exception], ...]:
    """What reading damaged or hostile data raises."""
    import lzma
    import tarfile
    import zipfile
    import zlib

    found: tuple[type[Exception], ...] = (OSError, EOFError, ValueError, NotImplementedError,
        RuntimeError, zlib.error, lzma.LZMAError, zipfile.BadZipFile, tarfile.TarError)  # fmt: skip
    try:
        import zstandard
    except ImportError:
        return found
    return (*found, zstandard.ZstdError)


def _said(exc: BaseException) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__


def _unopened(kind: str, exc: BaseException, data: bytes) -> Iterator[Item]:
    """An archive that cannot be opened at all: said so, and its raw bytes matched as they are."""
    yield Problem(
        "", f"{kind}: corrupt or truncated ({_said(exc)}); only its raw bytes were matched"
    )
    yield Member("", data, unopened=True)


def _zip(data: bytes, limits: ArchiveLimits) -> Iterator[Item]:
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except errors() as exc:
        yield from _unopened("zip", exc, data)
        return
    for info in entries:
        if info.is_dir():
            continue
        if info.flag_bits & 0x1:
            yield Problem(
                info.filename, "encrypted zip entry: it cannot be read without the password"
            )
            continue
        try:
            stream = archive.open(info)
        except errors() as exc:
            yield Problem(info.filename, f"zip entry: cannot be opened ({_said(exc)})")
            continue
        content, problem = read_capped(stream, limits, info.compress_size)
        if problem is not None:
            yield Problem(info.filename, problem)
        yield Member(info.filename, content)


def _tar(data: bytes, limits: ArchiveLimits, depth: int) -> Iterator[Item]:
    import tarfile

    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:")  # noqa: SIM115 (`with` below)
    except errors() as exc:
        yield from _unopened("tar", exc, data)
        return
    from leakscan.sources import images  # imports this module: an image is a tar

    with archive:
        try:
            if images.is_image(archive):  # lists every header: damage stops it here
                yield from images.layers(archive, limits, depth)
                return
            for info in archive:  # headers are read as the loop goes: damage stops it here
                if info.isreg():  # links, devices and directories have no content of their own
                    yield from tar_member(archive, info, limits)
        except errors() as exc:
            yield Problem("", f"tar: truncated or corrupt ({_said(exc)}); "
                              "the members before the damage were scanned")  # fmt: skip


def tar_member(
    archive: tarfile.TarFile, info: tarfile.TarInfo, limits: ArchiveLimits
) -> Iterator[Item]:
    stream = archive.extractfile(info)
    if stream is None:
        return
    content, problem = read_capped(stream, limits, info.size)
    if problem is not None:
        yield Problem(info.name, problem)
    yield Member(info.name, content)
