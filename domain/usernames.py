"""Usernames that cannot be mistaken for another actor: normalised, not reserved, not look-alikes.

An audit trail names its actors by username, so two users must never read alike. Names are
compared in NFKC form, case-folded; a name mixing Latin letters with Cyrillic or Greek ones
is refused, and so is a name whose letters map (through the table of look-alikes below, the
common cross-script homoglyphs of Unicode TR39) onto an existing user's name.
"""

from __future__ import annotations

import re
import unicodedata

from domain.errors import DomainError, InvalidValue

USERNAME = re.compile(r"^[\w.@-]{1,64}$")

#: Names the service itself acts under, or that read as the system (compared case-folded).
RESERVED = frozenset(
    {
        "scheduler",
        "public",
        "bootstrap-admin",
        "bootstrap",
        "admin",
        "administrator",
        "root",
        "system",
        "sys",
        "superuser",
        "su",
        "anonymous",
        "nobody",
        "service",
        "daemon",
        "zhanyou",
        "organiser",
        "organizer",
        "operator",
        "auditor",
        "judge",
        "leader",
        "city_staff",
        "staff",
    }
)

# Cyrillic and Greek letters that look like Latin ones, and digits that look like letters.
_LOOK_ALIKES = str.maketrans(
    {
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "һ": "h",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "ɡ": "g",
        "ӏ": "l",
        "ᴀ": "a",
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "ϲ": "c",
        "ϳ": "j",
        "ω": "w",
        "0": "o",
        "1": "l",
        "|": "l",
        "5": "s",
    }
)
_CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


class ReservedUsername(InvalidValue):
    rule = "reserved_username"


class ConfusableUsername(DomainError):
    """The name reads like an existing user's name."""

    rule = "confusable_username"


def normalise(username: str) -> str:
    """The form a username is stored and compared in (NFKC, outer spaces removed)."""
    return unicodedata.normalize("NFKC", username).strip()


def skeleton(username: str) -> str:
    """What a name looks like: two names with one skeleton are refused as look-alikes."""
    folded = normalise(username).casefold()
    return "".join(ch for ch in folded.translate(_LOOK_ALIKES) if ch not in "._-")


def _scripts(name: str) -> set[str]:
    scripts: set[str] = set()
    for ch in name:
        if ch.isalpha():
            script = unicodedata.name(ch, "UNKNOWN").split(" ")[0]
            scripts.add(script)
    return scripts


def check_username(username: str) -> str:
    """The normalised name, or InvalidValue / ReservedUsername naming the rule."""
    name = normalise(username)
    if not USERNAME.match(name):
        raise InvalidValue("username", "1 to 64 letters, digits or . _ @ -")
    if name.casefold() in RESERVED:
        raise ReservedUsername(
            "username", f"{name!r} is reserved for the service's own actors or reads as one"
        )
    mixed = _scripts(name) & _CONFUSABLE_SCRIPTS
    if len(mixed) > 1:
        raise ReservedUsername(
            "username", f"{name!r} mixes {' and '.join(sorted(mixed)).lower()} letters (a look-alike name)"
        )
    if skeleton(name) in {skeleton(reserved) for reserved in RESERVED}:
        raise ReservedUsername("username", f"{name!r} looks like a reserved name")
    return name
