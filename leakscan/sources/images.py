"""Container images in a tar, as `docker save` / `podman save` write them (`manifest.json`) or as an
OCI image layout (`oci-layout` + `index.json`), read without a Docker daemon.

Each layer is read once, however many images share it, and its files are located by layer digest
(`sha256:…!app/.env`). A whiteout in a later layer (`.wh.name`, `.wh..wh..opq`) hides a file from
the running container but not from anyone who pulls the image: the file is still scanned, with a
note naming the layer that deletes it. The other members (image configs, with their `ENV` lines and
build history; manifests) are scanned as the plain files they are.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
from collections.abc import Iterator
from typing import Any, NamedTuple

from leakscan.model import ArchiveLimits, Blob, Skipped
from leakscan.sources.archives import (
    Item,
    Member,
    Problem,
    errors,
    nested,
    read_capped,
    tar_member,
)
from leakscan.units import human_size

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
               "application/vnd.docker.distribution.manifest.list.v2+json")  # fmt: skip
NAME_KEYS = ("io.containerd.image.name", "org.opencontainers.image.ref.name")


class Image(NamedTuple):
    name: str
    layers: tuple[tuple[str, str], ...]  # (digest, member of the tar), bottom layer first


def read_layout(directory: str, shown: str, max_size: int) -> Blob | Skipped:
    """An OCI image layout directory as one in-memory tar of its regular files (symlinks are not
    followed), so it is read as an image tar is: up to `max_size` bytes in all."""
    files = []
    for top, dirs, names in os.walk(directory):
        dirs.sort()
        files += [os.path.join(top, n) for n in sorted(names) if os.path.isfile(os.path.join(top, n))
                  and not os.path.islink(os.path.join(top, n))]  # fmt: skip
    if sum(os.path.getsize(f) for f in files) > max_size:
        return Skipped(
            shown, f"larger than --max-file-size ({human_size(max_size)}): an image layout"
        )
    buf = io.BytesIO()
    try:
        with tarfile.open(fileobj=buf, mode="w") as archive:
            for path in files:
                archive.add(path, os.path.relpath(path, directory).replace(os.sep, "/"))
    except OSError as exc:
        return Skipped(shown, f"unreadable: {exc.strerror or exc}")
    return Blob(shown, buf.getvalue())


def is_image(archive: tarfile.TarFile) -> bool:
    try:
        names = set(archive.getnames())
    except errors():  # damaged: read as a plain tar, up to the damage
        return False
    return "manifest.json" in names or {"index.json", "oci-layout"} <= names


def layers(archive: tarfile.TarFile, limits: ArchiveLimits, depth: int) -> Iterator[Item]:
    """Every layer of every image in `archive` once (top layer first, so that each layer's whiteouts
    are known when the layers below it are read), then the tar's other members."""
    bad: tuple[type[Exception], ...] = (*errors(), KeyError, TypeError, AttributeError, IndexError)
    try:
        images = _docker_images(archive) or _oci_images(archive)
    except bad as exc:
        yield Problem("", f"container image: unreadable manifest ({exc}); read as a plain tar")
        images = []
    removed: dict[str, tuple[str, ...]] = {}  # layer digest -> the paths its whiteouts delete
    used: set[str] = set()
    for digest, member in _top_first(images):
        used.add(member)
        notes = _where(images, digest)
        whiteouts: list[str] = []
        for item in _layer(archive, member, digest, limits, depth):
            if not isinstance(item, Member):
                yield item
            elif (gone := _whiteout(item.path, digest)) is not None:
                whiteouts.append(gone)
            else:
                yield item._replace(notes=notes + _deleted(images, digest, item.path, removed))
        removed[digest] = tuple(whiteouts)
    for info in archive.getmembers():
        if info.isreg() and info.name not in used:
            yield from tar_member(archive, info, limits)


def _layer(
    archive: tarfile.TarFile, member: str, digest: str, limits: ArchiveLimits, depth: int
) -> Iterator[Item]:
    try:
        info = archive.getmember(member)
        stream = archive.extractfile(info)
    except KeyError:
        yield Problem(digest, f"layer {member} is listed in the manifest but not in the tar")
        return
    if stream is None:
        return
    data, problem = read_capped(stream, limits, info.size)
    if problem is not None:
        yield Problem(digest, problem)
    yield from nested(Member(digest, data), depth, limits)


