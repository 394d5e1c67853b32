"""Content sniffing cannot hide a key: raw bytes are always matched, a UTF-16 reading is an addition.

Two bytes (a UTF-16 byte-order mark, a NUL) in front of ASCII text once made the whole file read as
UTF-16 or as binary, and the key written in ASCII after them was missed (issue 18).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leakscan.scan.blobs import Chunks, reading, scan_chunk
from leakscan.scan.content import match_blob
from tests import keys
from tests.conftest import SETTINGS, findings, git, make_repo, plant, scan_json

BOM_LE, BOM_BE, BOM_UTF8 = b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf"


def _ascii_key_after(prefix: bytes, k: str) -> bytes:
    return prefix + b"\nSTRIPE_KEY=" + k.encode() + b"\n"


def _locations(doc: dict) -> list[tuple[str, int, int, str]]:
    return sorted(
        (loc["path"], loc["line"], loc["column"], loc["encoding"])
        for f in doc["findings"]
        for loc in f["locations"]
    )


def _commit_bytes(repo: Path, name: str, data: bytes) -> None:
    plant(repo, name, data)
    git(repo, "add", "--", name)
    git(repo, "commit", "-q", "-m", f"add {name}")


CASES = [
    # (name, content builder, expected (line, column, encoding) of the key)
    ("le-bom.txt", lambda k: BOM_LE + b"# config\nK=" + k.encode() + b"\n", (2, 3, "plain")),
    ("be-bom.txt", lambda k: BOM_BE + b"# config\nK=" + k.encode() + b"\n", (2, 3, "plain")),
    ("utf8-bom.txt", lambda k: BOM_UTF8 + b"K=" + k.encode() + b"\n", (1, 4, "plain")),
    ("nul.txt", lambda k: b"\x00\n" + b"K=" + k.encode() + b"\n", (2, 3, "plain")),
    ("le.txt", lambda k: ("\ufeffa\nK=" + k + "\n").encode("utf-16-le"), (2, 3, "utf-16le")),
    ("be.txt", lambda k: ("a\nK=" + k + "\n").encode("utf-16-be"), (2, 3, "utf-16be")),
]


@pytest.mark.parametrize(("name", "build", "where"), CASES, ids=[c[0] for c in CASES])
def test_key_is_found_in_a_tree_scan_and_a_history_scan(tmp_path, name, build, where):
    k = keys.key("secret", "live")
    repo = make_repo(tmp_path / "repo")
    _commit_bytes(repo, name, build(k))
    code, doc, _ = scan_json(str(repo))
    assert code == 1 and _locations(doc) == [(name, *where)]
    assert doc["findings"][0]["rule_id"] == "stripe.secret-key.live"
    code, doc, _ = scan_json("--history", str(repo), jobs=1)
    assert code == 1 and _locations(doc) == [(name, *where)]


def test_utf16_file_with_an_ascii_key_too_reports_both(tmp_path):
    in_utf16, in_ascii = keys.key("secret", "live", seed=1), keys.key("restricted", "live", seed=2)
    data = ("\ufeffK=" + in_utf16 + "\n").encode("utf-16-le") + b"\nR=" + in_ascii.encode() + b"\n"
    plant(tmp_path, "mixed.txt", data)
    code, doc, _ = scan_json(str(tmp_path))
    assert code == 1
    by_rule = {f["rule_id"]: _locations({"findings": [f]}) for f in doc["findings"]}
    assert by_rule["stripe.secret-key.live"] == [("mixed.txt", 1, 3, "utf-16le")]
    assert by_rule["stripe.restricted-key.live"][0][3] == "plain"


def test_a_key_in_both_readings_is_one_occurrence_where_the_raw_bytes_have_it():
    k = keys.key("secret", "live")
    data = ("\ufeffK=" + k + "\n").encode("utf-16-le") + b"\nK=" + k.encode() + b"\n"
    (finding,) = findings(data)
    (loc,) = finding.locations
    assert loc.encoding == "plain" and loc.column == 3


def test_binary_without_a_key_prefix_is_still_skipped():
    assert match_blob(SETTINGS, bytes(range(256)) * 64 + keys.body().encode()).binary


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_no_prefix_hides_an_ascii_key_from_the_tree_scan(prefix):
    k = keys.key("secret", "live", seed=3)
    assert [f.secret for f in findings(_ascii_key_after(prefix, k))] == [k]


@pytest.fixture(scope="module")
def blob_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_repo(tmp_path_factory.mktemp("blobs") / "repo")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=64))
def test_no_prefix_hides_an_ascii_key_from_the_history_scan(blob_repo, prefix):
    k = keys.key("restricted", "live", seed=4)
    oid = subprocess.run(
        ["git", "-C", str(blob_repo), "hash-object", "-w", "--stdin"],
        input=_ascii_key_after(prefix, k), capture_output=True, check=True,
    ).stdout.decode().strip()  # fmt: skip
    with reading(Chunks(SETTINGS, str(blob_repo / ".git"))) as chunks:
        scanned = scan_chunk(chunks, [oid])
    assert [h.secret for h in scanned.hits[oid].hits] == [k]
