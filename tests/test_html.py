"""The HTML report in a real headless Chromium (tests/browser.py): it loads with no request but its own
file and no console message, shows every key redacted, escapes what it quotes, and draws what the issue
asks for (summary, accounts, timeline, repositories, checklists)."""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

from tests import browser, keys
from tests.conftest import git, make_repo, run
from tests.fleet import org
from tests.test_response import account_key, commit

HOSTILE_NAME = "<img src=x onerror=console.error(1)>.py"  # a legal file name


def history_repo(root: Path) -> tuple[Path, list[str]]:
    repo = make_repo(root)
    secret, publishable = account_key("secret", seed=41), account_key("publishable", seed=42)
    gone, legacy = (
        keys.key("restricted", "live", seed=43),
        keys.key("secret", "test", n=24, seed=44),
    )
    commit(repo, {"web/static/app.js": f"pk = '{publishable}'\nsk = '{secret}'\n"}, "bundle", 1)
    commit(repo, {"ops/deploy.env": f"RK={gone}\n", HOSTILE_NAME: f"K = '{legacy}'\n"}, "ops", 2)
    git(repo, "tag", "v1.0.0")
    commit(repo, {"ops/deploy.env": "RK=${RK}\n"}, "read it from the environment", 9)
    return repo, [secret, publishable, gone, legacy]


def test_history_report_loads_offline_and_shows_no_key(tmp_path: Path):
    repo, planted = history_repo(tmp_path / "shop")
    report = tmp_path / "report.html"
    result = run("scan", "--history", str(repo), "--format", "html", "-o", str(report),
                 "--show-secrets")  # fmt: skip
    assert result.exit_code == 1, result.stderr
    source = report.read_text()
    assert "<script" not in source.lower() and 'http-equiv="Content-Security-Policy"' in source
    assert 'content="default-src &#39;none&#39;; style-src &#39;sha256-' in source
    assert "script-src &#39;none&#39;" in source
    page = browser.load(report, tmp_path / "shot.png")
    assert page.requests == (report.resolve().as_uri(),)  # nothing but the file itself
    assert page.console == ()  # no CSP violation, no error: the style sheet's hash matches
    for k in planted:  # --show-secrets or not, the page is redacted
        assert k not in source and k not in page.html and k not in page.text
        assert f"{k[:8]}…{k[-4:]}" in page.text or f"{k[:3]}…{k[-4:]}" in page.text
    assert HOSTILE_NAME in page.text  # shown as text: escaped, never markup
    assert "Summary by severity" in page.text and "Stripe accounts" in page.text
    assert "live secret key and live publishable key exposed — rotate the secret key" in page.text
    assert "are together in web/static/app.js" in page.text
    assert "in tag v1.0.0, on main, removed in" in page.text  # the exposure line
    assert page.html.count("<rect") == 4  # one timeline bar per secret
    assert page.html.count('type="checkbox"') >= 4  # remediation steps as a checklist
    assert (tmp_path / "shot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_browser_check_sees_a_request_and_a_console_error(tmp_path: Path):
    """The check above can fail: a page that fetches from a loopback server and logs an error."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/pixel.png"
        page_file = tmp_path / "bad.html"
        page_file.write_text(f'<!DOCTYPE html><p>hi</p><img src="{url}">'
                             '<script>console.error("boom")</script>')  # fmt: skip
        page = browser.load(page_file)
    finally:
        server.shutdown()
    assert url in page.requests and hits == ["/pixel.png"]
    assert "boom" in page.console


def test_scan_many_report_lists_repositories_by_worst_severity(tmp_path: Path):
    shared = keys.key("secret", "live", seed=51)
    org(tmp_path / "org", 4, shared)
    report = tmp_path / "many.html"
    result = run("scan-many", str(tmp_path / "org"), "--format", "html", "-o", str(report))
    assert result.exit_code == 1, result.stderr
    page = browser.load(report)
    assert page.requests == (report.resolve().as_uri(),) and page.console == ()
    assert shared not in page.html
    table = page.text.split("Repositories by worst severity", 1)[1].split("Stripe accounts", 1)[0]
    rows = [line.split("\t") for line in table.strip().splitlines()[1:]]
    assert rows == [["repo00", "CRITICAL", "2"], ["repo03", "CRITICAL", "2"],
                    ["repo01", "MEDIUM", "1"], ["repo02", "MEDIUM", "1"]]  # fmt: skip
