"""A process started without the cipher key (or with another) stops at once and leaves the views alone."""

from __future__ import annotations

import subprocess
from contextlib import closing

import pytest
from eventsourcing.cipher import AESCipher
from pydantic import SecretStr

from application.bootstrap import build_service
from projections import open_views
from projections.runner import ProjectionRunner
from projections.sealing import KeyMismatch
from tests.conftest import StoreFactory
from tests.integration.helpers import launch, recommend
from tests.projections.test_kill import ZHANYOU, worker_env


def test_a_worker_without_the_key_refuses_to_start_and_the_views_stay(new_store: StoreFactory) -> None:
    sealed = new_store(cipher_key=AESCipher.create_key(32))
    with closing(build_service(sealed)) as service:
        campaign = launch(service)
        recommend(service, campaign, 1)
        views = open_views(sealed)
        try:
            ProjectionRunner(service, views.all).catch_up(timeout=30)
        finally:
            views.close()

    other = sealed.model_copy(update={"cipher_key": SecretStr(AESCipher.create_key(32))})
    for env in (worker_env(sealed), worker_env(other) | {"ZHANYOU_CIPHER_KEY": AESCipher.create_key(32)}):
        done = subprocess.run([ZHANYOU, "project"], env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert "cannot be read with this ZHANYOU_CIPHER_KEY" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1

    keyless = sealed.model_copy(update={"cipher_key": None})
    with pytest.raises(KeyMismatch, match="built with a cipher key and this process has none"):
        open_views(keyless)
    views = open_views(sealed)
    try:
        assert views.roster.query(campaign).total == 1
    finally:
        views.close()
