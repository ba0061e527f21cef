"""`.env.example` lists every setting the app reads, and nothing it does not: operators copy it."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from bot.config import Settings

EXAMPLE = Path(__file__).resolve().parents[2] / ".env.example"


def _names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        elif alias:
            names.add(str(alias))
    return names


def test_every_setting_is_in_env_example_with_a_comment():
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    listed = {}
    for i, line in enumerate(lines):
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line)
        if match:
            listed[match.group(1)] = i
    assert set(listed) == _names()
    for name, i in listed.items():
        j = i - 1  # settings grouped under one comment share it
        while j >= 0 and re.match(r"^[A-Z][A-Z0-9_]+=", lines[j]):
            j -= 1
        assert j >= 0 and lines[j].startswith("#"), f"{name} has no comment above it"
