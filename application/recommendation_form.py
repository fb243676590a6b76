"""Reading the recommendation form of 附件2 as the city bureaus fill it in (.xlsx or .csv).

Bureaus type what they type: headers with or without the notice's parenthesised hints,
"抖音: zhangsan" or "快手号 @li", "50 万" or "1.2w" followers, ID numbers with spaces, the
form's example row left in. Only the file's structure is checked here; each row's values
are validated by the domain when it is nominated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from application.form_files import (
    HEADER_ROWS,
    MAX_ROWS,
    FormTooLarge,
    Formula,
    FormUnreadable,
    cell_text,
    csv_cells,
    xlsx_sheets,
)

__all__ = ["FormTooLarge", "FormUnreadable", "RecommendationForm", "read_form"]


# Column -> words that identify its header cell (the first match wins, in this order).
_COLUMNS: dict[str, tuple[str, ...]] = {
    "serial": ("序号",),
    "city": ("所在市", "市(州)", "市州", "城市"),
    "name": ("姓名",),
    "id_number": ("身份证",),
    "mobile": ("手机", "电话", "联系方式"),
    "account": ("平台", "账号"),
    "followers": ("粉丝",),
    "experience": ("经验", "荣誉", "战绩"),
    "notes": ("备注",),
}
_REQUIRED = ("name", "id_number", "mobile", "account")
_META = {"unit": "推荐单位", "contact": "联系人", "group": "参赛组别"}
_PLATFORM_WORDS = {"抖音": "douyin", "douyin": "douyin", "快手": "kuaishou", "kuaishou": "kuaishou"}


@dataclass(frozen=True)
class FormRow:
    """One person as typed, with the spreadsheet row it came from."""

    line: int
    city: str
    name: str
    id_number: str
    mobile: str
    platform: str
    account: str
    followers: int | None
    experience: str
    notes: str
    problems: dict[str, str] = field(default_factory=dict)  # what could not even be read


@dataclass(frozen=True)
class RecommendationForm:
    unit: str | None
    contact: str | None
    group: str | None
    rows: list[FormRow]


@dataclass(frozen=True)
class FormSheet:
    """One sheet of a workbook (a CSV is one sheet): its form, or why it holds none."""

    name: str
    form: RecommendationForm | None
    problem: str | None = None  # None with no form: the sheet is empty


def read_form(content: bytes, filename: str) -> RecommendationForm:
    """The first form of a .xlsx or .csv file, or FormUnreadable naming why there is none."""
    return next(sheet.form for sheet in read_sheets(content, filename) if sheet.form is not None)


def read_sheets(content: bytes, filename: str) -> list[FormSheet]:
    """Every sheet of the file, each a form or reported as not one (a workbook may hold one
    sheet per group); FormUnreadable when no sheet is a form."""
    suffix = filename.lower().rsplit(".", 1)[-1] if "." in filename else ""
    if suffix == "xlsx":
        sheets = xlsx_sheets(content)
    elif suffix == "csv":
        sheets = [(filename, csv_cells(content))]
    else:
        raise FormUnreadable(f"{filename}: only .xlsx and .csv forms are read")
    found: list[FormSheet] = []
    total_rows = 0
    for name, cells in sheets:
        where = filename if len(sheets) == 1 else f"{filename}, sheet {name!r}"
        if not any(cell_text(cell) for row in cells for cell in row):
            found.append(FormSheet(name, None))
            continue
        try:
            form = _parse(cells, where)
        except FormUnreadable as error:
            found.append(FormSheet(name, None, error.detail))
            continue
        total_rows += len(form.rows)
        if total_rows > MAX_ROWS:
            raise FormUnreadable(f"{filename}: more than {MAX_ROWS} rows; one file holds at most {MAX_ROWS}")
        found.append(FormSheet(name, form))
    if not any(sheet.form for sheet in found):
        problems = [sheet.problem for sheet in found if sheet.problem]
        raise FormUnreadable(problems[0] if problems else f"{filename}: every sheet is empty")
    return found


def _parse(cells: list[list[Any]], filename: str) -> RecommendationForm:
    header_at = next(
        (i for i, row in enumerate(cells[:HEADER_ROWS]) if _header_columns(row).keys() >= set(_REQUIRED)),
        None,
    )
    if header_at is None:
        missing = "、".join(words[0] for key, words in _COLUMNS.items() if key in _REQUIRED)
        raise FormUnreadable(
            f"{filename}: no header row with the columns {missing} (附件2) in the first 30 rows"
        )
    columns = _header_columns(cells[header_at])
    meta = _meta(cells[:header_at])
    body = cells[header_at + 1 :]
    if len(body) > MAX_ROWS:
        raise FormTooLarge(f"{filename}: {len(body)} rows; one form holds at most {MAX_ROWS}")
    rows = [
        _row(header_at + 2 + offset, raw, columns)
        for offset, raw in enumerate(body)
        if _is_person(raw, columns)
    ]
    return RecommendationForm(meta.get("unit"), meta.get("contact"), meta.get("group"), rows)


def _header_columns(row: Sequence[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(row):
        text = cell_text(cell)
        for key, words in _COLUMNS.items():
            if key not in found and any(word in text for word in words):
                found[key] = index
                break
    return found


def _meta(rows: Iterable[Sequence[Any]]) -> dict[str, str]:
    """推荐单位 / 联系人 / 参赛组别: in one cell ("推荐单位: X"), the next cell, or one line."""
    found: dict[str, str] = {}
    for row in rows:
        texts = [cell_text(c) for c in row]
        for index, text in enumerate(texts):
            for key, label in _META.items():
                if label not in text or key in found:
                    continue
                after = re.split(r"[:：]", text.split(label, 1)[1], maxsplit=1)[-1]
                after = re.split("|".join(_META.values()), after)[0].strip(" _:：")
                if not after:
                    after = next((t for t in texts[index + 1 :] if t.strip(" _")), "").strip(" _:：")
                if after and not any(other in after for other in _META.values()):
                    found[key] = after
    return found


def _is_person(raw: Sequence[Any], columns: dict[str, int]) -> bool:
    def value(key: str) -> Any:
        index = columns.get(key)
        return raw[index] if index is not None and index < len(raw) else None

    def cell(key: str) -> str:
        return cell_text(value(key))

    # a formula with no computed value is there, though read as empty: its row is refused naming it
    if not any(cell(key) or isinstance(value(key), Formula) for key in _REQUIRED):
        return False
    return not (cell("serial").startswith("*") or "示例" in cell("serial"))  # the form's example


def _row(line: int, raw: Sequence[Any], columns: dict[str, int]) -> FormRow:
    def cell(key: str) -> Any:
        index = columns.get(key)
        return raw[index] if index is not None and index < len(raw) else None

    problems: dict[str, str] = {}
    id_cell = cell("id_number")
    if isinstance(id_cell, int | float):
        problems["id_number"] = (
            "the spreadsheet stored the ID number as a number, which loses its last digits; "
            "format the column as text and type it again"
        )
    platform, account = split_account(cell_text(cell("account")))
    if not platform:
        problems["platform"] = "name the platform before the account, e.g. 抖音: zhangsan"
    elif any(word in account.lower() for word in _PLATFORM_WORDS):
        problems["account"] = "one account per contestant (只限填一个): the cell names a second platform"
    followers = parse_followers(cell_text(cell("followers")))
    if followers is None:
        problems["followers"] = f"{cell_text(cell('followers'))!r} is not a follower count"
    formulas = {key: value for key in _COLUMNS if isinstance(value := cell(key), Formula)}
    if "account" in formulas:
        problems.pop("platform", None)  # the cell was read as empty: it names no platform either
    problems.update({key: formula.problem for key, formula in formulas.items() if key != "serial"})
    return FormRow(
        line=line,
        city=cell_text(cell("city")),
        name=cell_text(cell("name")),
        id_number=cell_text(id_cell).replace(" ", ""),
        mobile=cell_text(cell("mobile")).replace(" ", "").replace("-", ""),
        platform=platform,
        account=account,
        followers=followers,
        experience=cell_text(cell("experience")),
        notes=cell_text(cell("notes")),
        problems=problems,
    )


def split_account(text: str) -> tuple[str, str]:
    """ "抖音: zhangsan", "快手号 @li", "douyin zhangsan" -> (platform, handle)."""
    for word, platform in _PLATFORM_WORDS.items():
        position = text.lower().find(word)
        if position >= 0:
            handle = text[position + len(word) :]
            handle = re.sub(r"^\s*(号|账号|ID|id)?\s*[:：]?\s*", "", handle).strip()
            return platform, handle
    return "", text


def parse_followers(text: str) -> int | None:
    """ "50 万", "1.2w", "3,000", "3000人", "" / "无" -> a count (blank and 无 are 0)."""
    compact = text.replace(",", "").replace(" ", "").lower().removesuffix("人").removesuffix("个")
    if compact in ("", "无", "0"):
        return 0
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(万|w|千|k)?\+?", compact)
    if match is None:
        return None
    scale = {"万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000}.get(match.group(2) or "", 1)
    return int(float(match.group(1)) * scale)
