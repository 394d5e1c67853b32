"""Archives, compressed files and binaries: what ships is opened and matched inside (issue 17), and
hostile archives are listed as not fully scanned, never fatal (docs/security.md, "Archives")."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import py_compile
import random
import tarfile
import zipfile
from pathlib import Path

import pytest
import zstandard

from leakscan.model import ArchiveLimits, Blob
from leakscan.scan.content import scan_blob
from tests import keys
from tests.archive_kit import (
    apk,
    dex,
    java_class,
    mark_encrypted,
    seven,
    tar_bytes,
    zip_bytes,
)
from tests.conftest import (
    SETTINGS,
    commit_file,
    git,
    make_repo,
    plant,
    run,
    scan_json,
    sha256,
)

LIVE = keys.key("secret", "live", seed=1)
RAK = keys.key("restricted", "live", seed=2)
TEST = keys.key("secret", "test", seed=3)


def places(doc: dict) -> dict[str, dict]:
    """Location path -> (its finding, its location)."""
    return {loc["path"]: {**f, "location": loc} for f in doc["findings"] for loc in f["locations"]}


def skipped(doc: dict) -> dict[str, str]:
    return {s["path"]: s["reason"] for s in doc["scan"]["skipped"]}


def plant_all(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        plant(root, name, data)
    return root


def with_a_plain_key(root: Path) -> str:
    """A plain file next to the hostile one: the rest of the scan must not be lost."""
    plant(root, "plain.env", f"KEY={TEST}\n")
    return "plain.env"


# --- the seven files of the issue ----------------------------------------------------------------


def test_the_seven_files_of_the_issue_are_all_found(tmp_path):
    planted = [keys.key("secret", "live", seed=100 + i) for i in range(7)]
    plant_all(tmp_path, seven(planted))
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    found = places(doc)
    expected = ["a.zip!conf/settings.py", "pkg.tgz!package/.env",
                "nested.tar.gz!layer/inner.zip!inner.txt", "dump.sql.gz", "classes.dex",
                "app.apk!classes.dex", "nb.ipynb"]  # fmt: skip
    assert sorted(found) == sorted(expected)
    for path, secret in zip(expected, planted):
        assert found[path]["preview"].endswith(secret[-4:]), path
    assert found["dump.sql.gz"]["location"]["encoding"] == "gzip"
    assert found["a.zip!conf/settings.py"]["location"]["line"] == 1
    assert found["a.zip!conf/settings.py"]["location"]["column"] == 11
    assert doc["scan"]["skipped"] == [] and doc["scan"]["notes"] == []


# --- what is opened ------------------------------------------------------------------------------


def test_containers_are_recognised_by_magic_bytes_not_name(tmp_path):
    plant(tmp_path, "download.bin", zip_bytes([("settings.py", f"K = '{LIVE}'\n".encode())]))
    plant(tmp_path, "backup", gzip.compress(f"K={RAK}\n".encode()))
    plant(tmp_path, "fake.zip", f"K={TEST}\n")  # a text file with an archive's name
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    assert sorted(places(doc)) == ["backup", "download.bin!settings.py", "fake.zip"]


def test_zip_shaped_formats_are_opened(tmp_path):
    member = [("res/config.properties", f"stripe.key={TEST}\n".encode())]
    for name in ("lib.jar", "pkg-1.0-py3-none-any.whl", "report.docx", "addon.xpi", "App.ipa"):
        plant(tmp_path, name, zip_bytes(member))
    # a Chrome extension: `Cr24`, version 3, a header, then the zip
    plant(
        tmp_path, "ext.crx", b"Cr24\x03\x00\x00\x00\x08\x00\x00\x00" + bytes(8) + zip_bytes(member)
    )
    _, doc, _ = scan_json(str(tmp_path))
    names = (
        "App.ipa",
        "addon.xpi",
        "ext.crx",
        "lib.jar",
        "pkg-1.0-py3-none-any.whl",
        "report.docx",
    )
    assert sorted(places(doc)) == [f"{n}!res/config.properties" for n in names]


def test_tar_with_each_compression_is_opened(tmp_path):
    member = [("etc/app.env", f"KEY={TEST}\n".encode())]
    for suffix, compress in (("tar", ""), ("tar.gz", "gz"), ("tar.bz2", "bz2"), ("tar.xz", "xz")):
        plant(tmp_path, f"a.{suffix}", tar_bytes(member, compress))
    plant(tmp_path, "a.tar.zst", zstandard.ZstdCompressor().compress(tar_bytes(member)))
    _, doc, _ = scan_json(str(tmp_path))
    assert sorted(places(doc)) == [f"a.{s}!etc/app.env" for s in
                                   ("tar", "tar.bz2", "tar.gz", "tar.xz", "tar.zst")]  # fmt: skip


def test_single_compressed_files_are_decoded_with_their_encoding(tmp_path):
    text = f"\n\nK={TEST}\n".encode()
    plant(tmp_path, "a.bz2", bz2.compress(text))
    plant(tmp_path, "a.xz", lzma.compress(text))
    plant(tmp_path, "a.zst", zstandard.ZstdCompressor().compress(text))
    _, doc, _ = scan_json(str(tmp_path))
    found = places(doc)
    assert {p: (f["location"]["line"], f["location"]["encoding"]) for p, f in found.items()} == {
        "a.bz2": (3, "bz2"), "a.xz": (3, "xz"), "a.zst": (3, "zstd")}  # fmt: skip


@pytest.mark.parametrize(
    "magic", [b"\x1f\x8b\x08", b"BZh", b"BZh91AY&SY", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd",
              b"PK\x03\x04", b"Cr24", b"\x00" * 257 + b"ustar"],
)  # fmt: skip
def test_magic_bytes_followed_by_text_do_not_hide_a_key(magic):
    data = magic + f"\nSTRIPE_KEY={LIVE}\n".encode()
    report = scan_blob(SETTINGS, Blob("f", data))
    assert [o.secret for o in report.occurrences] == [LIVE]
    assert not any(k.incomplete for k in report.skipped)


def test_max_archive_depth_zero_opens_nothing(tmp_path):
    plant(tmp_path, "a.zip", zip_bytes([("k.txt", f"K={TEST}\n".encode())]))
    code, doc, _ = scan_json(str(tmp_path), "--max-archive-depth", "0")
    assert code == 0 and doc["findings"] == []
    assert run("scan", str(tmp_path), "--max-archive-depth", "-1").exit_code == 2


def test_inline_allow_marker_inside_a_member_is_honoured(tmp_path):
    plant(tmp_path, "a.zip", zip_bytes([("k.py", f"K = '{TEST}'  # leakscan:allow\n".encode())]))
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 0 and doc["findings"][0]["suppressed"]["kind"] == "inline"


# --- binaries ------------------------------------------------------------------------------------


def test_utf16le_string_in_a_binary_is_found(tmp_path):
    pe = b"MZ\x90\x00" + bytes(300) + f"Key={LIVE}".encode("utf-16-le") + bytes(40)
    plant(tmp_path, "Shop.exe", pe)
    _, doc, _ = scan_json(str(tmp_path))
    found = places(doc)["Shop.exe"]
    assert found["location"]["encoding"] == "utf16le"
    assert found["preview"].endswith(LIVE[-4:])
    assert "compiled into a desktop app" in " ".join(found["context"])


def test_keys_in_length_prefixed_strings_of_compiled_code_are_found(tmp_path):
    """A string of compiled code is its length then its characters: a 107-character key follows a
    `k` (0x6B), and the next item's type byte may follow it; neither is part of the key."""
    secrets = {name: keys.key("secret", "test", seed=i) for i, name in
               enumerate(["classes.dex", "Config.class", "settings.cpython-311.pyc"])}  # fmt: skip
    plant(tmp_path, "classes.dex", dex(secrets["classes.dex"]))
    plant(tmp_path, "Config.class", java_class(secrets["Config.class"]))
    source = tmp_path / "settings.py"
    source.write_text(f"KEY = '{secrets['settings.cpython-311.pyc']}'\nDEBUG = None\n")
    py_compile.compile(str(source), str(tmp_path / "settings.cpython-311.pyc"), doraise=True)
    source.unlink()
    _, doc, _ = scan_json(str(tmp_path))
    found = places(doc)
    assert sorted(found) == sorted(secrets)
    for name, secret in secrets.items():
        assert found[name]["secret_sha256"] == sha256(secret), name  # exactly the key
        assert found[name]["severity"] == "high", name  # medium, raised: compiled code ships
        assert found[name]["location"]["encoding"] == "plain"


