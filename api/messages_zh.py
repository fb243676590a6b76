"""The one catalogue of Chinese messages: problem codes, bad fields, and the labels of the pages.

The API answers with these when a client sends ``Accept-Language: zh``; the pages read the
same catalogue (served to their scripts as JSON), so a refusal reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

from domain.values import CITY_QUOTAS

# rule (the last part of a problem's ``type``) -> what a clerk or a member of the public reads
RULES: dict[str, str] = {
    "age_not_allowed": "年龄不符合该组别的参赛要求",
    "migration_refused": "无法迁移：目标库须为空且已设置密钥",
    "reserved_username": "该用户名为系统保留名称，请换一个",
    "confusable_username": "该用户名与已有用户过于相似，请换一个",
    "already_erased": "该选手的个人信息已删除",
    "retention_refused": "个人信息保留期无法这样设置（已执行删除、到期时间已过或未作改动）",
    "form_too_large": "上传的表格过大，请拆分后再上传",
    "team_incomplete": "参赛队人员不齐（需领队1名、助理1名、主播4至6名），组织方可注明理由后放行",
    "not_ready": "服务暂未就绪，请稍后再试",
    "view_stalled": "统计视图暂停更新，技术人员正在处理",
    "view_building": "统计视图正在按新版本重建，请稍后再试",
    "invalid_value": "填写的内容有误，请按提示修改",
    "reason_required": "此操作需要填写理由",
    "not_permitted": "您的账号无权进行此操作",
    "phase_closed": "该环节当前未开放",
    "invalid_transition": "该选手当前状态下不能进行此操作",
    "group_not_allowed": "该组别不能通过此渠道报名（学员组仅由市州推荐）",
    "quota_full": "该市州该组别的推荐名额已满",
    "group_cap_reached": "该组别的参赛人数已达上限",
    "duplicate_person": "该身份证号已经报名",
    "duplicate_account": "该直播账号已被使用",
    "team_full": "该市州代表队人数已满",
    "team_city_mismatch": "选手不属于该市州代表队",
    "invalid_timeline": "赛程时间设置有误",
    "version_conflict": "记录已被他人修改，请刷新后重试",
    "out_of_order": "决定的时间早于该记录的上一次决定",
    "not_found": "未找到相关记录",
    "campaign_exists": "该赛事已经存在",
    "contended": "系统繁忙，请稍后重试",
    "store_unavailable": "服务暂时不可用，请稍后重试",
    "form_unreadable": "无法读取该推荐表，请使用附件2的格式（.xlsx 或 .csv）",
    "duplicate_user": "该用户名已存在",
    "unauthenticated": "请先登录（令牌无效或缺失）",
    "csrf_failed": "页面已过期，请刷新页面后重试",
    "rate_limited": "操作过于频繁，请一分钟后再试",
    "idempotency_key_reused": "重复的提交标识用于了不同的内容",
    "position_ahead_of_log": "请求的数据位置尚不存在",
    "too_large": "上传的内容过大",
    "malformed_request": "请求格式有误",
    "unsupported_media_type": "提交内容须为不压缩的 UTF-8 编码 JSON（Content-Type: application/json）",
    "method_not_allowed": "不支持该请求方式",
    "internal_error": "服务出现意外错误，已记录，请稍后重试",
    "domain_rule": "该操作不符合赛事规则",
    "application_error": "该操作未能完成",
}

# a 503 store_unavailable's ``outcome`` -> what the person who sent the command reads
STORE_OUTCOMES: dict[str, str] = {
    "not_recorded": "服务暂时不可用，本次提交未被记录，请稍后重新提交",
    "may_be_recorded": (
        "服务暂时不可用，本次提交可能已被记录；请稍后原样重新提交（使用同一提交标识）以确认结果"
    ),
}

# field -> Chinese name, for "<字段>：<问题>" messages
FIELDS: dict[str, str] = {
    "name": "姓名",
    "retention": "个人信息保留期",
    "id_number": "身份证号码",
    "mobile": "手机号码",
    "city": "所在市州",
    "group": "参赛组别",
    "platform": "直播平台",
    "account": "平台账号",
    "followers": "粉丝数",
    "experience": "直播经历",
    "notes": "备注",
    "reason": "理由",
    "evidence": "依据",
    "receipt": "回执码",
    "username": "用户名",
    "role": "角色",
    "file": "推荐表文件",
    "unit": "推荐单位",
    "contact": "联系人",
    "training_account": "培训账号",
    "award": "奖项",
    "scores": "成绩",
    "short_video": "短视频成绩",
    "account_operation": "账号运营成绩",
    "livestream_selling": "直播带货成绩",
    "staff_user": "工作人员账号",
    "contestant": "选手",
    "contestant_id": "选手编号",
    "timeline": "赛程",
    "body": "提交内容",
    "content-type": "内容类型",
    "content-encoding": "内容编码",
    "as_of": "查询时点",
    "from": "起始时间",
    "to": "截止时间",
}

# (field, a piece of the English detail) -> the Chinese explanation; the first match wins
_FIELD_DETAILS: list[tuple[str, str, str]] = [
    # a form's cell holding a formula that no spreadsheet computed (the row is the report's)
    *[
        (field, "holds a formula", f"该单元格是公式（没有计算结果），请直接填写{title}")
        for field, title in (
            ("city", "市州"),
            ("name", "姓名"),
            ("id_number", "身份证号"),
            ("mobile", "手机号码"),
            ("account", "平台账号"),
            ("followers", "粉丝数"),
            ("experience", "直播经验"),
            ("notes", "备注"),
        )
    ],
    ("id_number", "check character", "身份证号码的校验位不正确，请核对最后一位"),
    ("id_number", "18 characters", "身份证号码应为18位"),
    ("id_number", "digits", "身份证号码格式不正确（17位数字加一位数字或X）"),
    ("id_number", "birth date", "身份证号码中的出生日期不正确"),
    ("id_number", "", "身份证号码不正确"),
    ("mobile", "", "请填写正确的中国大陆手机号码（11位）"),
    ("city", "", "请选择附件1所列的17个市州之一"),
    ("group", "", "请选择参赛组别"),
    ("platform", "", "请选择抖音或快手"),
    ("account", "empty", "请填写一个平台账号"),
    ("account", "longer", "平台账号不能超过64个字符"),
    ("account", "", "平台账号不正确"),
    ("name", "invisible", "姓名中含有不可见字符（如零宽空格、填充符），请重新输入"),
    ("name", "letter", "姓名应至少包含一个文字，不能只有空格、符号或填充符"),
    ("name", "", "请填写姓名"),
    ("contact", "invisible", "联系人中含有不可见字符，请重新输入"),
    ("followers", "", "粉丝数应为不小于0的整数"),
    ("receipt", "", "回执码不正确"),
    ("reason", "", "请填写理由"),
    ("contestant", "names no contestant", "该行未填写选手编号或身份证号"),
    ("contestant_id", "", "选手编号格式不正确"),
    ("short_video", "not a score", "短视频成绩应为数字"),
    ("short_video", "", "短视频成绩应在0分到满分之间"),
    ("account_operation", "not a score", "账号运营成绩应为数字"),
    ("account_operation", "", "账号运营成绩应在0分到满分之间"),
    ("livestream_selling", "not a score", "直播带货成绩应为数字"),
    ("livestream_selling", "", "直播带货成绩应在0分到满分之间"),
    ("as_of", "future", "查询时点不能晚于现在"),
    ("as_of", "before the campaign", "查询时点早于赛事启动"),
    ("from", "future", "起始时间不能晚于现在"),
    ("from", "before the campaign", "起始时间早于赛事启动"),
    ("to", "future", "截止时间不能晚于现在"),
    ("to", "before the campaign", "截止时间早于赛事启动"),
    ("to", "ends before it starts", "截止时间早于起始时间"),
    ("body", "not utf-8 json", "提交内容须为 UTF-8 编码的 JSON（不能是 GBK 等其他编码）"),
    ("body", "nested too deeply", "提交内容嵌套层数过多"),
    ("body", "not valid json", "提交内容不是有效的 JSON"),
    ("body", "request body exceeds", "提交内容过大，超过了大小上限"),
    ("content-type", "charset", "提交内容须为 UTF-8 编码（charset=utf-8），不能是 GBK 等其他编码"),
    ("content-type", "", "提交内容须为 JSON（Content-Type: application/json）"),
    ("content-encoding", "", "提交内容不能压缩（不支持 Content-Encoding），请直接提交 JSON"),
]


def rule_message(rule: str) -> str:
    return RULES.get(rule, RULES["domain_rule"])


def field_message(field: str, detail: str) -> str:
    """A bad field's explanation in Chinese, chosen by the field and its English detail."""
    leaf = field.rsplit(".", 1)[-1]
    lowered = detail.lower()
    for name, piece, message in _FIELD_DETAILS:
        if name == leaf and piece in lowered:
            return message
    return f"{FIELDS.get(leaf, leaf)}填写有误"


