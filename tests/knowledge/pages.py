"""Write a small knowledge folder for a test: {relative path: dedented text}."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path


def write_pages(root: Path, pages: Mapping[str, str]) -> Path:
    for rel, body in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    return root
