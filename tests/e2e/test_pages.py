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


def test_the_public_form_is_sent_again_under_its_key_unless_it_was_refused(site: Site, context: Any) -> None:
    keys: list[str] = []
    problem = "application/problem+json"
    not_recorded = '{"rule": "store_unavailable", "outcome": "not_recorded"}'
    answers: list[dict[str, Any] | None] = [
        None,  # the connection is lost: fetch throws
        {"status": 502, "content_type": "text/html", "body": "<h1>Bad Gateway</h1>"},
        {"status": 504, "content_type": "text/html", "body": "<h1>Gateway Timeout</h1>"},
        {"status": 500, "content_type": "text/plain", "body": "Internal Server Error"},
        {"status": 503, "content_type": problem, "body": not_recorded},
        {"status": 429, "content_type": problem, "body": '{"rule": "rate_limited"}'},
    ]

    def answer(route: Any) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        keys.append(route.request.headers["idempotency-key"])
        if len(keys) > len(answers):
            route.continue_()
        elif (given := answers[len(keys) - 1]) is None:
            route.abort("failed")
        else:
            route.fulfill(**given)

    page = context.new_page()
    page.route(re.compile(r".*/registrations$"), answer)
    page.goto(site.page("register"))
    page.locator("#f-name").fill("王五")
    page.locator("#f-id_number").fill(id_number(221))
    page.locator("#f-mobile").fill(mobile(221))
    page.locator("#f-city").select_option("黄冈市")
    page.get_by_label("退役军人组").check()
    page.get_by_label("抖音").check()
    page.locator("#f-account").fill("wangwu_live")
    page.locator("#f-followers").fill("800")
    button = page.get_by_role("button", name="提交报名")
    for sent in range(1, 7):
        button.click()
        expect(page.locator("#form-error")).not_to_be_empty()
        expect(button).to_be_enabled()
        assert len(keys) == sent
    button.click()
    expect(page.locator("#receipt-code")).to_be_visible()
    # unknown outcomes (no answer, 502, 504, 500) keep the key; "not recorded" and a 4xx let it go
    assert keys[1:5] == [keys[0]] * 4, keys
    assert len({keys[0], keys[5], keys[6]}) == 3, keys


def test_the_public_form_shows_every_bad_field_at_once(site: Site, context: Any) -> None:
    """A field the schema refuses (no follower count) and fields the rules refuse, in one answer."""
    page = context.new_page()
    page.goto(site.page("register"))
    page.locator("#f-name").fill("王五")
    page.locator("#f-id_number").fill(_wrong_check_character(id_number(211)))
    page.locator("#f-mobile").fill("1370000")
    page.locator("#f-city").select_option("黄冈市")
    page.get_by_label("退役军人组").check()
    page.get_by_label("抖音").check()
    page.get_by_role("button", name="提交报名").click()

    expect(page.locator("#e-followers")).to_have_text("粉丝数应为不小于0的整数")
    expect(page.locator("#e-id_number")).to_have_text("身份证号码的校验位不正确，请核对最后一位")
    expect(page.locator("#e-mobile")).to_have_text("请填写正确的中国大陆手机号码（11位）")
    expect(page.locator("#e-account")).to_have_text("请填写一个平台账号")
    for name in ("followers", "id_number", "mobile", "account"):
        expect(page.locator(f"#f-{name}")).to_have_attribute("aria-invalid", "true")


def test_a_mistyped_page_address_is_explained_in_chinese(site: Site, context: Any) -> None:
    page = context.new_page()
    answer = page.goto(site.url(f"/c/{site.campaign_id}/registr"))
    assert answer is not None
    assert answer.status == 404
    expect(page.locator("h1")).to_have_text("无法显示此页面")
    expect(page.locator(".error")).to_have_text("未找到相关记录")


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


def _posts(page: Any) -> list[str]:
    """The addresses of the POST requests the page sends from now on."""
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url) if request.method == "POST" else None)
    return sent


def _last_event(site: Site, contestant: str) -> dict[str, Any]:
    history = site.call("GET", f"/api/contestants/{contestant}/history", token=site.tokens["auditor"])
    assert history.status_code == 200, history.text
    last: dict[str, Any] = history.json()[-1]
    return last