def _quality(parameters: list[str]) -> float:
    """An Accept-Language entry's ``q`` (1 when not given; 0, not acceptable, when unreadable)."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return q if 0.0 <= q <= 1.0 else 0.0
    return 1.0


def wants_chinese(accept_language: str | None) -> bool:
    """Whether, of the languages answered in (zh, en), the client's most wanted is Chinese:
    ``zh`` (zh-CN, zh-Hans, ...) with a higher ``q`` than any ``en``, or listed first at the same
    ``q``; ``q=0`` is not acceptable. Other languages (and ``*``) leave English."""
    if not accept_language:
        return False
    best: tuple[float, str] = (0.0, "en")
    for entry in accept_language.split(","):
        tag, *parameters = entry.split(";")
        language = tag.strip().lower().split("-", 1)[0]
        if language not in ("zh", "en"):
            continue
        q = _quality(parameters)
        if q > best[0]:
            best = (q, language)
    return best[1] == "zh"


def localised(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body in Chinese: the title and detail from the catalogue, each bad field explained.

    ``rule`` and ``type`` stay as they are, so clients keep matching on them.
    """
    out = dict(body)
    rule = str(body.get("rule", ""))
    out["title"] = rule_message(rule)
    errors = body.get("errors")
    if errors:
        out["errors"] = [
            {**e, "detail": field_message(str(e.get("field", "")), str(e.get("detail", "")))} for e in errors
        ]
        out["detail"] = "；".join(str(e["detail"]) for e in out["errors"])
    elif rule == "store_unavailable" and str(body.get("outcome")) in STORE_OUTCOMES:
        out["detail"] = STORE_OUTCOMES[str(body["outcome"])]  # whether the command may be on record
    else:
        out["detail"] = rule_message(rule)
    return out