def test_a_word_byte_before_a_key_in_text_still_blocks_it():
    """Cutting length-prefixed strings is for binaries only: in text `ksk_test_…` is no key."""
    text = f"x = 'k{TEST}'\n"
    assert scan_blob(SETTINGS, Blob("a.py", text.encode())).occurrences == ()


def test_opaque_binary_is_counted_not_scanned(tmp_path):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64
    plant(tmp_path, "logo.png", png)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 0 and doc["scan"]["notes"] == ["1 binary file(s) not scanned"]


# --- severity ------------------------------------------------------------------------------------


def test_key_in_a_shipped_artifact_is_raised_with_the_reason(tmp_path):
    plant(tmp_path, "app.apk", apk(RAK))
    plant(tmp_path, "sdk-1.0.whl", zip_bytes([("sdk/conf.py", f"K = '{TEST}'\n".encode())]))
    test_rak = keys.key("restricted", "test", seed=9)
    plant(
        tmp_path, "pkg.tgz", tar_bytes([("package/index.js", f"k='{test_rak}'\n".encode())], "gz")
    )
    found = places(scan_json(str(tmp_path))[1])
    apk_hit, whl_hit, npm_hit = (found[p] for p in
                                 ("app.apk!classes.dex", "sdk-1.0.whl!sdk/conf.py",
                                  "pkg.tgz!package/index.js"))  # fmt: skip
    assert apk_hit["severity"] == "critical"  # high, raised
    assert apk_hit["context"] == ["compiled into an Android app: every install carries it"]
    assert whl_hit["severity"] == "high"  # medium, raised
    assert whl_hit["context"] == ["inside a package: everyone who installs it gets a copy"]
    assert npm_hit["severity"] == "medium"  # low, raised
    assert "npm" in npm_hit["context"][0]


