"""Who signed a checkpoint, as each reader may see it.

A process names itself ``host:pid`` to the other instances (``scheduler.leader.identity``).
Organisers may see that; every other reader sees an instance name, ``<role>-<8 hex digits>``
(a digest of ``host:pid``), which tells instances apart without naming a host or a process.
Checkpoints are signed with the instance name; those signed before with ``role@host:pid``
keep it inside their signature, so it is masked only where it is shown.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket

#: How checkpoints named their signer before they were signed with an instance name.
_HOST_AND_PID = re.compile(r"(?P<role>[a-z_]+)@(?P<holder>.+:\d+)")


def instance_name(holder: str, role: str = "scheduler") -> str:
    """A stable name for the instance ``holder`` (``host:pid``) that names neither."""
    return f"{role}-" + hashlib.sha256(holder.encode()).hexdigest()[:8]


def signer_name(role: str) -> str:
    """This process's name in the checkpoints it signs: its instance name for ``role``."""
    return instance_name(f"{socket.gethostname()}:{os.getpid()}", role)


def names_a_host(signer: str) -> bool:
    """Whether a signer (of a checkpoint signed before instance names) names a host and a pid."""
    return _HOST_AND_PID.fullmatch(signer) is not None


def shown_signer(signer: str) -> str:
    """A signer as readers other than organisers see it: ``scheduler@vm:7355`` as its instance name,
    the very name ``/schedule`` gives that scheduler; any other signer as it is."""
    found = _HOST_AND_PID.fullmatch(signer)
    return instance_name(found["holder"], found["role"]) if found else signer
