"""What the pages rely on: Chinese problems, page sessions with CSRF, counts, one's own status, headers."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.pages.session import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from tests.api.helpers import ADMIN_HEADERS, BOOTSTRAP, REVIEWING, Api, bearer, form
from tests.builders import id_number, shanghai

SELF_REGISTERING = shanghai(2021, 6, 20, 10)
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}


def _open_self_registration(api: Api) -> None:
    api.clock.now = SELF_REGISTERING
    opened = api.client.post(
        f"/api/campaigns/{api.campaign_id}/phases/self_registration/open",
        json={"reason": "公众号发布报名链接"},
        headers=ADMIN_HEADERS,
    )
    assert opened.status_code == 200, opened.text


def _csrf(client: TestClient) -> str:
    page = client.get("/signin")
    assert page.status_code == 200
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found is not None
    assert client.cookies.get(CSRF_COOKIE) == found.group(1)
    return found.group(1)


def _sign_in(client: TestClient, token: str) -> str:
    csrf = _csrf(client)
    answer = client.post("/signin", data={"token": token, "csrf": csrf, "next": "/"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert SESSION_COOKIE in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    return csrf


def test_a_refusal_speaks_chinese_when_asked_and_keeps_its_rule(api: Api) -> None:
    api.clock.now = SELF_REGISTERING
    bad = form(1, group="veteran", id_number=id_number(1)[:-1] + ("0" if id_number(1)[-1] != "0" else "1"))
    bad["mobile"] = "12345"
    answer = api.client.post(f"/api/campaigns/{api.campaign_id}/registrations", json=bad, headers=ZH)
    assert answer.status_code == 422
    assert answer.headers["content-language"] == "zh-CN"
    body = answer.json()
    assert body["rule"] == "invalid_value"
    assert body["type"].endswith("/invalid_value")
    details = {e["field"]: e["detail"] for e in body["errors"]}
    assert details["id_number"] == "身份证号码的校验位不正确，请核对最后一位"
    assert details["mobile"] == "请填写正确的中国大陆手机号码（11位）"

    with_key = {**ZH, "Idempotency-Key": "form-1"}
    kept = api.client.post(f"/api/campaigns/{api.campaign_id}/registrations", json=bad, headers=with_key)
    assert kept.status_code == 422
    assert kept.json()["errors"] == body["errors"]  # a kept answer speaks Chinese too

    english = api.client.post(f"/api/campaigns/{api.campaign_id}/registrations", json=bad)
    assert english.status_code == 422
    assert "content-language" not in english.headers
    assert english.json()["title"].startswith("Unprocessable")


def test_a_trainee_cannot_register_themselves_and_is_told_so_in_chinese(api: Api) -> None:
    api.clock.now = SELF_REGISTERING
    answer = api.client.post(
        f"/api/campaigns/{api.campaign_id}/registrations", json=form(2, group="trainee"), headers=ZH
    )
    assert answer.status_code == 409
    assert answer.json()["title"] == "该组别不能通过此渠道报名（学员组仅由市州推荐）"


def test_the_status_lookup_needs_the_receipt_and_the_id_number_together(api: Api) -> None:
    _open_self_registration(api)
    mine = api.client.post(f"/api/campaigns/{api.campaign_id}/registrations", json=form(3, group="veteran"))
    assert mine.status_code in (201, 202), mine.text
    receipt = mine.json()["receipt"]
    other = api.recommend(4)
    path = f"/api/campaigns/{api.campaign_id}/registrations/status"

    own = api.client.post(path, json={"receipt": receipt, "id_number": id_number(3)})
    assert own.status_code == 200
    assert set(own.json()) == {"status", "changed_at"}
    assert own.json()["status"] == "nominated"

    for receipt_given, number in ((other, id_number(4)), (receipt, id_number(4)), (receipt, id_number(5))):
        refused = api.client.post(path, json={"receipt": receipt_given, "id_number": number}, headers=ZH)
        assert refused.status_code == 404
        assert refused.json()["title"] == "未找到相关记录"


def test_status_lookups_are_rate_limited_per_address(api: Api) -> None:
    path = f"/api/campaigns/{api.campaign_id}/registrations/status"
    body = {"receipt": "00000000-0000-0000-0000-000000000000", "id_number": id_number(9)}
    answers = [api.client.post(path, json=body).status_code for _ in range(11)]
    assert answers[:10] == [404] * 10
    assert answers[10] == 429


def test_statistics_count_registrations_per_shanghai_day_and_name_nobody(api: Api) -> None:
    api.recommend(1)
    api.recommend(2, group="veteran")
    _open_self_registration(api)
    api.clock.now = shanghai(2021, 6, 21, 7)  # 23:00 UTC the day before: counted on the Shanghai day
    path = f"/api/campaigns/{api.campaign_id}/registrations"
    registered = api.client.post(path, json=form(3, group="family"))
    assert registered.status_code in (201, 202)
    answer = api.client.get(
        f"/api/campaigns/{api.campaign_id}/statistics",
        params={"min_position": api.log_head()},
        headers=api.as_("leader"),
    )
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    assert stats["total"] == 3
    assert stats["daily"] == [{"day": "2021-06-10", "count": 2}, {"day": "2021-06-21", "count": 1}]
    assert stats["groups"] == {"trainee": 1, "veteran": 1, "family": 1}
    assert stats["channels"] == {"recommended": 2, "self": 1}
    assert stats["platforms"] == {"douyin": 3}
    assert "选手" not in answer.text  # no name


def test_a_page_session_reads_and_writes_only_with_the_csrf_token(api: Api) -> None:
    client = api.client
    cid = api.recommend(5)
    csrf = _sign_in(client, BOOTSTRAP)

    assert client.get("/api/users/me").json()["role"] == "admin"
    api.clock.now = REVIEWING
    refused = client.post(f"/api/contestants/{cid}/verify", json={}, headers=ZH)
    assert refused.status_code == 403
    assert refused.json()["rule"] == "csrf_failed"
    forged = client.post(f"/api/contestants/{cid}/verify", json={}, headers={CSRF_HEADER: "x" + csrf})
    assert forged.json()["rule"] == "csrf_failed"
    done = client.post(f"/api/contestants/{cid}/verify", json={}, headers={CSRF_HEADER: csrf})
    assert done.status_code == 200, done.text

    signed_out = client.post("/signout", data={"csrf": csrf}, follow_redirects=False)
    assert signed_out.status_code == 303
    assert client.get("/api/users/me").status_code == 401


def test_a_tampered_or_wrong_session_is_nobody(api: Api) -> None:
    client = api.client
    _sign_in(client, api.tokens["leader"])
    value = client.cookies.get(SESSION_COOKIE)
    assert value is not None
    client.cookies.set(SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/api/users/me").status_code == 401

    csrf = _csrf(client)
    wrong = client.post("/signin", data={"token": "zy_not-a-token", "csrf": csrf})
    assert wrong.status_code == 401
    assert "令牌无效或缺失" in wrong.text
    no_csrf = client.post("/signin", data={"token": BOOTSTRAP, "csrf": "nope"})
    assert no_csrf.status_code == 403


def test_sign_in_goes_back_only_to_a_page_of_this_site(api: Api) -> None:
    client = api.client
    csrf = _csrf(client)
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        answer = client.post(
            "/signin", data={"token": BOOTSTRAP, "csrf": csrf, "next": target}, follow_redirects=False
        )
        assert answer.headers["location"] == "/"


def test_every_page_answers_in_chinese_with_a_content_security_policy(api: Api) -> None:
    client = api.client
    cid = api.recommend(6)
    _sign_in(client, BOOTSTRAP)
    for path in (
        "/",
        f"/c/{api.campaign_id}/register",
        f"/c/{api.campaign_id}/dashboard",
        f"/c/{api.campaign_id}/report",
        f"/c/{api.campaign_id}/console",
        f"/c/{api.campaign_id}/audit?contestant={cid}",
    ):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text)
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "<script>" not in page.text  # no inline script: the policy would refuse it


def test_staff_pages_send_strangers_to_sign_in_and_refuse_in_chinese(api: Api) -> None:
    client = api.client
    page = client.get(f"/c/{api.campaign_id}/dashboard", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"].startswith("/signin?next=/c/")
    _sign_in(client, api.tokens["auditor"])
    report = client.get(f"/c/{api.campaign_id}/report")
    assert report.status_code == 200  # auditors read reports too
    _sign_in(client, api.tokens["leader"])
    assert "无法显示此页面" not in client.get(f"/c/{api.campaign_id}/report").text
    unknown = client.get("/c/00000000-0000-0000-0000-000000000000/report")
    assert unknown.status_code == 404
    assert "无法显示此页面" in unknown.text
    for page_name in ("report", "dashboard", "console", "audit", "register"):  # a mistyped address
        mistyped = client.get(f"/c/not-a-campaign/{page_name}")
        assert mistyped.status_code == 404, page_name
        assert "无法显示此页面" in mistyped.text, page_name


def test_the_daily_report_shows_the_views_numbers(api: Api) -> None:
    for n in range(1, 4):
        api.recommend(n)
    first = api.recommend(4, group="veteran")
    api.step(first, "verify", REVIEWING)
    head = api.client.get("/readyz").json()["last_notification_id"]
    funnel = api.client.get(
        f"/api/campaigns/{api.campaign_id}/funnel", params={"min_position": head}, headers=api.as_("leader")
    ).json()
    _sign_in(api.client, api.tokens["leader"])
    page = api.client.get(f"/c/{api.campaign_id}/report").text
    for stage in ("nominated", "verified"):
        total = sum(row["reached"].get(stage, 0) for row in funnel["rows"])
        assert f'data-headline="{stage}">{total}<' in page
    assert re.search(r'data-city="武汉市"><td>武汉市</td><td class="n">3/222</td>', page)


def test_reads_of_personal_data_are_listed_for_auditors_only(api: Api) -> None:
    cid = api.recommend(7)
    assert api.client.get(f"/api/contestants/{cid}/pii", headers=api.as_("city_staff")).status_code == 200
    reads = api.client.get(f"/api/contestants/{cid}/pii-reads", headers=api.as_("auditor"))
    assert reads.status_code == 200
    assert [(r["user"], r["role"]) for r in reads.json()] == [("wuhan-1", "city_staff")]
    assert api.client.get(f"/api/contestants/{cid}/pii-reads", headers=api.as_("leader")).status_code == 403
    assert api.client.get(f"/api/contestants/{cid}/pii-reads", headers=ADMIN_HEADERS).status_code == 200


def test_bearer_clients_are_unaffected_by_page_sessions(api: Api) -> None:
    cid = api.recommend(8)
    api.clock.now = REVIEWING
    answer = api.client.post(f"/api/contestants/{cid}/verify", json={}, headers=bearer(api.tokens["admin"]))
    assert answer.status_code == 200
