"""Container images: `docker save` tarballs and OCI image layouts (a tar, or a directory), read with
no Docker daemon; each layer once, each key located by layer digest and path (issue 17)."""

from __future__ import annotations

import io
import json
import tarfile

from tests import keys
from tests.archive_kit import digest, docker_save, oci_layout, tar_bytes
from tests.conftest import plant, scan_json
from tests.test_archives import places, skipped

LIVE = keys.key("secret", "live", seed=11)
TEST = keys.key("secret", "test", seed=12)
RAK = keys.key("restricted", "test", seed=13)


def layers() -> list[bytes]:
    """A base layer with an `.env` and a config file, and a later layer that deletes both (a
    whiteout and an opaque directory) and adds a file of its own."""
    base = tar_bytes([("app/.env", f"\nSTRIPE_KEY={TEST}\n".encode()),
                      ("etc/conf/stripe.ini", f"key={RAK}\n".encode()),
                      ("usr/lib/libc.so", b"\x7fELF" + bytes(64))])  # fmt: skip
    top = tar_bytes([("app/.wh..env", b""), ("etc/conf/.wh..wh..opq", b""),
                     ("srv/main.py", f"KEY = '{LIVE}'\n".encode())])  # fmt: skip
    return [base, top]


def test_docker_save_tarball_locates_each_key_by_layer_and_path(tmp_path):
    base, top = layers()
    plant(tmp_path, "image.tar", docker_save([base, top]))
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    found = places(doc)
    env = found[f"image.tar!{digest(base)}!app/.env"]
    assert env["location"]["line"] == 2
    assert env["severity"] == "high"  # a test secret key, raised: it ships in the image
    assert env["context"] == [
        "in a container image layer: anyone who can pull the image can read it"
    ]
    assert "in container image shop/api:1.0 (layer 1 of 2)" in env["notes"]
    assert f"image.tar!{digest(top)}!srv/main.py" in found
    assert doc["scan"]["skipped"] == []


def test_whiteout_in_a_later_layer_does_not_hide_the_key(tmp_path):
    base, top = layers()
    plant(tmp_path, "image.tar", docker_save([base, top]))
    found = places(scan_json(str(tmp_path))[1])
    deleted = (f"deleted by a later layer ({digest(top)}) yet still in the image: anyone who "
               "pulls it can read this layer")  # fmt: skip
    assert deleted in found[f"image.tar!{digest(base)}!app/.env"]["notes"]  # `.wh..env`
    assert deleted in found[f"image.tar!{digest(base)}!etc/conf/stripe.ini"]["notes"]  # opaque
    assert not any("deleted" in n for n in found[f"image.tar!{digest(top)}!srv/main.py"]["notes"])


def test_oci_layout_tar_is_read_through_its_index(tmp_path):
    base, top = layers()
    files = oci_layout([base, top])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    plant(tmp_path, "web.oci.tar", buf.getvalue())
    found = places(scan_json(str(tmp_path))[1])
    gz_base = digest(next(b for n, b in files.items() if b.startswith(b"\x1f\x8b")))
    env = found[f"web.oci.tar!{gz_base}!app/.env"]
    assert "in container image shop/web:2.0 (layer 1 of 2)" in env["notes"]
    assert any(n.startswith("deleted by a later layer") for n in env["notes"])


def test_oci_layout_directory_named_as_the_target_is_read_as_one_image(tmp_path):
    base, top = layers()
    files = oci_layout([base, top])
    for name, data in files.items():
        plant(tmp_path / "layout", name, data)
    found = places(scan_json(str(tmp_path / "layout"))[1])
    gz_base = digest(next(b for n, b in files.items() if b.startswith(b"\x1f\x8b")))
    env = found[f"layout!{gz_base}!app/.env"]
    assert "in container image shop/web:2.0 (layer 1 of 2)" in env["notes"]
    assert any(n.startswith("deleted by a later layer") for n in env["notes"])


def test_oci_layout_inside_a_tree_is_scanned_blob_by_blob(tmp_path):
    base, top = layers()
    for name, data in oci_layout([base, top]).items():
        plant(tmp_path / "layout", name, data)
    found = places(scan_json(str(tmp_path))[1])
    blobs = {p.split("!")[0] for p in found}
    assert len(blobs) == 2 and all(b.startswith("layout/blobs/sha256/") for b in blobs)
    assert {p.split("!", 1)[1] for p in found} == {"app/.env", "etc/conf/stripe.ini", "srv/main.py"}


def test_a_layer_two_images_share_is_read_once(tmp_path):
    base, top = layers()
    one = json.loads(_member(docker_save([base, top], "a:1"), "manifest.json"))
    two = docker_save([base], "b:1")
    merged = tar_bytes(
        [*_members(docker_save([base, top], "a:1")), *_members(two, skip="manifest.json")]
    )
    manifest = one + json.loads(_member(two, "manifest.json"))
    data = _replace(merged, "manifest.json", json.dumps(manifest).encode())
    plant(tmp_path, "two.tar", data)
    found = places(scan_json(str(tmp_path))[1])
    env = [p for p in found if p.endswith("!app/.env")]
    assert env == [f"two.tar!{digest(base)}!app/.env"]  # one location: the layer was read once
    notes = found[env[0]]["notes"]
    assert "in container image a:1 (layer 1 of 2)" in notes
    assert "in container image b:1 (layer 1 of 1)" in notes


def test_image_config_env_is_scanned(tmp_path):
    base, _ = layers()
    image = docker_save([base])
    name = next(n for n, _ in _members(image) if n.endswith(".json") and n != "manifest.json")
    config = json.loads(_member(image, name))
    config["config"]["Env"].append(f"STRIPE_SECRET_KEY={LIVE}")
    plant(tmp_path, "image.tar", _replace(image, name, json.dumps(config).encode()))
    assert f"image.tar!{name}" in places(scan_json(str(tmp_path))[1])


def test_unreadable_manifest_is_listed_and_the_tar_read_as_it_is(tmp_path):
    plant(tmp_path, "broken.tar", tar_bytes([("manifest.json", b"{not json"),
                                            ("app/.env", f"K={LIVE}\n".encode())]))  # fmt: skip
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and "broken.tar!app/.env" in places(doc)
    assert skipped(doc)["broken.tar"].startswith("container image: unreadable manifest (")


def _members(data: bytes, skip: str = "") -> list[tuple[str, bytes]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return [(m.name, archive.extractfile(m).read()) for m in archive if m.name != skip]  # type: ignore[union-attr]


def _member(data: bytes, name: str) -> bytes:
    return dict(_members(data))[name]


def _replace(data: bytes, name: str, content: bytes) -> bytes:
    return tar_bytes([(n, content if n == name else d) for n, d in _members(data)])
