"""Write a small knowledge folder for a test: {relative path: dedented text}; and files made to be refused."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Mapping
from pathlib import Path


def write_pages(root: Path, pages: Mapping[str, str]) -> Path:
    for rel, body in pages.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(body), encoding="utf-8")
    return root


def encrypted_pdf() -> bytes:
    """A one-page PDF with a password: ingest refuses it (encrypted_pdf)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    writer.encrypt("secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
