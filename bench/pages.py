"""Each page's weight (bytes transferred) and time to first render, in Debian's Chromium.

    ./run.sh demo && ./run.sh            # in one shell: the demo data, then serve it
    .venv/bin/python -m bench.pages [--base http://127.0.0.1:8000] [--token "$(cat data/bootstrap-token)"] \
        [--campaign ID] [--runs 3]

Every page is opened ``--runs`` times in a fresh browser profile with the cache disabled, as
the second page of the visit (after signing in with ``--token``, or after the home page for
the public page, so that no page pays for the renderer's first start), at 1440x900. Weight is
the sum of the encoded bytes of every response the page loaded until the network was idle
(its data calls included); first render is the browser's first-contentful-paint; "settled"
is when the network had been idle for 0.5 s (Playwright's networkidle), so it includes that
half second. One warm-up page first.
Prints one line per page (medians) and appends them to bench/results/pages.txt.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any

from api.pages.addresses import DEMO_CAMPAIGN
from bench.figures import keep
from domain.ids import campaign_id
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path

PAGES = ("register", "dashboard", "report", "console", "audit")


def measure(browser: Any, base: str, token: str, path: str) -> tuple[int, float, float]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
    try:
        page = context.new_page()
        if not token:  # like the staff pages (signed in first), measured as the visit's second page
            page.goto(f"{base}/")
            page.wait_for_load_state("networkidle")
        if token:
            page.goto(f"{base}/signin")
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
        session = context.new_cdp_session(page)
        session.send("Network.enable")
        session.send(
            "Network.setCacheDisabled", {"cacheDisabled": True}
        )  # every byte counts, as on a first visit
        sizes: dict[str, float] = {}
        session.on(
            "Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"])
        )
        page.goto(base + path)
        page.wait_for_load_state("networkidle")
        paint = page.evaluate(
            "() => (performance.getEntriesByName('first-contentful-paint')[0] || {startTime: -1}).startTime"
        )
        settled = page.evaluate("() => performance.now()")
        return int(sum(sizes.values())), float(paint), float(settled)
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default="", help="a staff token (the admin token of ./run.sh)")
    parser.add_argument("--campaign", default=str(campaign_id(DEMO_CAMPAIGN)))
    parser.add_argument("--runs", type=int, default=3, choices=range(1, 21), metavar="1..20")
    args = parser.parse_args()
    executable = chromium_path()
    if executable is None:
        print("no Chromium: apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    lines = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        measure(browser, args.base, "", "/")  # warm-up: the browser's own start is not a page's cost
        for name in PAGES:
            path = f"/c/{args.campaign}/{name}"
            runs = [
                measure(browser, args.base, "" if name == "register" else args.token, path)
                for _ in range(args.runs)
            ]
            weight = statistics.median(r[0] for r in runs) / 1024
            paint = statistics.median(r[1] for r in runs)
            settled = statistics.median(r[2] for r in runs)
            lines.append(
                f"{name:<10} {weight:8.1f} KB transferred  first render {paint:6.0f} ms  "
                f"settled {settled:6.0f} ms  ({args.runs} runs, median)"
            )
            print(lines[-1], flush=True)
        browser.close()
    keep("pages", lines)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
