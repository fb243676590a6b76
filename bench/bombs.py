"""Hostile uploads, and what each costs the server.

    .venv/bin/python -m bench.bombs [--only NAME] [--to imports|scores|training-accounts]

Builds each file in memory (``BOMBS``; the tests use the same builders), then, for each
one in a fresh child process, starts the real app on an empty SQLite store, measures the
process's resident memory when idle, uploads the file to ``POST /api/campaigns/{cid}/imports``
(the 附件2 form; or the score sheet or training-account upload) and prints the answer's
status and rule, the time it took and the peak resident memory above idle (``ru_maxrss``:
the whole child's peak).
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import resource
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import Workbook

MB = 1024 * 1024


def _form_xlsx() -> bytes:
    workbook = Workbook()
    sheet: Any = workbook.active
    sheet.append(["序号", "所在市(州)", "姓名", "身份证号", "手机号", "参赛直播平台及账号", "粉丝数量"])
    sheet.append([1, "武汉市", "张三", "420102199001011234", "13812345678", "抖音: zs", "10"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _replace_members(content: bytes, replace: dict[str, bytes], *, drop: tuple[str, ...] = ()) -> bytes:
    """The workbook with some members' bytes replaced (deflated at the highest level)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            data = replace.get(info.filename, source.read(info.filename))
            target.writestr(info.filename, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        for name in replace.keys() - set(source.namelist()):
            target.writestr(name, replace[name], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def _declare_smaller(content: bytes, member: str, declared: int) -> bytes:
    """The zip with ``member``'s uncompressed size in the central directory set to ``declared``."""
    data = bytearray(content)
    name = member.encode()
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = int.from_bytes(data[at + 28 : at + 30], "little")
        if bytes(data[at + 46 : at + 46 + name_length]) == name:
            data[at + 24 : at + 28] = declared.to_bytes(4, "little")
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 4)
    raise LookupError(member)


def dimension_bomb() -> bytes:
    """A 2 KB workbook whose sheet declares A1:XFD1048576 (16,384 columns by 1,048,576 rows)."""
    content = _form_xlsx()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    start = sheet.index(b"<dimension")
    end = sheet.index(b"/>", start) + 2
    sheet = sheet[:start] + b'<dimension ref="A1:XFD1048576"/>' + sheet[end:]
    return _replace_members(content, {"xl/worksheets/sheet1.xml": sheet})


def _huge_sheet(megabytes: int) -> bytes:
    cell = b'<c t="inlineStr"><is><t>x</t></is></c>'
    row = b"<row>" + cell * 2000 + b"</row>"
    rows = row * (megabytes * MB // len(row))
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + rows
        + b"</sheetData></worksheet>"
    )


def zip_bomb() -> bytes:
    """About 300 KB that inflates to about 300 MB of sheet XML, sizes declared honestly."""
    return _replace_members(_form_xlsx(), {"xl/worksheets/sheet1.xml": _huge_sheet(300)})


def cells_bomb() -> bytes:
    """About 190 KB that inflates to 60 MB of sheet XML, under the unpacked cap: 1.6 million cells."""
    return _replace_members(_form_xlsx(), {"xl/worksheets/sheet1.xml": _huge_sheet(60)})


def lying_zip_bomb() -> bytes:
    """The zip bomb with its sheet declared as 1 MB unpacked: it must be cut off there."""
    return _declare_smaller(zip_bomb(), "xl/worksheets/sheet1.xml", MB)


def _shared_strings(megabytes: int) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        b"<si><t>" + b"A" * (megabytes * MB) + b"</t></si></sst>"
    )


def shared_strings_bomb() -> bytes:
    """One shared string of 300 MB (about 300 KB zipped), used by a cell of the form."""
    content = _form_xlsx()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
        types = archive.read("[Content_Types].xml")
    sheet = sheet.replace(b"</sheetData>", b'<row r="3"><c r="C3" t="s"><v>0</v></c></row></sheetData>')
    types = types.replace(
        b"</Types>",
        b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    )
    return _replace_members(
        content,
        {
            "xl/sharedStrings.xml": _shared_strings(300),
            "xl/worksheets/sheet1.xml": sheet,
            "[Content_Types].xml": types,
        },
    )


def lying_shared_strings_bomb() -> bytes:
    return _declare_smaller(shared_strings_bomb(), "xl/sharedStrings.xml", MB)


