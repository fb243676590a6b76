"""The Chinese catalogue covers every refusal the service can give."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import application.errors
import application.recommendation_form
import domain.errors
from api import messages_zh
from api.exports import AUDIT_HEADER, audit_rows
from projections.audit import AUDITED_SUBJECTS, AuditEntry

ROOT = Path(__file__).resolve().parents[2]


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_domain_and_application_rule_has_a_chinese_message() -> None:
    # FormUnreadable lives beside the form reader; importing it registers the class
    assert issubclass(application.recommendation_form.FormUnreadable, application.errors.ApplicationError)
    classes = _subclasses(domain.errors.DomainError) | _subclasses(application.errors.ApplicationError)
    rules = {getattr(cls, "rule", None) for cls in classes} - {None}
    assert rules, "no refusal classes found"
    missing = sorted(str(rule) for rule in rules if rule not in messages_zh.RULES)
    assert missing == []


def test_every_rule_the_http_layer_names_has_a_chinese_message() -> None:
    named: set[str] = set()
    for path in (ROOT / "api").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        named |= set(re.findall(r'ApiProblem\(\s*\d{3},\s*"([a-z_]+)"', text))
        named |= set(re.findall(r'\b\d{3}: "([a-z_]+)"', text))
    assert "unauthenticated" in named
    assert sorted(rule for rule in named if rule not in messages_zh.RULES) == []


def test_a_bad_field_is_explained_by_its_field_and_detail() -> None:
    assert messages_zh.field_message(
        "id_number", "420102********0010: the check character does not match"
    ) == ("身份证号码的校验位不正确，请核对最后一位")
    assert (
        messages_zh.field_message("person.mobile", "not a phone number")
        == "请填写正确的中国大陆手机号码（11位）"
    )
    assert messages_zh.field_message("unit", "too long") == "推荐单位填写有误"


def test_chinese_wanted_before_english_asks_for_chinese() -> None:
    assert messages_zh.wants_chinese("zh-CN,zh;q=0.9")
    assert messages_zh.wants_chinese("zh")
    assert not messages_zh.wants_chinese("en-US,zh;q=0.5")
    assert not messages_zh.wants_chinese(None)


@pytest.mark.parametrize(
    ("header", "chinese"),
    [
        ("zh;q=0", False),
        ("zh-cn;q=0.9, en;q=1", False),
        ("fr, zh;q=0.5", True),
        ("en;q=0.3, zh-CN;q=0.8", True),
        ("zh, en", True),
        ("en, zh", False),
        ("zh;q=abc", False),
        ("*, zh;q=0.1", True),
        ("fr", False),
    ],
)
def test_the_highest_q_of_chinese_and_english_chooses(header: str, chinese: bool) -> None:
    assert messages_zh.wants_chinese(header) is chinese


def test_every_fact_on_the_audit_trail_has_one_chinese_name_for_pages_and_exports() -> None:
    from projections.audit import AUDITED

    assert [kind for kind in AUDITED if kind not in messages_zh.EVENTS] == []


def test_every_subject_the_audit_trail_records_has_one_chinese_title() -> None:
    assert {"Campaign", "Contestant", "CityTeam", "DuplicateRegistration", "User", "PersonalDataLog"} <= set(
        AUDITED_SUBJECTS
    )
    assert sorted(kind for kind in AUDITED_SUBJECTS if not messages_zh.SUBJECTS.get(kind)) == []
    assert messages_zh.catalogue()["subjects"] == messages_zh.SUBJECTS  # the pages read the same words
    page = (ROOT / "api/pages/static/js/audit.js").read_text(encoding="utf-8")
    assert 'label("subjects"' in page
    assert not re.search(r"\bCampaign:\s*\"", page)  # no list of its own beside the catalogue

    column = AUDIT_HEADER.index("对象类型")
    for kind in AUDITED_SUBJECTS:
        entry = AuditEntry(
            notification_id=1,
            at="2021-06-20T07:00:00.000000+00:00",
            event_type="Verified",
            aggregate_type=kind,
            aggregate_id="a",
            version=1,
            campaign_id="c",
            city=None,
            actor_user="admin",
            actor_role="admin",
            actor_city=None,
            reason=None,
            evidence=None,
            rule_version=1,
        )
        [row] = audit_rows([entry], names={}, campaign_name="赛事", named=True)
        assert row[column] == messages_zh.SUBJECTS[kind]