def test_key_in_a_plain_archive_is_not_raised(tmp_path):
    plant(tmp_path, "backup.zip", zip_bytes([("db.env", f"K={TEST}\n".encode())]))
    found = places(scan_json(str(tmp_path))[1])["backup.zip!db.env"]
    assert found["severity"] == "medium" and found["context"] == []


# --- where it applies ----------------------------------------------------------------------------


def test_committed_archive_in_history_is_found_with_commit_and_member(tmp_path):
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "README", "hello\n")
    plant(repo, "dist/app.apk", apk(RAK))
    git(repo, "add", "dist/app.apk")
    git(repo, "commit", "-q", "-m", "ship the app")
    sha = git(repo, "rev-parse", "HEAD")
    git(repo, "rm", "-q", "dist/app.apk")
    git(repo, "commit", "-q", "-m", "remove it")
    code, doc, _ = scan_json(str(repo), "--history")
    assert code == 1
    finding = places(doc)["dist/app.apk!classes.dex"]
    assert finding["location"]["commit"] == sha and finding["present_at_head"] is False
    assert finding["severity"] == "critical"


def test_range_scan_sees_a_key_still_inside_an_archive_at_head(tmp_path):
    repo = make_repo(tmp_path / "repo")
    plant(repo, "dist/app.zip", zip_bytes([("conf.py", f"K = '{TEST}'\n".encode())]))
    git(repo, "add", "dist/app.zip")
    git(repo, "commit", "-q", "-m", "ship")
    commit_file(repo, "x.py", f"K = '{TEST}'\n")
    git(repo, "rm", "-q", "x.py")
    git(repo, "commit", "-q", "-m", "remove it")
    _, doc, _ = scan_json(str(repo), "--range", "HEAD~2..HEAD")
    (finding,) = doc["findings"]
    assert [loc["path"] for loc in finding["locations"]] == ["x.py"]
    assert finding["present_at_head"] is True  # the unchanged archive at HEAD still holds it


def test_staged_archive_is_found(tmp_path):
    repo = make_repo(tmp_path / "repo")
    commit_file(repo, "README", "hello\n")
    plant(repo, "release.tar.gz", tar_bytes([("app/.env", f"KEY={TEST}\n".encode())], "gz"))
    git(repo, "add", "release.tar.gz")
    code, doc, _ = scan_json("--staged", str(repo))
    assert code == 1 and list(places(doc)) == ["release.tar.gz!app/.env"]


# --- hostile archives (docs/security.md, "Archives": each row is one test) ------------------------