def test_an_organiser_bulk_verifies_several_in_one_act_and_reads_each_row(site: Site, context: Any) -> None:
    mine = {n: _recommend(site, n)["id"] for n in (401, 402, 403)}
    page = context.new_page()
    sign_in(page, site, site.tokens["admin"], f"/c/{site.campaign_id}/console#review")
    rows = page.locator("#review-table tbody tr")
    expect(rows.filter(has_text="推荐403")).to_have_count(1)
    # a colleague verifies 402 after this queue was read: its row is refused, the others go through
    taken = site.call(
        "POST",
        f"/api/contestants/{mine[402]}/verify",
        json={"reason": "电话核实"},
        token=site.tokens["admin"],
    )
    assert taken.status_code == 200, taken.text
    for n in mine:
        rows.filter(has_text=f"推荐{n}").get_by_role("checkbox").check()
    expect(page.locator("#review-picked")).to_have_text("已勾选 3 人")
    page.get_by_label("理由（不通过时必填）").fill("材料齐全")
    page.get_by_label("依据（可选）").fill("附件2 原件")
    sent = _posts(page)
    page.get_by_role("button", name="批量审核通过").click()

    expect(page.locator("#review-counts")).to_have_text(
        "批量审核通过：提交 3 人，完成 2 人，未处理 1 人。每人单独记录一条决定。"
    )
    report = page.locator("#review-report-table tbody tr")
    expect(report).to_have_count(3)
    for n in (401, 403):
        expect(report.filter(has_text=f"推荐{n}")).to_contain_text("已审核通过")
        expect(rows.filter(has_text=f"推荐{n}").locator(".result")).to_have_text("已审核通过")
        expect(rows.filter(has_text=f"推荐{n}").get_by_role("checkbox")).to_be_disabled()
    refused = report.filter(has_text="推荐402")
    expect(refused).to_contain_text("未处理")
    expect(refused).to_contain_text("该选手已不在待审核状态（可能已由他人审核），请刷新后查看")
    expect(page.locator("#console-status")).to_have_text(
        "批量审核通过：完成 2 人，1 人未处理（见“本次结果”）"
    )
    assert sent == [site.url(f"/api/campaigns/{site.campaign_id}/bulk/verify")]  # one act for the three
    shoot(page, "console-review")

    for n in (401, 403):  # each decision recorded on its own, with the act's reason and evidence
        event = _last_event(site, mine[n])
        assert (event["type"], event["user"], event["reason"], event["evidence"]) == (
            "Verified",
            "organiser-1",
            "材料齐全",
            "附件2 原件",
        )
    assert _last_event(site, mine[402])["reason"] == "电话核实"  # the colleague's decision stands alone

    for tab in ("scores", "teams", "timeline", "users"):
        page.goto(site.page(f"console#{tab}"))
        expect(page.locator(f"#tab-{tab}")).to_be_visible()
        page.wait_for_load_state("networkidle")
        shoot(page, f"console-{tab}")


def test_an_organiser_rejects_several_with_one_reason_and_none_without(site: Site, context: Any) -> None:
    mine = {n: _recommend(site, n)["id"] for n in (411, 412)}
    page = context.new_page()
    sign_in(page, site, site.tokens["admin"], f"/c/{site.campaign_id}/console#review")
    rows = page.locator("#review-table tbody tr")
    for n in mine:
        rows.filter(has_text=f"推荐{n}").get_by_role("checkbox").check()
    sent = _posts(page)
    page.get_by_role("button", name="批量不通过").click()

    reason = page.get_by_label("理由（不通过时必填）")
    expect(page.locator("#e-reason")).to_have_text("批量不通过须填写理由（一条理由适用于所有勾选的选手）")
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    expect(page.locator("#console-status")).to_have_text("未提交：请先填写不通过的理由")
    assert sent == []  # nothing was sent, nobody rejected
    shoot(page, "console-review-reason-required")
    assert {site.call("GET", f"/api/contestants/{c}").json()["status"] for c in mine.values()} == {
        "nominated"
    }

    reason.fill("未提供退役证")
    page.get_by_role("button", name="批量不通过").click()
    expect(page.locator("#review-counts")).to_have_text(
        "批量不通过：提交 2 人，完成 2 人，未处理 0 人。每人单独记录一条决定。"
    )
    expect(page.locator("#review-report-table tbody tr", has_text="已标记不通过")).to_have_count(2)
    expect(page.locator("#e-reason")).to_be_hidden()
    assert sent == [site.url(f"/api/campaigns/{site.campaign_id}/bulk/reject")]
    shoot(page, "console-review-reject")
    for contestant in mine.values():
        assert site.call("GET", f"/api/contestants/{contestant}").json()["status"] == "rejected"
        event = _last_event(site, contestant)
        assert (event["type"], event["reason"]) == ("Rejected", "未提供退役证")


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
    _countdown_reads_as_the_timeline(page)
    shoot(page, "dashboard")

    page.goto(site.page("report"))
    expected = sum(row["reached"].get("nominated", 0) for row in funnel["rows"])
    expect(page.locator('td[data-headline="nominated"]')).to_have_text(str(expected))
    shoot(page, "report")


