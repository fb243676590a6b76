"""``python -m api.pages.addresses BASE``: the pages' addresses, printed by ``./run.sh`` before serving."""

from __future__ import annotations

import sys

from domain.ids import campaign_id

DEMO_CAMPAIGN = "战友杯 2021 demo"  # the name `zhanyou demo` uses unless told otherwise
PAGES = (
    ("register", "自主报名 (public registration, status look-up)"),
    ("dashboard", "领导看板 (leadership dashboard)"),
    ("report", "每日报告 (printable daily report)"),
    ("console", "市州工作台 (bureau and organiser console)"),
    ("audit", "审计 (auditor's view)"),
)


def addresses(base: str, name: str = DEMO_CAMPAIGN) -> list[str]:
    cid = campaign_id(name)
    lines = [f"pages: {base}/  (every campaign's pages; staff sign in at {base}/signin with their token)"]
    lines += [f"  {base}/c/{cid}/{page:<9}  {what}" for page, what in PAGES]
    lines.append(f"  (the campaign {name!r} of ./run.sh demo; other campaigns: /c/<campaign id>/...)")
    return lines


if __name__ == "__main__":
    base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    print("\n".join(addresses(base)), file=sys.stderr)
