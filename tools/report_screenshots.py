"""Screenshots of the HTML report for docs/: the synthetic benchmark repository's history report and a
20-repository `scan-many` report, rendered by headless Chromium (tests/browser.py).

    python tools/report_screenshots.py SYNTHETIC_REPO [--out docs] [--work DIR]

SYNTHETIC_REPO is made by ../shared/bench/gen_synthetic.py (benchmarks/perf.py prepare makes it with
`--commits 1500 --files 400 --size 40M --seed 7`). The 20 repositories are made here, with the same
generator (80 commits, 5 keys and 3 decoys each, seeds 1..20), and each gets a release tag `v1.0.0`
at its 40th commit; service-03 then gets a client bundle holding a live publishable, secret and
restricted key of one made-up account, and service-11 the same account's restricted key (the
account grouping at work). Each screenshot is the top of its page (summary, repositories, accounts,
timeline, first findings); the HTML files are written next to them under the work directory.
"""

from __future__ import annotations

import argparse
import os
import random
import string
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATOR = ROOT.parent / "shared" / "bench" / "gen_synthetic.py"
HEIGHT = 3000  # pixels of each page kept in the screenshot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("synthetic", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests import browser

    work = args.work or Path(tempfile.mkdtemp(prefix="leakscan-shots-"))
    fleet = work / "fleet"
    if not fleet.exists():
        for seed in range(1, 21):
            repo = fleet / f"service-{seed:02d}"
            subprocess.run([sys.executable, str(GENERATOR), str(repo), "--commits", "80", "--files",
                            "40", "--size", "2M", "--secrets", "5", "--decoys", "3", "--seed",
                            str(seed)], check=True, capture_output=True)  # fmt: skip
            first = subprocess.run(["git", "-C", str(repo), "rev-list", "--reverse", "HEAD"],
                                   check=True, capture_output=True, text=True).stdout.split()  # fmt: skip
            subprocess.run(["git", "-C", str(repo), "tag", "v1.0.0", first[39]], check=True)
            (work / f"service-{seed:02d}.truth.json").write_bytes(
                (fleet / f"service-{seed:02d}.truth.json").read_bytes()
            )
            (fleet / f"service-{seed:02d}.truth.json").unlink()  # not a repository to scan
        _one_account(fleet / "service-03", fleet / "service-11")
    reports = {
        "report-history.png": ["scan", "--history", str(args.synthetic)],
        "report-scan-many.png": ["scan-many", str(fleet)],
    }
    for name, command in reports.items():
        html = work / name.replace(".png", ".html")
        subprocess.run([sys.executable, "-m", "leakscan", *command, "--format", "html", "-o",
                        str(html), "--fail-on", "never"], check=True)  # fmt: skip
        page = browser.load(html, args.out / name, height=HEIGHT)
        assert page.requests == (html.resolve().as_uri(),) and page.console == (), page
        print(f"{args.out / name}: from {html}")


def _one_account(bundle_repo: Path, other_repo: Path) -> None:
    """Keys of one account: `51` + the same 15 characters, then random ones (built here, at run
    time; the repository holds no key literal)."""
    rnd = random.Random(19)
    alphabet = string.ascii_letters + string.digits

    def key(prefix: str) -> str:
        return prefix + "51" + "Kx7Qm2Rt9Lp4Zw8" + "".join(rnd.choice(alphabet) for _ in range(82))

    secret, restricted = key("sk_" + "live_"), key("rk_" + "live_")
    bundle = (f"const stripe = Stripe('{key('pk_' + 'live_')}');\n"
              f"const admin = '{secret}';\nconst reports = '{restricted}';\n")  # fmt: skip
    _commit(bundle_repo, "web/static/js/checkout.bundle.js", bundle, "Build the checkout bundle")
    _commit(other_repo, "config/reports.env", f"STRIPE_REPORTS_KEY={restricted}\n", "Reports key")


def _commit(repo: Path, name: str, text: str, message: str) -> None:
    (repo / name).parent.mkdir(parents=True, exist_ok=True)
    (repo / name).write_text(text)
    last = subprocess.run(["git", "-C", str(repo), "log", "-1", "--format=%at"], check=True,
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    when = f"@{int(last) + 86400} +0000"  # a day after the generated history, not today
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}  # fmt: skip
    for args in (["add", "--", name], ["commit", "-q", "-m", message]):
        subprocess.run(["git", "-C", str(repo), *args], check=True, env=env)


if __name__ == "__main__":
    main()
