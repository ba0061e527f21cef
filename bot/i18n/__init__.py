"""Message catalogs (zh-CN and en). Every string a user sees goes through `t()`.

Catalogs live in `locales/<lang>/<domain>.yaml`; a key is `<domain>.<name>`, so each feature keeps
its own file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
_ROOT = Path(__file__).parent / "locales"


@cache
def catalog(lang: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for path in sorted((_ROOT / lang).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, value in _flatten(data):
            entries[f"{path.stem}.{key}"] = value
    return entries


def _flatten(data: dict, prefix: str = ""):
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, name + ".")
        else:
            yield name, str(value)


def language_of(lang: str | None) -> str:
    if lang and lang.lower().startswith("zh"):
        return "zh-CN"
    if lang and lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANGUAGE


def t(key: str, lang: str | None = None, /, **params: object) -> str:
    """The text for `key` in `lang`, with `{params}` filled in; falls back to English, then the key."""
    lang = language_of(lang)
    text = catalog(lang).get(key) or catalog("en").get(key)
    if text is None:
        raise KeyError(f"no catalog entry {key!r}")
    return text.format(**params) if params else text
