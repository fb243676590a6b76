"""The pages as people use them, in Chromium: the public, city staff, organisers, leadership, auditors."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

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
    refused = site.call("GET", f"/api/contestants/{contestant}/pii", token=site.tokens["auditor"])
    assert refused.status_code == 403
    entries = site.call("GET", f"/api/contestants/{contestant}/history", token=site.tokens["auditor"]).json()
    # the page steps through the decisions; the reads (on the history too) are listed beside them
    history = [e for e in entries if e["type"] not in ("PersonalDataRead", "PersonalDataReadRefused")]
    assert len(history) == len(entries) - 2

    page = context.new_page()
    sign_in(page, site, site.tokens["auditor"], f"/c/{site.campaign_id}/audit?contestant={contestant}")
    expect(page.locator("#timeline > li")).to_have_count(len(history))
    expect(page.locator("#timeline")).to_contain_text("材料齐全")
    expect(page.locator("#timeline")).to_contain_text("附件2 第3行")
    expect(page.locator('#state [data-field="status"]')).to_have_text("已审核")
    expect(page.locator("#reads-table")).to_contain_text("wuhan-staff")
    expect(page.locator("#reads-table tr.refused")).to_contain_text("已拒绝")

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
