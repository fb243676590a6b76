"""One answer names everything wrong with a request: every bad field, a body that is not UTF-8 JSON,
a mistyped page address, a search term too long."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from tests.api.helpers import ADMIN_HEADERS, RECOMMENDING, Api, form

#: The outside test's form: a schema error (followers) beside field rules (city, mobile, account).
BAD_FORM = {
    "group": "family",
    "city": "北京",
    "name": "页面测",
    "id_number": "420200197001051111",
    "mobile": "1370000",
    "platform": "douyin",
    "account": "",
    "followers": None,
}


def nominations(api: Api) -> str:
    return f"/api/campaigns/{api.campaign_id}/contestants"


def fields_of(answer: Any) -> list[str]:
    return [problem["field"] for problem in answer.json()["errors"]]


def test_a_registration_names_its_schema_errors_and_its_field_rules_in_one_answer(api: Api) -> None:
    url = api.open_self_registration()
    answer = api.client.post(url, json=BAD_FORM)
    assert answer.status_code == 422, answer.text
    assert answer.json()["rule"] == "invalid_value"
    assert fields_of(answer) == ["city", "id_number", "mobile", "account", "followers"]  # in the form's order
    details = {p["field"]: p["detail"] for p in answer.json()["errors"]}
    assert details["city"] == "'北京' is not one of the 17 cities of 附件1"
    assert details["account"] == "the account handle is empty"
    assert details["followers"] == "Input should be a valid integer"

    chinese = api.client.post(url, json=BAD_FORM, headers={"Accept-Language": "zh-CN"}).json()
    assert [p["detail"] for p in chinese["errors"]] == [
        "请选择附件1所列的17个市州之一",
        "身份证号码的校验位不正确，请核对最后一位",
        "请填写正确的中国大陆手机号码（11位）",
        "请填写一个平台账号",
        "粉丝数应为不小于0的整数",
    ]


def test_a_staff_nomination_names_every_bad_field_in_one_answer(api: Api) -> None:
    api.clock.now = RECOMMENDING
    body = form(1, city="北京", mobile="1370000", account="", followers=None, unit="x" * 201)
    answer = api.client.post(nominations(api), json=body, headers=ADMIN_HEADERS)
    assert answer.status_code == 422, answer.text
    assert fields_of(answer) == ["city", "mobile", "account", "followers", "unit"]


def test_fields_only_the_domain_refuses_are_listed_in_the_forms_order(api: Api) -> None:
    url = api.open_self_registration()
    answer = api.client.post(url, json=form(3, city="火星", mobile="1", account=""))
    assert answer.status_code == 422, answer.text
    assert fields_of(answer) == ["city", "mobile", "account"]
    assert answer.json()["detail"].index("city") < answer.json()["detail"].index("mobile")
    api.clock.now = RECOMMENDING
    staff = api.client.post(nominations(api), json=form(4, city="火星", mobile="1"), headers=ADMIN_HEADERS)
    assert staff.status_code == 422, staff.text
    assert fields_of(staff) == ["city", "mobile"]


def test_a_refused_platform_still_has_its_handle_checked(api: Api) -> None:
    url = api.open_self_registration()
    answer = api.client.post(url, json={**form(2, group="veteran"), "platform": 7, "account": "a b"})
    assert answer.status_code == 422, answer.text
    assert fields_of(answer) == ["platform", "account"]


def test_a_platform_not_taken_is_named_beside_a_bad_handle(api: Api) -> None:
    """A platform that is text of the wrong value (not a wrong type) is a rule's refusal, named
    with the handle's, and the form's order kept."""
    url = api.open_self_registration()
    answer = api.client.post(url, json={**form(5, group="veteran"), "platform": "weibo", "account": ""})
    assert answer.status_code == 422, answer.text
    assert fields_of(answer) == ["platform", "account"]
    staff = api.client.post(
        f"/api/campaigns/{api.campaign_id}/contestants",
        json={**form(6), "platform": "weibo", "account": ""},
        headers=ADMIN_HEADERS,
    )
    assert staff.status_code == 422, staff.text
    assert fields_of(staff) == ["platform", "account"]


def test_a_body_with_a_utf8_byte_order_mark_is_read(api: Api) -> None:
    url = api.open_self_registration()
    body = b"\xef\xbb\xbf" + json.dumps(form(3, group="veteran"), ensure_ascii=False).encode()
    answer = api.client.post(url, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text


def test_a_gbk_body_is_named_not_utf8_json(api: Api) -> None:
    url = api.open_self_registration()
    body = json.dumps(form(4, group="veteran"), ensure_ascii=False).encode("gbk")
    answer = api.client.post(url, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["rule"] == "invalid_value"
    assert fields_of(answer) == ["body"]
    assert problem["errors"][0]["detail"].startswith("not UTF-8 JSON: the byte 0x")
    chinese = api.client.post(
        url, content=body, headers={"Content-Type": "application/json", "Accept-Language": "zh"}
    ).json()
    assert chinese["errors"][0]["detail"] == "提交内容须为 UTF-8 编码的 JSON（不能是 GBK 等其他编码）"

    declared = api.client.post(url, content=body, headers={"Content-Type": "application/json; charset=GBK"})
    assert declared.status_code == 415, declared.text
    assert declared.json()["errors"] == [
        {
            "field": "content-type",
            "detail": "charset 'GBK' is not taken: "
            "send the body as UTF-8 JSON (Content-Type: application/json)",
        }
    ]


def test_a_compressed_body_is_refused_naming_its_encoding(api: Api) -> None:
    url = api.open_self_registration()
    body = gzip.compress(json.dumps(form(5, group="veteran")).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    answer = api.client.post(url, content=body, headers=headers)
    assert answer.status_code == 415, answer.text
    problem = answer.json()
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert problem["rule"] == "unsupported_media_type"
    assert fields_of(answer) == ["content-encoding"]
    assert "Content-Encoding 'gzip' is not taken" in problem["detail"]
    chinese = api.client.post(url, content=body, headers={**headers, "Accept-Language": "zh"}).json()
    assert chinese["title"] == "提交内容须为不压缩的 UTF-8 编码 JSON（Content-Type: application/json）"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_json_sent_as_another_content_type_is_refused_naming_it(api: Api, content_type: str) -> None:
    url = api.open_self_registration()
    body = json.dumps(form(6, group="veteran")).encode()
    answer = api.client.post(url, content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 415, answer.text
    assert answer.json()["rule"] == "unsupported_media_type"
    assert answer.json()["errors"] == [
        {
            "field": "content-type",
            "detail": f"Content-Type {content_type!r} is not taken: "
            "send the body as UTF-8 JSON (Content-Type: application/json)",
        }
    ]


@pytest.mark.parametrize("tail", ["", "/", "/registr", "/register/extra"])
def test_a_mistyped_page_address_gets_the_chinese_page(api: Api, tail: str) -> None:
    answer = api.client.get(
        f"/c/{api.campaign_id}{tail}", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    )
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("text/html")
    assert "无法显示此页面" in answer.text
    assert "未找到相关记录" in answer.text


def test_api_paths_and_json_clients_still_get_problem_json(api: Api) -> None:
    html = {"Accept": "text/html"}
    for path, headers in ((f"/api/campaigns/{api.campaign_id}/nothing", html), ("/c/x", {})):
        answer = api.client.get(path, headers=headers)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("application/problem+json"), path
        assert answer.json()["rule"] == "not_found"


def test_a_page_refusal_is_problem_json_to_a_client_that_takes_no_html(api: Api) -> None:
    for accept in ("application/json", "application/json, text/html;q=0"):
        answer = api.client.get("/c/nosuch/register", headers={"Accept": accept})
        assert answer.status_code == 404, accept
        assert answer.headers["content-type"].startswith("application/problem+json"), accept
        assert (answer.json()["rule"], answer.json()["instance"]) == ("not_found", "/c/nosuch/register")
    for accept in ("text/html", "*/*", "application/json;q=0.9, text/*"):
        page = api.client.get("/c/nosuch/register", headers={"Accept": accept})
        assert page.status_code == 404, accept
        assert page.headers["content-type"].startswith("text/html"), accept


def test_a_search_term_too_long_is_counted_in_characters(api: Api) -> None:
    answer = api.client.get(
        f"/api/campaigns/{api.campaign_id}/contestants", params={"q": "x" * 65}, headers=ADMIN_HEADERS
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"] == [{"field": "q", "detail": "String should have at most 64 characters"}]


def test_an_optional_text_too_long_is_counted_in_characters(api: Api) -> None:
    api.clock.now = RECOMMENDING
    body = form(7, notes="备" * 2001)
    answer = api.client.post(nominations(api), json=body, headers=ADMIN_HEADERS)
    assert answer.status_code == 422, answer.text
    too_long = "String should have at most 2000 characters"
    assert answer.json()["errors"] == [{"field": "notes", "detail": too_long}]


def test_a_text_too_long_beside_a_domain_refusal_is_still_counted_in_characters(api: Api) -> None:
    api.clock.now = RECOMMENDING
    body = form(8, notes="备" * 2001, mobile="1234")
    answer = api.client.post(nominations(api), json=body, headers=ADMIN_HEADERS)
    assert answer.status_code == 422, answer.text
    said = {e["field"]: e["detail"] for e in answer.json()["errors"]}
    assert said["notes"] == "String should have at most 2000 characters"
    assert "mobile" in said


@pytest.mark.parametrize("charset", ["GBK", "utf-16", "latin-1"])
def test_a_declared_charset_other_than_utf8_is_refused_whatever_the_bytes(api: Api, charset: str) -> None:
    url = api.open_self_registration()
    body = json.dumps(form(9, group="veteran")).encode("ascii")  # the same bytes in every one of them
    answer = api.client.post(
        url, content=body, headers={"Content-Type": f"application/json; charset={charset}"}
    )
    assert answer.status_code == 415, answer.text
    assert answer.json()["errors"] == [
        {
            "field": "content-type",
            "detail": f"charset {charset!r} is not taken: "
            "send the body as UTF-8 JSON (Content-Type: application/json)",
        }
    ]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32", "utf-32-be"])
def test_a_utf16_or_utf32_body_is_named_not_utf8_json(api: Api, encoding: str) -> None:
    url = api.open_self_registration()
    body = json.dumps(form(10, group="veteran"), ensure_ascii=False).encode(encoding)
    answer = api.client.post(url, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert fields_of(answer) == ["body"]
    assert answer.json()["errors"][0]["detail"].startswith("not UTF-8 JSON: the byte 0x")


def test_a_streamed_body_is_checked_as_it_arrives(api: Api) -> None:
    url = api.open_self_registration()
    good = json.dumps(form(11, group="veteran", notes="备注"), ensure_ascii=False).encode()
    split = good.index("备".encode()) + 1  # a character's bytes in two chunks
    chunks = [good[:split], good[split:]]
    answer = api.client.post(url, content=iter(chunks), headers={"Content-Type": "application/json"})
    assert answer.status_code == 202, answer.text

    bad = good[:split] + b"\xff" + good[split + 2 :]
    answer = api.client.post(
        url, content=iter([bad[:split], bad[split:]]), headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    detail = answer.json()["errors"][0]["detail"]
    assert detail.startswith(
        f"not UTF-8 JSON: the byte 0x{good[split - 1]:02x} at offset {split - 1} is not UTF-8"
    )