def _countdown_reads_as_the_timeline(page: Any) -> None:
    """The countdown names its boundary as the timeline beside it does: an end at midnight is 24:00."""
    expect(page.locator("#countdown")).to_contain_text("还有")
    found = re.fullmatch(r"距(.+)(开始|结束)还有 .+（(.+)）", page.locator("#countdown").text_content() or "")
    assert found is not None, page.locator("#countdown").text_content()
    phase, side, shown = found.groups()
    rows = page.eval_on_selector_all(
        "#phases li",
        "items => items.map((li) => [li.querySelector('.ph-name').textContent,"
        " li.querySelector('.ph-dates').textContent])",
    )
    dates = dict(rows)[phase].split(" 至 ")
    assert shown == (dates[0] if side == "开始" else dates[1]), (shown, dates)


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


def _campaign_in_contest(
    site: Site,
    purpose: str = "评分",
    people: tuple[tuple[int, str], ...] = ((701, "trainee"), (702, "trainee")),
) -> tuple[str, list[str]]:
    """A campaign of its own whose contest is open now, its people trained, by overrides."""
    today = datetime.now(UTC).astimezone(SHANGHAI).date()
    launched = site.call(
        "POST",
        "/api/campaigns",
        json={
            "name": f"战友杯 e2e {purpose} {site.backend}",
            "template": "hubei-2021",
            "start": (today - timedelta(days=20)).isoformat(),
        },
    )
    assert launched.status_code == 201, launched.text
    cid: str = launched.json()["id"]
    ids: list[str] = []
    for seq, group in people:
        body = {
            "group": group,
            "city": "武汉市",
            "name": f"{purpose}{seq}",
            "id_number": id_number(seq),
            "mobile": mobile(seq),
            "platform": "douyin",
            "account": f"scored_{seq}",
            "followers": seq,
        }
        created = site.call("POST", f"/api/campaigns/{cid}/contestants", json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
        assert site.call("POST", f"/api/contestants/{ids[-1]}/verify", json={}).status_code == 200
    for code, side in (("registration", "close"), ("online_training", "open")):
        moved = site.call(
            "POST", f"/api/campaigns/{cid}/phases/{code}/{side}", json={"reason": "提前进入培训"}
        )
        assert moved.status_code == 200, moved.text
    for contestant in ids:
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
    return cid, ids


def _score(site: Site, contestant: str, short_video: float, operation: float, selling: float) -> None:
    scores = {"short_video": short_video, "account_operation": operation, "livestream_selling": selling}
    recorded = site.call(
        "POST", f"/api/contestants/{contestant}/results", json={"scores": scores}, token=site.tokens["judge"]
    )
    assert recorded.status_code == 200, recorded.text


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


def test_the_team_tab_ranks_as_the_rankings_api_does_trainees_first(site: Site, context: Any) -> None:
    groups = {711: "veteran", 712: "trainee", 713: "trainee", 714: "family", 715: "trainee"}
    cid, ids = _campaign_in_contest(site, "排名", tuple(groups.items()))
    people = dict(zip(groups, ids, strict=True))
    for seq, scores in {
        711: (99, 99, 99),
        712: (80, 70, 90),
        713: (90, 90, 90.5),
        714: (60, 60, 60),
        715: (80, 90, 70),
    }.items():
        _score(site, people[seq], *scores)
    closed = site.call("POST", f"/api/campaigns/{cid}/phases/contest/close", json={"reason": "比赛结束"})
    assert closed.status_code == 200, closed.text
    ranked = site.view(f"/api/campaigns/{cid}/rankings?city=武汉市")["rankings"]
    # the veteran has the highest total, yet the trainees come first (重点突出学员)
    assert [r["group"] for r in ranked] == ["trainee", "veteran", "family"]

    page = context.new_page()
    sign_in(page, site, site.tokens["admin"], f"/c/{cid}/console#teams")
    tables = page.locator("#rankings table")
    expect(tables).to_have_count(len(ranked))
    for table, ranking in zip([tables.nth(i) for i in range(len(ranked))], ranked, strict=True):
        expect(table).to_have_attribute("data-group", ranking["group"])
        expect(page.locator(".ranking-group h4").nth(ranked.index(ranking))).to_have_text(
            f"{ranking['group_title']}（{len(ranking['entries'])} 人）"
        )
        rows = table.locator("tbody tr")
        expect(rows).to_have_count(len(ranking["entries"]))
        for n, entry in enumerate(ranking["entries"]):
            expect(rows.nth(n).locator(".rank")).to_have_text(str(entry["rank"]))
            expect(rows.nth(n).locator(".name")).to_have_text(entry["name"])
            expect(rows.nth(n).locator(".total")).to_have_text(f"{entry['total']:g}")
            expect(rows.nth(n).locator(".status")).to_have_text("已参赛")
    trainees = tables.first.locator("tbody tr")
    expect(trainees.locator(".rank")).to_have_text(["1", "2", "2"])  # equal totals share a rank
    expect(trainees.first.locator(".total")).to_have_text("270.5")

    page.locator("#t-group").select_option(label="退役军人组")
    veterans = site.view(f"/api/campaigns/{cid}/rankings?city=武汉市&group=veteran")["rankings"]
    expect(tables).to_have_count(1)
    expect(tables.first.locator("tbody .name")).to_have_text([e["name"] for e in veterans[0]["entries"]])
    page.locator("#t-group").select_option(label="全部组别")
    expect(tables).to_have_count(len(ranked))

    top = tables.first.locator("tbody tr").first
    top.get_by_role("button", name="选为主播").click()
    expect(top.locator(".result")).to_have_text("已入选")
    expect(top.locator(".status")).to_have_text("入围决赛（主播）")
    expect(page.locator("#team-now")).to_contain_text("主播 1 人（排名713）")
    shoot(page, "console-teams-ranking")
    picked = site.call("GET", f"/api/contestants/{people[713]}").json()
    assert (picked["status"], picked["team_role"]) == ("advanced", "streamer")


def test_a_judge_corrects_a_recorded_score_with_a_reason(site: Site, context: Any) -> None:
    cid, (recorded, waiting) = _campaign_in_contest(site, "更正", ((721, "trainee"), (722, "trainee")))
    _score(site, recorded, 80, 80, 80)
    page = context.new_page()
    sign_in(page, site, site.tokens["judge"], f"/c/{cid}/console#scores")
    rows = page.locator("#scores-table tbody tr")
    expect(rows).to_have_count(1)  # the one waiting for a first entry
    row = rows.filter(has_text="更正722")
    row.get_by_label("更正722 短视频").fill("70")
    row.get_by_label("更正722 账号运营").fill("71")
    row.get_by_role("button", name="保存").click()
    expect(row.locator(".result")).to_have_text("请填写直播带货成绩")  # a blank is not a 0
    row.get_by_label("更正722 直播带货").fill("72.5")
    row.get_by_role("button", name="保存").click()
    expect(row.locator(".result")).to_have_text("已保存（如需更正，请在“已录入成绩”中修改）")
    expect(row.get_by_label("更正722 短视频")).to_be_disabled()

    page.locator("#s-state").select_option(label="已录入成绩（可更正）")
    expect(rows).to_have_count(2)
    row = rows.filter(has_text="更正721")
    expect(row.get_by_label("更正721 短视频")).to_have_value("80")
    row.get_by_label("更正721 短视频").fill("85")
    row.get_by_role("button", name="更正").click()
    reason = row.get_by_label("更正721 更正理由")
    expect(row.locator(".result")).to_have_text("更正已录入的成绩须填写理由")
    expect(reason).to_be_focused()
    assert site.call("GET", f"/api/contestants/{recorded}").json()["results"]["short_video"] == 80.0

    reason.fill("复核评分表：短视频漏计5分")
    row.get_by_role("button", name="更正").click()
    expect(row.locator(".result")).to_have_text("已更正")
    expect(reason).to_have_value("")
    shoot(page, "console-score-correction")
    corrected = site.call("GET", f"/api/contestants/{recorded}").json()
    assert corrected["results"] == {
        "short_video": 85.0,
        "account_operation": 80.0,
        "livestream_selling": 80.0,
    }
    event = _last_event(site, recorded)
    assert (event["type"], event["user"], event["reason"]) == (
        "Competed",
        "judge-1",
        "复核评分表：短视频漏计5分",
    )
    first = site.call("GET", f"/api/contestants/{waiting}").json()
    assert first["results"] == {"short_video": 70.0, "account_operation": 71.0, "livestream_selling": 72.5}