def _docker_images(archive: tarfile.TarFile) -> list[Image]:
    """`manifest.json`: [{"Config": …, "RepoTags": […], "Layers": ["<id>/layer.tar" | "blobs/sha256/<hex>"]}]."""
    if "manifest.json" not in archive.getnames():
        return []
    images = []
    for entry in _json(archive, "manifest.json"):
        paths = [str(p) for p in entry["Layers"]]
        diff_ids = _json(archive, entry["Config"]).get("rootfs", {}).get("diff_ids", [])
        digests = [_digest(p, diff_ids, i) for i, p in enumerate(paths)]
        name = ", ".join(entry.get("RepoTags") or []) or _short(str(entry["Config"]))
        images.append(Image(name, tuple(zip(digests, paths))))
    return images


def _digest(path: str, diff_ids: list[str], i: int) -> str:
    """`blobs/sha256/<hex>` names its digest; a legacy `<id>/layer.tar` takes the config's diff id."""
    parts = path.split("/")
    if len(parts) == 3 and parts[0] == "blobs":
        return f"{parts[1]}:{parts[2]}"
    return str(diff_ids[i]) if i < len(diff_ids) else path


def _oci_images(archive: tarfile.TarFile) -> list[Image]:
    """`index.json` -> manifests (through nested indexes) -> layers, each a blob `blobs/<alg>/<hex>`."""
    images: list[Image] = []
    pending = [(m, "") for m in _json(archive, "index.json")["manifests"]]
    while pending and len(images) < 1000:
        descriptor, name = pending.pop(0)
        name = name or _name(descriptor)
        manifest = _json(archive, _blob(descriptor["digest"]))
        if descriptor.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
            pending += [(m, name) for m in manifest["manifests"]]
            continue
        digests = [str(layer["digest"]) for layer in manifest["layers"]]
        images.append(Image(name, tuple((d, _blob(d)) for d in digests)))
    return images


def _name(descriptor: dict[str, Any]) -> str:
    notes = descriptor.get("annotations") or {}
    return next((str(notes[k]) for k in NAME_KEYS if k in notes), _short(descriptor["digest"]))


def _blob(digest: str) -> str:
    algorithm, _, hexdigest = str(digest).partition(":")
    return f"blobs/{algorithm}/{hexdigest}"


def _short(digest: str) -> str:
    return digest.rsplit("/", 1)[-1].removeprefix("sha256:")[:12]


def _json(archive: tarfile.TarFile, name: str) -> Any:
    stream = archive.extractfile(name)
    if stream is None:
        raise ValueError(f"{name} is not a file")
    return json.loads(stream.read(16 << 20))


def _top_first(images: list[Image]) -> list[tuple[str, str]]:
    """Each layer once, the highest first (by its highest position in any image)."""
    position: dict[tuple[str, str], int] = {}
    for image in images:
        for i, layer in enumerate(image.layers):
            position[layer] = max(position.get(layer, 0), i)
    return sorted(position, key=lambda layer: -position[layer])


def _where(images: list[Image], digest: str) -> tuple[str, ...]:
    return tuple(
        f"in container image {image.name} (layer {i + 1} of {len(image.layers)})"
        for image in images
        for i, (d, _) in enumerate(image.layers)
        if d == digest
    )


def _whiteout(path: str, digest: str) -> str | None:
    """The path a whiteout member deletes (`dir/` for an opaque directory), or None."""
    inner = _in_layer(path, digest)
    head, name = posixpath.split(inner)
    if name == OPAQUE:
        return f"{head}/"
    if name.startswith(WHITEOUT):
        return posixpath.join(head, name[len(WHITEOUT) :])
    return None


def _in_layer(path: str, digest: str) -> str:
    """`sha256:…!./app/.env!inner` -> `app/.env`: the path in the layer's own file system."""
    inner = path[len(digest) + 1 :].split("!", 1)[0]
    return posixpath.normpath("/" + inner).lstrip("/")


def _deleted(
    images: list[Image], digest: str, path: str, removed: dict[str, tuple[str, ...]]
) -> tuple[str, ...]:
    inner = _in_layer(path, digest)
    notes = []
    for image in images:
        digests = [d for d, _ in image.layers]
        if digest not in digests:
            continue
        for later in digests[digests.index(digest) + 1 :]:
            if any(_covers(gone, inner) for gone in removed.get(later, ())):
                notes.append(f"deleted by a later layer ({later}) yet still in the image: "
                             "anyone who pulls it can read this layer")  # fmt: skip
                break
    return tuple(dict.fromkeys(notes))


def _covers(gone: str, path: str) -> bool:
    if gone.endswith("/"):
        return path.startswith(gone) or gone == "/"
    return path == gone or path.startswith(gone + "/")
