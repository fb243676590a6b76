"""Typed text: which characters a field may hold, and safe copies of text already stored.

People type names, reasons and notes; some clients (and some attackers) send characters no
person types: NUL, which PostgreSQL text cannot hold; other C0 and C1 control characters,
which spreadsheets refuse; lone UTF-16 surrogates, which cannot be encoded at all; and the
bidirectional overrides that make ``abc`` display as ``cba`` in a reviewer's screen.
These are refused where text enters. Tab and line breaks are allowed only in fields meant
for several lines (experience, notes, reason, evidence).

A one-line field (a name, a handle, a unit, a contact) also refuses what shows nothing or
splits it unseen: format characters (zero-width spaces and joiners, the byte-order mark),
line and paragraph separators, and the fillers that pass for letters (Hangul fillers, the
blank Braille pattern); a joiner inside an emoji sequence, a flag's tags and a non-joiner
between letters of a script that needs it (Persian, Mongolian) are part of what they join.
Typed inside a name the others make ``张\u200b三`` a different name from ``张三`` that looks
the same, one that a search for 张三 misses. A person's name must hold a
letter as well (``person_name_problem``), so a name of fillers or combining marks is refused.

Events recorded before this rule may still hold such characters: ``printable`` gives the
copy that views and exports store and show, so old text never stops them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from domain.errors import InvalidValue

_BIDI = "\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
#: Never allowed: C0 but tab and line breaks, DEL, C1, surrogates, bidirectional overrides.
_ALWAYS = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_SURROGATES}{_BIDI}]")
#: In a one-line field tab and line breaks are refused as well.
_ONE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f{_SURROGATES}{_BIDI}]")
#: What a stored copy may not hold: every character refused at the door (tab and breaks stay).
_UNSTORABLE = _ALWAYS
REPLACEMENT = "\ufffd"
#: Letters, to Unicode, that show nothing: clients use them to pass a "not empty" check.
FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_UNSEEN = {"Cf": "a format character", "Zl": "a line separator", "Zp": "a paragraph separator"}


def text_problem(text: str, *, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be accepted, naming the first bad character; None when it can."""
    found = (_ALWAYS if multiline else _ONE_LINE).search(text)
    if found is not None:
        return _refusal(_kind(ord(found.group())), found.group(), found.start())
    if multiline or text.isascii():  # nothing unseen is ASCII that the pattern let through
        return None
    for at, char in enumerate(text):
        what = "a filler character" if char in FILLERS else _UNSEEN.get(unicodedata.category(char))
        if what is not None and not _joins(text, at):
            return _refusal(f"{what}, invisible in one line of text,", char, at)
    return None


#: Scripts whose words need a zero-width non-joiner or the Mongolian vowel separator inside them;
#: between Han, Latin, Hangul or kana letters the same characters only split a word unseen.
_JOINED_SCRIPTS_NOT = ("CJK", "LATIN", "HANGUL", "HIRAGANA", "KATAKANA", "FULLWIDTH", "HALFWIDTH")


def _joins(text: str, at: int) -> bool:
    """Whether the format character at ``at`` is part of what it sits in, not an unseen split:
    the joiner of an emoji sequence (👩‍💻), the tags of a flag (🏴 + tags), or a non-joiner or
    Mongolian vowel separator between two letters of a script that writes words with them."""
    char = text[at]
    before = text[at - 1] if at > 0 else ""
    after = text[at + 1] if at + 1 < len(text) else ""
    if char == "\u200d":
        return _emoji(before) and _emoji(after)
    if "\U000e0020" <= char <= "\U000e007f":
        return bool(before) and (_emoji(before) or "\U000e0020" <= before <= "\U000e007f")
    if char in "\u200c\u180e":
        return _joined_letter(before) and _joined_letter(after)
    return False


def _emoji(char: str) -> bool:
    """A pictograph, a skin-tone modifier or the emoji presentation selector."""
    return bool(char) and (unicodedata.category(char) in ("So", "Sk") or char == "\ufe0f")


def _joined_letter(char: str) -> bool:
    return (
        bool(char)
        and unicodedata.category(char).startswith("L")
        and not unicodedata.name(char, "").startswith(_JOINED_SCRIPTS_NOT)
    )


def person_name_problem(name: str) -> str | None:
    """Why ``name`` (NFKC-folded, as stored) is not a person's name; None when it is.

    The characters are ``text_problem``'s to refuse; this asks for one visible letter.
    """
    if any(unicodedata.category(char).startswith("L") and char not in FILLERS for char in name):
        return None
    return "a name needs at least one letter; spaces, marks or fillers alone are no name"


def _refusal(what: str, char: str, at: int) -> str:
    return f"contains {what} U+{ord(char):04X} at character {at + 1}; type the text again without it"


def _kind(code: int) -> str:
    if code == 0:
        return "a NUL character"
    if 0xD800 <= code <= 0xDFFF:
        return "a lone surrogate"
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return "a bidirectional override"
    return "a control character"


def check_text(fields: Mapping[str, str | None], *, multiline: frozenset[str] = frozenset()) -> None:
    """Raise ``InvalidValue`` naming every field whose text holds a refused character."""
    problems = {
        name: problem
        for name, value in fields.items()
        if value is not None and (problem := text_problem(value, multiline=name in multiline)) is not None
    }
    if problems:
        raise InvalidValue.many(problems)


def storable(text: str) -> bool:
    """Whether ``text`` may be stored as it is: ``printable`` would leave it unchanged."""
    return _UNSTORABLE.search(text) is None


def printable(text: str) -> str:
    """``text`` with every refused character replaced by U+FFFD: safe to store, show and export."""
    if _UNSTORABLE.search(text) is None:  # the common case costs one scan and no copy
        return text
    return _UNSTORABLE.sub(REPLACEMENT, text)
