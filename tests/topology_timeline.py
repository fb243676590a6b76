"""A campaign timeline whose registration and recommendation are open now (real time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def open_timeline() -> dict[str, dict[str, str]]:
    """Registration and recommendation open now; later phases weeks away."""
    now, day = datetime.now(UTC), timedelta(days=1)

    def window(opens: timedelta, closes: timedelta) -> dict[str, str]:
        return {"opens": (now + opens).isoformat(), "closes": (now + closes).isoformat()}

    return {
        "publicity": window(-2 * day, -day),
        "registration": window(-timedelta(hours=1), 10 * day),
        "recommendation": window(-timedelta(hours=1), 10 * day),
        "self_registration": window(-timedelta(hours=1), 10 * day),
        "online_training": window(10 * day, 40 * day),
        "contest": window(25 * day, 40 * day),
        "offline_training": window(41 * day, 42 * day),
        "finals": window(43 * day, 44 * day),
        "ceremony": window(45 * day, 46 * day),
    }