# --- labels of the pages ----------------------------------------------------------

STATUSES = {
    "nominated": "已报名",
    "verified": "已审核",
    "enrolled": "已开通培训账号",
    "trained": "已完成培训",
    "competed": "已参赛",
    "advanced": "入围决赛",
    "awarded": "获奖",
    "rejected": "未通过审核",
    "withdrawn": "已退出",
    "disqualified": "已取消资格",
}
STAGES = {
    "nominated": "报名",
    "verified": "审核通过",
    "trained": "完成培训",
    "competed": "参加比赛",
    "advanced": "入围决赛",
    "awarded": "获奖",
}
GROUPS = {"trainee": "学员组", "veteran": "退役军人组", "family": "军属组"}
PLATFORMS = {"douyin": "抖音", "kuaishou": "快手"}
CHANNELS = {"recommended": "市州推荐", "self": "自主报名"}
#: As the notice names its stages (一 to 七); the channels are its two ways of applying.
PHASES = {
    "publicity": "宣传发动",
    "registration": "组织报名",
    "recommendation": "市州推荐",
    "self_registration": "自主报名",
    "online_training": "线上培训",
    "contest": "选手全员赛",
    "offline_training": "决赛前线下实操培训",
    "finals": "决赛",
    "ceremony": "颁奖晚会及签约仪式",
}
PHASE_STATUSES = {"pending": "未开始", "open": "进行中", "closed": "已结束"}
ROLES = {
    "admin": "组委会管理员",
    "city_staff": "市州工作人员",
    "judge": "评委",
    "auditor": "审计",
    "leader": "领导",
    "public": "公众",
    "scheduler": "定时任务",
}
TEAM_ROLES = {"streamer": "主播", "assistant": "助理"}
SCORES = {"short_video": "短视频", "account_operation": "账号运营", "livestream_selling": "直播带货"}
#: What each recorded fact is called on the pages and in the exports.
EVENTS = {
    "CampaignLaunched": "赛事启动",
    "TimelineAmended": "调整赛程",
    "PhaseOpened": "环节开启",
    "PhaseClosed": "环节结束",
    "Nominated": "报名",
    "Verified": "审核通过",
    "Rejected": "审核不通过",
    "Reconsidered": "重新审核",
    "Renominated": "重新报名",
    "TrainingAccountAssigned": "开通培训账号",
    "Trained": "完成培训",
    "Competed": "录入成绩",
    "Advanced": "入围决赛",
    "Awarded": "获奖",
    "Withdrawn": "退出",
    "Disqualified": "取消资格",
    "LeaderAppointed": "任命领队",
    "FinalsEntered": "报名决赛",
    "TeamAwarded": "团体获奖",
    "RegistrationDuplicated": "重复报名",
    "UserCreated": "创建用户",
    "UserDisabled": "停用用户",
    "UserEnabled": "启用用户",
    "TokenRotated": "更换令牌",
    "PersonalDataRead": "查看个人信息",
    "PersonalDataReadRefused": "查看个人信息（被拒绝）",
    "Erased": "删除个人信息",
    "RetentionSet": "设定个人信息保留期",
    "RetentionCarriedOut": "保留期满删除个人信息",
}
#: What each kind of record on the audit trail is about (its ``aggregate_type``).
SUBJECTS = {
    "Campaign": "赛事",
    "Contestant": "选手",
    "CityTeam": "市州代表队",
    "DuplicateRegistration": "重复报名",
    "User": "用户",
    "PersonalDataLog": "选手个人信息",
}
OUTCOMES = {"created": "已导入", "unchanged": "此前已导入", "refused": "未导入"}
#: A score sheet's rows: each recorded on its own, or refused with its rule.
SHEET_OUTCOMES = {"done": "已录入", "refused": "未录入"}
#: A bulk review's rows: each decided on its own (by its verdict), or refused with its rule.
REVIEW_OUTCOMES = {"verify": "已审核通过", "reject": "已标记不通过", "refused": "未处理"}
#: Where a bulk review's refusal says more than the rule's general message: the queue a
#: clerk ticked may be older than a colleague's decision.
REVIEW_REFUSALS = {"invalid_transition": "该选手已不在待审核状态（可能已由他人审核），请刷新后查看"}


def catalogue() -> dict[str, Any]:
    """Everything the pages' scripts show, in one JSON-able object."""
    return {
        "rules": RULES,
        "store_outcomes": STORE_OUTCOMES,
        "fields": FIELDS,
        "statuses": STATUSES,
        "stages": STAGES,
        "groups": GROUPS,
        "platforms": PLATFORMS,
        "channels": CHANNELS,
        "phases": PHASES,
        "phase_statuses": PHASE_STATUSES,
        "roles": ROLES,
        "team_roles": TEAM_ROLES,
        "scores": SCORES,
        "events": EVENTS,
        "subjects": SUBJECTS,
        "outcomes": OUTCOMES,
        "sheet_outcomes": SHEET_OUTCOMES,
        "review_outcomes": REVIEW_OUTCOMES,
        "review_refusals": REVIEW_REFUSALS,
        "cities": list(CITY_QUOTAS),  # the 17 cities in the order of 附件1
        "field_details": [list(entry) for entry in _FIELD_DETAILS],
    }