def test_zip_bomb_is_cut_by_the_ratio_limit(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as archive:  # 16 MiB of zeros: ~50 bytes
        archive.writestr("zeros", bytes(16 << 20))
        archive.writestr("k.txt", f"K={LIVE}\n")
    plant(tmp_path, "bomb.zip", buf.getvalue())
    plain = with_a_plain_key(tmp_path)
    code, doc, err = scan_json(str(tmp_path))
    assert code == 1 and {"bomb.zip!k.txt", plain} <= set(places(doc))
    assert skipped(doc)["bomb.zip!zeros"].startswith(
        "expands more than 1000:1 (a decompression bomb?); only its first 1.0 MiB were scanned"
    )
    assert "1 archive member(s) not fully scanned" in err


def test_compressed_file_bomb_is_cut_by_the_ratio_limit(tmp_path):
    plant(tmp_path, "bomb.xz", lzma.compress(bytes(16 << 20) + f"\nK={LIVE}\n".encode()))
    plain = with_a_plain_key(tmp_path)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and list(places(doc)) == [plain]
    assert skipped(doc)["bomb.xz"].startswith("xz: expands more than 1000:1")


def test_real_binaries_with_zero_padding_are_not_bombs():
    noise = random.Random(5).randbytes(8192)  # code and tables among the padding: ~300:1 deflated
    padded = b"\x7fELF" + noise + bytes(3 << 20) + LIVE.encode() + bytes(64)
    report = scan_blob(SETTINGS, Blob("lib.whl", zip_bytes([("lib/x.so", padded)])))
    assert report.skipped == () and [o.location.path for o in report.occurrences] == [
        "lib.whl!lib/x.so"
    ]


def test_member_larger_than_max_file_size_is_cut(tmp_path):
    big = (b"x" * 99 + b"\n") * 3000 + f"K={LIVE}\n".encode()  # 300 KB, the key past 100 KiB
    plant(tmp_path, "a.zip", zip_bytes([("big.txt", big), ("k.txt", f"K={RAK}\n".encode())]))
    code, doc, _ = scan_json(str(tmp_path), "--max-file-size", "100K")
    assert code == 1 and list(places(doc)) == ["a.zip!k.txt"]  # the zip itself is ~2 KB
    assert skipped(doc) == {"a.zip!big.txt": "larger than --max-file-size (100.0 KiB); only its "
                            "first 100.0 KiB were scanned"}  # fmt: skip


def test_total_limit_stops_one_file_and_the_rest_is_scanned():
    data = zip_bytes([(f"m{i}.txt", bytes(1000)) for i in range(50)] + [("z.txt", LIVE.encode())])
    limits = ArchiveLimits(max_total=20_000)
    report = scan_blob(SETTINGS._replace(archives=limits), Blob("many.zip", data))
    assert report.occurrences == ()
    assert [(s.path, s.container) for s in report.skipped] == [("many.zip", True)]
    assert "the limit for one file" in report.skipped[0].reason
    few = scan_blob(SETTINGS._replace(archives=ArchiveLimits(max_members=10)), Blob("m.zip", data))
    assert "stopped after 11 members" in few.skipped[0].reason


def test_nesting_past_the_depth_limit_is_listed(tmp_path):
    data = f"K={LIVE}\n".encode()
    for level in range(4):
        data = zip_bytes([(f"level{level}.zip" if level else "k.txt", data)])
    plant(tmp_path, "deep.zip", data)
    plain = with_a_plain_key(tmp_path)
    code, doc, _ = scan_json(str(tmp_path), "--max-archive-depth", "2")
    assert code == 1 and list(places(doc)) == [plain]
    assert skipped(doc) == {
        "deep.zip!level3.zip!level2.zip": "nested deeper than "
        "--max-archive-depth (2): not opened, only its raw bytes were matched"
    }
    _, doc, _ = scan_json(str(tmp_path))
    assert "deep.zip!level3.zip!level2.zip!level1.zip!k.txt" in places(doc)


def test_compression_nested_a_thousand_deep_stops_at_the_depth_limit(tmp_path):
    data = f"K={LIVE}\n".encode()
    for _ in range(1000):
        data = gzip.compress(data, mtime=0)
    plant(tmp_path, "onion.gz", data)
    plain = with_a_plain_key(tmp_path)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and list(places(doc)) == [plain]
    assert skipped(doc) == {"onion.gz": "nested deeper than --max-archive-depth (8): not opened, "
                            "only its raw bytes were matched"}  # fmt: skip


def test_traversal_names_are_only_names(tmp_path):
    target = tmp_path / "scan"
    plant(target, "evil.zip", zip_bytes([("../../escaped.txt", f"K={LIVE}\n".encode()),
                                         ("/etc/cron.d/x", f"K={RAK}\n".encode())]))  # fmt: skip
    code, doc, _ = scan_json(str(target))
    assert code == 1
    assert sorted(places(doc)) == ["evil.zip!../../escaped.txt", "evil.zip!/etc/cron.d/x"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["evil.zip", "scan"]  # nothing written


def test_corrupt_zip_is_listed_and_its_raw_bytes_matched(tmp_path):
    whole = zip_bytes([("k.txt", f"\nK={LIVE}\n".encode())], stored=True)
    plant(tmp_path, "cut.zip", whole[:-30])  # the central directory is gone
    plain = with_a_plain_key(tmp_path)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and sorted(places(doc)) == [
        "cut.zip",
        plain,
    ]  # the stored member's bytes, read raw
    assert skipped(doc)["cut.zip"].startswith("zip: corrupt or truncated (")


def test_truncated_tar_keeps_the_members_before_the_damage(tmp_path):
    whole = tar_bytes([("a.env", f"K={LIVE}\n".encode()), ("b.env", b"x" * 5000)])
    plant(tmp_path, "cut.tar", whole[:2048])
    plain = with_a_plain_key(tmp_path)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and sorted(places(doc)) == ["cut.tar!a.env", plain]
    assert skipped(doc)["cut.tar"].startswith("tar: truncated or corrupt (")
    assert "cut.tar!b.env" in skipped(doc)


def test_truncated_gzip_is_listed(tmp_path):
    plant(tmp_path, "cut.gz", gzip.compress(f"K={LIVE}\n".encode() * 200)[:40])
    plain = with_a_plain_key(tmp_path)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and plain in places(doc)
    assert skipped(doc)["cut.gz"].startswith("gzip: corrupt or truncated (")


def test_encrypted_zip_entry_is_listed(tmp_path):
    data = zip_bytes([("secret.txt", f"K={RAK}\n".encode()), ("open.txt", f"K={LIVE}\n".encode())])
    plant(tmp_path, "locked.zip", mark_encrypted(data, {"secret.txt"}))
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1 and list(places(doc)) == ["locked.zip!open.txt"]
    assert skipped(doc) == {
        "locked.zip!secret.txt": "encrypted zip entry: it cannot be read without the password"
    }


def test_tar_symlink_is_not_followed(tmp_path):
    outside = plant(tmp_path, "outside/secret.env", f"K={RAK}\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as archive:
        link = tarfile.TarInfo("app/secret.env")
        link.type, link.linkname = tarfile.SYMTYPE, str(outside)
        archive.addfile(link)
        hard = tarfile.TarInfo("app/hard.env")
        hard.type, hard.linkname = tarfile.LNKTYPE, "/etc/passwd"
        archive.addfile(hard)
        info = tarfile.TarInfo("app/real.env")
        info.size = len(f"K={LIVE}\n")
        archive.addfile(info, io.BytesIO(f"K={LIVE}\n".encode()))
    plant(tmp_path / "scan", "links.tar", buf.getvalue())
    code, doc, _ = scan_json(str(tmp_path / "scan"))
    assert code == 1 and list(places(doc)) == ["links.tar!app/real.env"]
    assert doc["scan"]["skipped"] == []  # a link has no content of its own: nothing was missed


def test_many_damaged_members_are_listed_at_most_twenty(tmp_path):
    names = {f"s{i}.txt" for i in range(30)}
    plant(tmp_path, "locked.zip", mark_encrypted(zip_bytes([(n, b"x") for n in names]), names))
    _, doc, err = scan_json(str(tmp_path))
    reasons = skipped(doc)
    assert len(reasons) == 20 and reasons["locked.zip"] == "11 more member(s) not fully scanned"
    assert "20 archive member(s) not fully scanned" in err


def test_hostile_archive_warns_once_and_strict_exits_two(tmp_path):
    plant(tmp_path, "cut.gz", gzip.compress(b"hello\n" * 100)[:30])
    result = run("scan", str(tmp_path))
    assert result.exit_code == 0
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    expected = (
        "leakscan: warning: 1 archive member(s) not fully scanned (--verbose lists them with "
        "the reason)."
    )
    assert warnings == [expected]
    assert "1 skipped (1 archive part)" in result.stderr
    verbose = run("scan", str(tmp_path), "--verbose")
    assert "leakscan: skipped cut.gz: gzip: corrupt or truncated (" in verbose.stderr
    assert run("scan", str(tmp_path), "--strict").exit_code == 2
