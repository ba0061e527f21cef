"""Fixtures for the CLI tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def cli_env(monkeypatch, tmp_path):
    """A CLI run on the embedded defaults in a fresh folder: no developer .env, the data dir under
    tmp_path, SQLite. Returns monkeypatch, for the settings a test changes."""
    monkeypatch.chdir(tmp_path)  # no developer .env
    monkeypatch.setenv("ERP_COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    return monkeypatch
