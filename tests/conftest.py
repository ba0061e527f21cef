"""Shared fixtures: real databases (SQLite and PostgreSQL), real settings, the bundled model loaded once."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import Settings
from feedback.db import Database

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

POSTGRES_URL = os.environ.get(
    "ERP_COACH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_pg_state: dict = {}


@pytest.fixture(autouse=True)
def _cli_in_english(monkeypatch):
    """CLI output is asserted in English unless a test asks for the default (zh-CN) by unsetting this."""
    monkeypatch.setenv("CLI_LANGUAGE", "en")


def _postgres_admin():
    """An AUTOCOMMIT engine on the server, or None with the reason when no server answers."""
    if "engine" in _pg_state or "reason" in _pg_state:
        return _pg_state.get("engine")
    try:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        _pg_state["engine"] = engine
    except Exception as exc:  # noqa: BLE001 - any failure means "no PostgreSQL here"
        _pg_state["reason"] = f"no PostgreSQL at {POSTGRES_URL}: {exc.__class__.__name__}: {exc}"
        return None
    return _pg_state["engine"]


def _postgres_template() -> str:
    """A migrated template database, created once; each test clones it (fast file copy)."""
    if "template" not in _pg_state:
        admin = _postgres_admin()
        name = f"erp_coach_tpl_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        db = Database(url)
        db.upgrade()
        db.dispose()
        _pg_state["template"] = name
    return _pg_state["template"]


def _require_postgres() -> None:
    if _postgres_admin() is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests, but {_pg_state['reason']}")
        pytest.skip(_pg_state["reason"])


def _fresh_postgres_database():
    """Clone the migrated template into a new database, yield its URL, drop it afterwards."""
    _require_postgres()
    template = _postgres_template()
    name = f"erp_coach_t_{uuid.uuid4().hex[:12]}"
    admin = _postgres_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A freshly migrated database URL, once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'erp-coach.db'}"
        Database(url).upgrade()
        yield url
        return
    yield from _fresh_postgres_database()


@pytest.fixture
def db(db_url):
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def postgres_url():
    """A fresh, migrated PostgreSQL database (for tests that need two processes on one server)."""
    yield from _fresh_postgres_database()


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings isolated from the developer's .env and environment."""
    return Settings(_env_file=None, ERP_COACH_DATA_DIR=tmp_path / "data")


def pytest_sessionfinish(session, exitstatus):
    admin = _pg_state.get("engine")
    template = _pg_state.get("template")
    if admin is not None and template:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def embedder():
    """The bundled model, loaded once for the whole session (a few seconds)."""
    from knowledge.embedding import Embedder

    return Embedder()


@pytest.fixture
def open_kb(embedder):
    """Open a KnowledgeBase on a data dir for this test (the session's model); closed when the test
    ends, so the suite does not pile up Chroma's open files."""
    from knowledge.base import KnowledgeBase, KnowledgeConfig

    opened = []

    def open_one(data_dir, **config):
        kb = KnowledgeBase(KnowledgeConfig(data_dir=data_dir, **config), embedder)
        opened.append(kb)
        return kb

    yield open_one
    for kb in opened:
        kb.close()