def truncated_workbook() -> bytes:
    """A workbook cut in half (its zip directory lost)."""
    content = _form_xlsx()
    return content[: len(content) // 2]


def truncated_sheet() -> bytes:
    """A whole zip whose sheet XML stops in the middle of a row."""
    content = _form_xlsx()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    return _replace_members(content, {"xl/worksheets/sheet1.xml": sheet[: sheet.index(b"<row") + 40]})


def no_sheets() -> bytes:
    """A workbook whose workbook.xml lists no sheet."""
    content = _form_xlsx()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        book = archive.read("xl/workbook.xml")
    start, end = book.index(b"<sheets>"), book.index(b"</sheets>") + len(b"</sheets>")
    return _replace_members(content, {"xl/workbook.xml": book[:start] + b"<sheets/>" + book[end:]})


def _with_doctype(doctype: bytes, reference: bytes) -> bytes:
    """The form with ``doctype`` before its sheet's root and ``reference`` as a cell's text."""
    content = _form_xlsx()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml")
    body = sheet.split(b"?>", 1)[1] if sheet.startswith(b"<?xml") else sheet
    body = body.replace("张三".encode(), reference)
    prolog = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return _replace_members(content, {"xl/worksheets/sheet1.xml": prolog + doctype + body})


def entity_bomb() -> bytes:
    """Billion laughs: nine levels of ten references each, a gigabyte from a DTD of a few hundred bytes."""
    levels = [b'<!ENTITY lol0 "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (level, b"&lol%d;" % (level - 1) * 10) for level in range(1, 10)
    ]
    return _with_doctype(b"<!DOCTYPE worksheet [" + b"".join(levels) + b"]>", b"&lol9;")


def external_entity() -> bytes:
    """XXE: an entity naming a file of the server, used as a cell's text."""
    return _with_doctype(b'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>', b"&xxe;")


def encrypted_workbook() -> bytes:
    """The form with every part flagged as encrypted (zipfile asks for a password)."""
    data = bytearray(_form_xlsx())
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        data[at + 8] |= 0x1  # general purpose flag bit 0: encrypted
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def many_sheets(count: int = 500) -> bytes:
    """``count`` sheets, each with one cell in row 20,030: as many rows as a form may have, each."""
    workbook = Workbook()
    for number in range(count):
        sheet: Any = workbook.active if number == 0 else workbook.create_sheet()
        sheet.cell(row=20_030, column=1, value=number)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def commas_csv() -> bytes:
    """9.9 MB of commas: one line of ten million empty fields."""
    return b"," * (99 * MB // 10)


def long_field_csv() -> bytes:
    """A header, then a quoted field of 140,000 characters over many lines."""
    field = ("a" * 999 + "\n") * 140
    return (f'序号,姓名,身份证号,手机号,参赛直播平台及账号\n1,"{field}",x,y,z\n').encode()


#: name -> (builder, file name)
BOMBS: dict[str, tuple[Callable[[], bytes], str]] = {
    "dimension": (dimension_bomb, "bomb.xlsx"),
    "zip": (zip_bomb, "bomb.xlsx"),
    "zip-lying": (lying_zip_bomb, "bomb.xlsx"),
    "cells": (cells_bomb, "bomb.xlsx"),
    "shared-strings": (shared_strings_bomb, "bomb.xlsx"),
    "shared-strings-lying": (lying_shared_strings_bomb, "bomb.xlsx"),
    "truncated-workbook": (truncated_workbook, "bomb.xlsx"),
    "truncated-sheet": (truncated_sheet, "bomb.xlsx"),
    "no-sheets": (no_sheets, "bomb.xlsx"),
    "entities": (entity_bomb, "bomb.xlsx"),
    "external-entity": (external_entity, "bomb.xlsx"),
    "encrypted": (encrypted_workbook, "bomb.xlsx"),
    "many-sheets": (many_sheets, "bomb.xlsx"),
    "commas": (commas_csv, "bomb.csv"),
    "long-field": (long_field_csv, "bomb.csv"),
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


#: Where each upload goes (the path below ``/api/campaigns/{cid}/``) and its form fields.
ENDPOINTS: dict[str, dict[str, str]] = {
    "imports": {"group": "trainee"},
    "scores": {},
    "training-accounts": {},
}


def _measure(name: str, endpoint: str, results: Any) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.config import ApiSettings
    from application.settings import Settings

    build, filename = BOMBS[name]
    content = build()
    token = "bench-bootstrap-token-0123456789"  # noqa: S105 - a throwaway store
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings.load(database_url=f"sqlite:///{Path(scratch) / 'events.db'}", cipher_key=None)
        app = create_app(settings, ApiSettings.load(bootstrap_token=token))
        with TestClient(app, raise_server_exceptions=False) as client:
            headers = {"Authorization": f"Bearer {token}"}
            campaign = client.post(
                "/api/campaigns", json={"name": "bench", "template": "hubei-2021"}, headers=headers
            ).json()["id"]
            idle = _current_rss_mb()
            peak_before = _rss_mb()
            started = time.perf_counter()
            answer = client.post(
                f"/api/campaigns/{campaign}/{endpoint}",
                files={"file": (filename, content)},
                data=ENDPOINTS[endpoint],
                headers=headers,
            )
            elapsed = time.perf_counter() - started
            peak = _rss_mb()
    rule = answer.json().get("rule", "") if answer.status_code >= 400 else ""
    growth = max(0.0, peak - max(idle, peak_before))
    results.put((name, len(content), answer.status_code, rule, elapsed, idle, growth))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=sorted(BOMBS), action="append")
    parser.add_argument("--to", choices=sorted(ENDPOINTS), default="imports", help="the upload endpoint")
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")  # each bomb in a fresh process: its own peak
    print(f"{'bomb':22} {'bytes':>9} status rule              seconds idle_MB peak_above_idle_MB")
    for name in args.only or list(BOMBS):
        results = context.Queue()
        child = context.Process(target=_measure, args=(name, args.to, results))
        child.start()
        child.join(120)
        if child.is_alive():
            child.kill()
            print(f"{name:22} did not answer within 120 s")
            continue
        name, size, status, rule, elapsed, idle, growth = results.get(timeout=5)
        print(f"{name:22} {size:9d} {status:6d} {rule:17} {elapsed:7.3f} {idle:7.1f} {growth:8.1f}")


if __name__ == "__main__":
    main()
