"""Search scope: which part of the knowledge base a search may answer from, as source path prefixes.

A scope is a tuple of folder (or file) paths relative to the knowledge root, such as `("财务", "inventory")`;
the empty tuple means everything. A source is in scope when it is one of the prefixes or lies below one
(`财务/费用报销.md` is under `财务`; `财务2/x.md` is not). A FAQ entry of a FAQ file is under its file
(`faq.yaml#pw` is under `faq.yaml`). Matching ignores case (`Inventory` is `inventory`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

Scope = tuple[str, ...]
_SPLIT = re.compile(r"[,，、;；\s]+")


def normalize_prefix(prefix: str) -> str:
    """`./财务/` -> `财务`; backslashes become slashes; "" when nothing is left."""
    text = unicodedata.normalize("NFC", prefix or "").strip().replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return "/".join(part for part in text.split("/") if part and part != ".")


def parse_scope(text: str | Iterable[str]) -> Scope:
    """A scope from `财务,仓库` (commas, Chinese commas, 、 or spaces) or a list; duplicates dropped, order kept."""
    parts = _SPLIT.split(text) if isinstance(text, str) else list(text)
    out: list[str] = []
    for part in parts:
        prefix = normalize_prefix(part)
        if prefix and prefix.casefold() not in {p.casefold() for p in out}:
            out.append(prefix)
    return tuple(out)


def in_scope(source: str | None, scope: Scope) -> bool:
    """Whether `source` (a path relative to its knowledge root) lies in `scope`; everything does in ()."""
    if not scope:
        return True
    if not source:
        return False
    folded = source.casefold()
    for prefix in scope:
        p = prefix.casefold()
        if folded == p or folded.startswith(p + "/") or folded.startswith(p + "#"):
            return True
    return False
