"""Builders for the archives, images and binaries the tests scan: real files made with the stdlib."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile

DEX_HEADER = b"dex\n035\x00"


def zip_bytes(members: list[tuple[str, bytes]], stored: bool = False) -> bytes:
    buf = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buf, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: list[tuple[str, bytes]], compress: str = "") -> bytes:
    """A tar (`compress`: "", "gz", "bz2" or "xz") holding `members` as regular files."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=f"w:{compress}") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def dex(secret: str) -> bytes:
    """A DEX-shaped binary: the header, opaque bytes, and the key as a DEX `string_data_item`
    (its length as uleb128 — `k` for a 107-character key — then MUTF-8 bytes and a NUL)."""
    item = uleb128(len(secret)) + secret.encode() + b"\x00"
    return DEX_HEADER + bytes(range(256)) * 4 + item + b"\x0bonCreatedAt\x00" + bytes(64)


def uleb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def java_class(secret: str) -> bytes:
    """A `.class`-shaped binary: magic, version, and a constant pool whose CONSTANT_Utf8 entries
    (tag 1, a two-byte length, the characters) hold the key between two identifiers."""

    def utf8(text: str) -> bytes:
        return b"\x01" + len(text).to_bytes(2, "big") + text.encode()

    pool = utf8("Config") + utf8(secret) + utf8("STRIPE_KEY")
    return b"\xca\xfe\xba\xbe\x00\x00\x00\x41\x00\x04" + pool + bytes(16)


def apk(secret: str) -> bytes:
    """An Android-shaped APK: a zip with a binary manifest and `classes.dex` holding the key."""
    return zip_bytes([("AndroidManifest.xml", b"\x03\x00\x08\x00" + bytes(60)),
                      ("classes.dex", dex(secret))])  # fmt: skip


def seven(keys: list[str]) -> dict[str, bytes]:
    """The seven files of issue 17's table, one key each (in the table's order)."""
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {},
                           "outputs": [], "source": [f"stripe.api_key = '{keys[6]}'\n"]}],
                "metadata": {}, "nbformat": 4, "nbformat_minor": 5}  # fmt: skip
    inner = zip_bytes([("inner.txt", f"key {keys[2]}\n".encode())])
    npm = [("package/package.json", b"{}\n"), ("package/.env", f"K={keys[1]}\n".encode())]
    return {
        "a.zip": zip_bytes([("conf/settings.py", f"STRIPE = '{keys[0]}'\n".encode())]),
        "pkg.tgz": tar_bytes(npm, "gz"),
        "nested.tar.gz": tar_bytes([("layer/inner.zip", inner)], "gz"),
        "dump.sql.gz": gzip.compress(f"INSERT INTO t VALUES ('{keys[3]}');\n".encode()),
        "classes.dex": dex(keys[4]),
        "app.apk": apk(keys[5]),
        "nb.ipynb": json.dumps(notebook).encode(),
    }


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def docker_save(layers: list[bytes], tag: str = "shop/api:1.0") -> bytes:
    """A tarball shaped like `docker save` (before Docker 25): `manifest.json`, a config with the
    layers' diff ids, and each layer as `<id>/layer.tar`."""
    ids = [digest(layer) for layer in layers]
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": ids},
                         "config": {"Env": ["PATH=/usr/bin"]}}).encode()  # fmt: skip
    config_name = digest(config).split(":")[1] + ".json"
    paths = [f"{i.split(':')[1]}/layer.tar" for i in ids]
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": paths}]
    members = [(config_name, config), *zip(paths, layers)]
    return tar_bytes([*members, ("manifest.json", json.dumps(manifest).encode())])


def oci_layout(layers: list[bytes], name: str = "shop/web:2.0") -> dict[str, bytes]:
    """The files of an OCI image layout (gzip layers), by path: write them to a directory or tar
    them. The index points at the manifest, the manifest at the config and the layers."""
    blobs = {digest(layer): layer for layer in (gzip.compress(x, mtime=0) for x in layers)}
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [digest(x) for x in layers]}})
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config.encode()), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d,
                    "size": len(b)} for d, b in blobs.items()],
    }).encode()  # fmt: skip
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(manifest),
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": name}}]}  # fmt: skip
    files = {f"blobs/sha256/{d.split(':')[1]}": b for d, b in blobs.items()}
    files[f"blobs/sha256/{digest(manifest).split(':')[1]}"] = manifest
    files[f"blobs/sha256/{digest(config.encode()).split(':')[1]}"] = config.encode()
    files["index.json"] = json.dumps(index).encode()
    files["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    return files


def mark_encrypted(data: bytes, names: set[str]) -> bytes:
    """`data` (a zip) with the entries `names` marked encrypted in their local and central headers,
    as a zip written with a password has them (zipfile cannot write one)."""
    out = bytearray(data)
    for magic, flags, name_len, name_at in ((b"PK\x03\x04", 6, 26, 30), (b"PK\x01\x02", 8, 28, 46)):
        at = out.find(magic)
        while at >= 0:
            size = int.from_bytes(out[at + name_len : at + name_len + 2], "little")
            if out[at + name_at : at + name_at + size].decode() in names:
                out[at + flags] |= 0x1
            at = out.find(magic, at + 4)
    return bytes(out)
