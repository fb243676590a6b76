"""The cyclic garbage collector held off while a replay builds its objects.

Decoding a campaign's log makes some 300,000 objects that either live on (the kept events) or
die young by reference counting; meanwhile the collector would walk the whole heap several
times (about a sixth of a first as-of read). Nothing is lost by holding it off for the
seconds a replay takes: it runs again as soon as the last replay under way ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Automatic collection off while inside (and while any other thread is inside)."""
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


_frozen = False


def freeze_long_lived() -> None:
    """Once per process, after start-up: what is alive then (the modules, pypinyin's phrase
    dictionary of some 200,000 lists) lives as long as the process, and moving it out of the
    collector's sight saves every later full collection from walking it again (half a second
    each, several per as-of read). Collected first, so no garbage is kept for good."""
    global _frozen
    with _lock:
        if _frozen:
            return
        _frozen = True
    gc.collect()
    gc.freeze()
