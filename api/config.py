"""Settings of the HTTP API only, read from ZHANYOU_* variables like the core settings."""

from __future__ import annotations

import ipaddress

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from application.settings import load_validated


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZHANYOU_", extra="ignore", frozen=True)

    bootstrap_token: SecretStr | None = Field(
        default=None, description="an admin token that needs no user (create the first users with it)"
    )
    registration_rate: int = Field(
        default=10, ge=1, le=10_000, description="self-registrations accepted per client address per minute"
    )
    registration_floor_ms: int = Field(
        default=150, ge=0, le=5000, description="least time a public registration takes to answer (ms)"
    )
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For is believed; empty: none, the connection's peer is the client",
    )
    max_body_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="largest request body accepted (bytes); larger is 413"
    )
    answer_within_seconds: float = Field(
        default=15.0,
        ge=1,
        le=600,
        description="a request whose answer has not begun by then is answered 503 store_unavailable "
        "(a store that stopped answering); a command is told it may have been recorded",
    )
    session_secret: SecretStr | None = Field(
        default=None,
        description="key that signs the pages' session cookies (≥ 32 characters); unset: a random key "
        "per process, so a restart signs everyone out",
    )
    session_hours: int = Field(default=12, ge=1, le=24 * 30, description="how long a page session lasts")
    read_cache_entries: int = Field(
        default=512,
        ge=0,
        le=100_000,
        description="roster and quotas answers kept until their view moves on (0: none kept)",
    )
    lookup_rate: int = Field(
        default=10, ge=1, le=10_000, description="registration status look-ups per client address per minute"
    )

    @field_validator("session_secret")
    @classmethod
    def _secret_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 32:
            raise ValueError("a session secret needs at least 32 characters")
        return value

    @field_validator("bootstrap_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("a bootstrap token needs at least 16 characters")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network (CIDR)") from None
        return ",".join(entries)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [entry for entry in self.trusted_proxies.split(",") if entry]

    @classmethod
    def load(cls, **overrides: object) -> ApiSettings:
        return load_validated(cls, overrides)
