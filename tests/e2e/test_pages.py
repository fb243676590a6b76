"""The pages as people use them, in Chromium: the public, city staff, organisers, leadership, auditors."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.timeline import SHANGHAI
from tests.builders import id_number, mobile
from tests.e2e.conftest import Site, shoot, sign_in
from tests.form_files import as_xlsx, form_cells, person_row

try:
    from playwright.sync_api import expect
except ImportError:  # in CI the browser tests must run: a missing package is a failure there
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("browser tests skipped: the playwright package is not installed", allow_module_level=True)


def _wrong_check_character(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def _recommend(site: Site, seq: int, group: str = "veteran") -> dict[str, Any]:
    answer = site.call(
        "POST",
        f"/api/campaigns/{site.campaign_id}/contestants",
        json={
            "group": group,
            "city": "武汉市",
            "name": f"推荐{seq}",
            "id_number": id_number(seq),
            "mobile": mobile(seq),
            "platform": "kuaishou",
            "account": f"recommended_{seq}",
            "followers": seq,
        },
    )
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    return created


def test_the_public_registers_is_told_what_is_wrong_then_gets_a_receipt_and_its_status(
    site: Site, context: Any
) -> None:
    page = context.new_page()
    page.goto(site.page("register"))
    expect(page.locator("#channel")).to_contain_text("自主报名通道开放中")
    # trainees come only by recommendation: the public form does not offer the group
    assert page.locator('input[name="group"][value="trainee"]').count() == 0

    page.locator("#f-name").fill("李四")
    page.locator("#f-id_number").fill(_wrong_check_character(id_number(201)))
    page.locator("#f-mobile").fill("1234")
    page.locator("#f-city").select_option("黄冈市")
    page.get_by_label("退役军人组").check()
    page.locator("#f-account").fill("lisi_live")
    page.locator("#f-followers").fill("1200")
    page.get_by_role("button", name="提交报名").click()

    expect(page.locator("#e-id_number")).to_have_text("身份证号码的校验位不正确，请核对最后一位")
    expect(page.locator("#e-mobile")).to_have_text("请填写正确的中国大陆手机号码（11位）")
    expect(page.locator("#e-platform")).to_have_text("请选择抖音或快手")
    expect(page.locator("#f-id_number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-id_number")).to_be_focused()
    shoot(page, "register-errors")

    page.locator("#f-id_number").fill(id_number(201))
    page.locator("#f-mobile").fill(mobile(201))
    page.get_by_label("抖音").check()
    page.locator("#f-followers").press("Enter")  # the keyboard submits the form too

    code = page.locator("#receipt-code")
    expect(code).to_be_visible()
    receipt = code.inner_text().strip()
    assert len(receipt) == 36
    expect(page.locator("#receipt")).to_contain_text("报名已受理")

    page.locator("#l-id_number").fill(id_number(202))
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#lookup-error")).to_have_text("未找到相关记录")
    page.locator("#l-id_number").fill(id_number(201))
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#own-status")).to_have_text("已报名")
    assert page.locator("#lookup-result").inner_text().count("李四") == 0  # only the status, no personal data
    shoot(page, "register-receipt")


def test_city_staff_sign_in_once_and_import_a_recommendation_form(
    site: Site, context: Any, tmp_path: Path
) -> None:
    bad = person_row(303)
    bad[3] = _wrong_check_character(str(bad[3]))
    form = tmp_path / "武汉市推荐表.xlsx"
    form.write_bytes(as_xlsx(form_cells([person_row(301), person_row(302), bad])))
    page = context.new_page()

    sign_in(page, site, site.tokens["city_staff"], f"/c/{site.campaign_id}/console#import")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["zy_session"]["httpOnly"]
    assert site.tokens["city_staff"] not in page.content()
    page.get_by_label("推荐表文件（.xlsx 或 .csv）").set_input_files(str(form))
    page.get_by_role("button", name="上传并导入").click()

    expect(page.locator("#import-counts")).to_contain_text("已导入 2 行，此前已导入 0 行，未导入 1 行")
    refused = page.locator("#import-table tbody tr", has_text="未导入")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("学员303")
    expect(refused).to_contain_text("身份证号码的校验位不正确，请核对最后一位")
    shoot(page, "console-import")

    page.goto(site.page("console#roster"))
    expect(page.locator("#roster-total")).to_contain_text("共")
    expect(page.locator("#r-city")).to_be_disabled()  # staff see their own city only
    expect(page.locator("#roster-table tbody")).to_contain_text("学员301")
    shoot(page, "console-roster")

    page.locator("form[action='/signout'] button").click()
    page.goto(site.page("console"))
    expect(page).to_have_url(f"{site.url('/signin')}?next=/c/{site.campaign_id}/console")


def test_an_organiser_bulk_verifies_the_review_queue(site: Site, context: Any) -> None:
    mine = [_recommend(site, n)["id"] for n in (401, 402, 403)]
    page = context.new_page()
    sign_in(page, site, site.tokens["admin"], f"/c/{site.campaign_id}/console#review")
    rows = page.locator("#review-table tbody tr")
    expect(rows.filter(has_text="推荐403")).to_have_count(1)
    waiting = rows.count()
    page.get_by_label("全选").check()
    page.get_by_role("button", name="批量审核通过").click()

    expect(page.locator("#console-status")).to_have_text(f"完成 {waiting} 人")
    expect(page.locator("#review-table .result.ok")).to_have_count(waiting)
    shoot(page, "console-review")
    statuses = {c: site.call("GET", f"/api/contestants/{c}").json()["status"] for c in mine}
    assert set(statuses.values()) == {"verified"}
    queue = site.view(f"/api/campaigns/{site.campaign_id}/contestants?status=nominated")
    assert queue["total"] == 0

    for tab in ("scores", "teams", "timeline", "users"):
        page.goto(site.page(f"console#{tab}"))
        expect(page.locator(f"#tab-{tab}")).to_be_visible()
        page.wait_for_load_state("networkidle")
        shoot(page, f"console-{tab}")


def test_leadership_reads_the_dashboard_with_the_views_numbers_and_no_names(site: Site, context: Any) -> None:
    _recommend(site, 501, group="trainee")
    page = context.new_page()
    sign_in(page, site, site.tokens["leader"], f"/c/{site.campaign_id}/dashboard")
    expect(page.locator("#updated")).not_to_have_text("—")
    token = site.tokens["leader"]
    funnel = site.view(f"/api/campaigns/{site.campaign_id}/funnel", token)
    quotas = site.view(f"/api/campaigns/{site.campaign_id}/quotas", token)

    for stage in ("nominated", "verified", "trained", "competed", "advanced", "awarded"):
        expected = sum(row["reached"].get(stage, 0) for row in funnel["rows"])
        expect(page.locator(f'[data-headline="{stage}"]')).to_have_text(f"{expected:,}")
    tiles = page.locator("#quota-tiles .tile")
    expect(tiles).to_have_count(17)
    assert tiles.first.get_attribute("data-city") == "武汉市"
    assert tiles.last.get_attribute("data-city") == "神农架林区"
    wuhan = next(q for q in quotas["quotas"] if q["city"] == "武汉市" and q["group"] == "trainee")
    expect(page.locator('[data-city="武汉市"] [data-fill="trainee"]')).to_have_text(
        f"{wuhan['recommended']}/{wuhan['quota']}"
    )
    expect(page.locator("#team-tiles .tile")).to_have_count(17)
    expect(page.locator("#chart-daily svg")).to_have_count(1)
    content = page.content()
    assert "推荐501" not in content
    assert "学员301" not in content
    shoot(page, "dashboard")

    page.goto(site.page("report"))
    expected = sum(row["reached"].get("nominated", 0) for row in funnel["rows"])
    expect(page.locator('td[data-headline="nominated"]')).to_have_text(str(expected))
    shoot(page, "report")


def test_an_auditor_reads_a_history_as_it_was_and_who_read_personal_data(site: Site, context: Any) -> None:
    contestant = _recommend(site, 601)["id"]
    verified = site.call(
        "POST",
        f"/api/contestants/{contestant}/verify",
        json={"reason": "材料齐全", "evidence": "附件2 第3行"},
        token=site.tokens["admin"],
    )
    assert verified.status_code == 200, verified.text
    read = site.call("GET", f"/api/contestants/{contestant}/pii", token=site.tokens["city_staff"])
    assert read.status_code == 200
    history = site.call("GET", f"/api/contestants/{contestant}/history", token=site.tokens["auditor"]).json()

    page = context.new_page()
    sign_in(page, site, site.tokens["auditor"], f"/c/{site.campaign_id}/audit?contestant={contestant}")
    expect(page.locator("#timeline > li")).to_have_count(len(history))
    expect(page.locator("#timeline")).to_contain_text("材料齐全")
    expect(page.locator("#timeline")).to_contain_text("附件2 第3行")
    expect(page.locator('#state [data-field="status"]')).to_have_text("已审核")
    expect(page.locator("#reads-table")).to_contain_text("wuhan-staff")

    page.locator("#asof").fill("0")
    expect(page.locator('#state [data-field="status"]')).to_have_text("已报名")
    expect(page.locator("#timeline > li.later")).to_have_count(len(history) - 1)
    shoot(page, "audit-history")

    expect(page.locator("#trail-table tbody tr").first).to_be_visible()
    page.locator("#a-type").select_option("Verified")
    page.get_by_role("button", name="查询", exact=True).click()
    expect(page.locator("#export-csv")).to_have_attribute("href", re.compile(r"type=Verified"))
    expect(page.locator("#trail-table tbody")).to_contain_text("材料齐全")
    assert page.locator("#trail-table tbody tr", has_text="报名").count() == 0
    csv_link = page.locator("#export-csv").get_attribute("href")
    assert csv_link is not None
    exported = page.request.get(site.url(csv_link))
    assert exported.status == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "材料齐全" in exported.text()


def test_the_home_and_sign_in_pages(site: Site, context: Any) -> None:
    page = context.new_page()
    page.goto(site.url("/"))
    expect(page.get_by_role("link", name="自主报名 / 查询报名状态").first).to_be_visible()
    shoot(page, "home")
    page.goto(site.url("/signin"))
    page.get_by_label("访问令牌").fill("zy_wrong")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#token-error")).to_have_text("请先登录（令牌无效或缺失）")
    shoot(page, "signin")


def _campaign_in_contest(site: Site) -> tuple[str, list[str]]:
    """A campaign of its own whose contest is open now: two trained contestants, by overrides."""
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    launched = site.call(
        "POST",
        "/api/campaigns",
        json={
            "name": f"战友杯 e2e 评分 {site.backend}",
            "template": "hubei-2021",
            "start": (today - timedelta(days=20)).isoformat(),
        },
    )
    assert launched.status_code == 201, launched.text
    cid: str = launched.json()["id"]
    people: list[str] = []
    for seq in (701, 702):
        body = {
            "group": "trainee",
            "city": "武汉市",
            "name": f"评分{seq}",
            "id_number": id_number(seq),
            "mobile": mobile(seq),
            "platform": "douyin",
            "account": f"scored_{seq}",
            "followers": seq,
        }
        created = site.call("POST", f"/api/campaigns/{cid}/contestants", json=body)
        assert created.status_code == 201, created.text
        people.append(created.json()["id"])
        assert site.call("POST", f"/api/contestants/{people[-1]}/verify", json={}).status_code == 200
    for code, side in (("registration", "close"), ("online_training", "open")):
        moved = site.call(
            "POST", f"/api/campaigns/{cid}/phases/{code}/{side}", json={"reason": "提前进入培训"}
        )
        assert moved.status_code == 200, moved.text
    for contestant in people:
        assigned = site.call(
            "POST",
            f"/api/contestants/{contestant}/training-account",
            json={"training_account": f"px-{contestant[:6]}"},
        )
        assert assigned.status_code == 200, assigned.text
        trained = site.call("POST", f"/api/contestants/{contestant}/trained", json={})
        assert trained.status_code == 200, trained.text
    opened = site.call("POST", f"/api/campaigns/{cid}/phases/contest/open", json={"reason": "比赛提前开始"})
    assert opened.status_code == 200, opened.text
    return cid, people


def test_a_judge_uploads_a_score_sheet_and_reads_the_report_in_chinese(
    site: Site, context: Any, tmp_path: Path
) -> None:
    cid, people = _campaign_in_contest(site)
    sheet = tmp_path / "评分表.xlsx"
    sheet.write_bytes(
        as_xlsx(
            [
                ["“战友杯”选手全员赛评分表"],
                ["身份证号", "姓名", "短视频制作", "个人直播账号运营", "直播带货"],
                [id_number(701), "评分701", 88, 75.5, 92],
                [id_number(702), "评分702", 150, 80, 70],
                [id_number(799), "无此人", 60, 60, 60],
            ]
        )
    )
    page = context.new_page()
    sign_in(page, site, site.tokens["judge"], f"/c/{cid}/console#scores")
    expect(page.locator("#scores-table tbody tr")).to_have_count(2)  # the trained, waiting for scores
    page.get_by_label("评分表文件（.xlsx 或 .csv）").set_input_files(str(sheet))
    page.get_by_role("button", name="上传并录入").click()

    expect(page.locator("#sheet-counts")).to_have_text("已录入 1 行，未录入 2 行。")
    rows = page.locator("#sheet-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("评分701")
    expect(rows.nth(0)).to_contain_text("已录入")
    expect(rows.nth(1)).to_contain_text("短视频成绩应在0分到满分之间")
    expect(rows.nth(2)).to_contain_text("未找到相关记录")
    expect(page.locator("#sheet-table tbody tr.bad")).to_have_count(2)
    expect(page.locator("#scores-table tbody tr")).to_have_count(1)  # the one scored has left the list
    shoot(page, "console-score-sheet")

    scored = site.call("GET", f"/api/contestants/{people[0]}").json()
    assert (scored["status"], scored["results"]) == (
        "competed",
        {"short_video": 88.0, "account_operation": 75.5, "livestream_selling": 92.0},
    )
    assert site.call("GET", f"/api/contestants/{people[1]}").json()["status"] == "trained"


def test_an_auditor_sees_the_chain_verified_and_the_signed_checkpoints(site: Site, context: Any) -> None:
    site.command("checkpoint", "--reason", "on demand")
    checkpoints = site.call("GET", "/api/audit/checkpoints", token=site.tokens["auditor"]).json()[
        "checkpoints"
    ]
    assert checkpoints
    page = context.new_page()
    sign_in(page, site, site.tokens["auditor"], f"/c/{site.campaign_id}/audit")
    fresh = page.get_by_role("button", name="重新校验")
    fresh.click()  # a verification that covers what the earlier tests wrote
    expect(page.locator("#verify-state")).to_contain_text("校验通过", timeout=60_000)
    expect(page.locator("#verify-state")).to_contain_text(f"{len(checkpoints)} 个签名存证点均有效")
    expect(page.locator("#checkpoints-table tbody tr")).to_have_count(len(checkpoints))
    newest = page.locator("#checkpoints-table tbody tr").first
    expect(newest).to_contain_text("手动存证")
    expect(newest.locator("code")).to_have_attribute("title", checkpoints[-1]["head"])
    instant = datetime.fromisoformat(checkpoints[-1]["instant"]).astimezone(SHANGHAI)
    expect(newest).to_contain_text(instant.strftime("%Y-%m-%d %H:%M"))  # Beijing time
    page.locator("#ledger").scroll_into_view_if_needed()
    shoot(page, "audit-ledger")
