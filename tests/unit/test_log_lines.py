"""Log lines as an operator reads them: JSON, Beijing time with its offset, no library chatter."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta

SCRIPT = """
import logging
from application.logs import configure_logging
configure_logging()
logging.getLogger("apscheduler.scheduler").info("Looking for jobs to run")
logging.getLogger("transitions.core").info("Executed callback")
logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
logging.getLogger("zhanyou").info("phase opened")
"""


def test_a_line_is_json_in_beijing_time_and_routine_library_lines_are_left_out() -> None:
    ran = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True)

    lines = [json.loads(line) for line in ran.stderr.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("apscheduler.scheduler", "Run time of job was missed"),
        ("zhanyou", "phase opened"),
    ]
    at = datetime.fromisoformat(lines[-1]["time"])
    assert at.utcoffset() == timedelta(hours=8)
