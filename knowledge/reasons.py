"""Why ingestion skipped a file or folder, or left part of a file out (`Reason`), and why a search answered
or abstained (`Why`): a stable code and plain values.

`REASONS` holds the English text of every code, with `{params}`; `str(reason)` fills it in (logs,
English output). Whoever shows a reason in another language looks it up by its code with the same params
(the CLI: `cli.skip.<code>`, and `cli.why.<code>` for `WHY`); a code it does not know yet is shown in
English. Codes are a contract: rename one only together with its catalog entries.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

REASONS: dict[str, str] = {
    # any file
    "unsupported_type": "unsupported file type {suffix}",
    "save_as_first": "{suffix} files are not read; save it as {target} and ingest again",
    "no_file_type": "unsupported file type (none)",
    "unreadable_file": "cannot read the file: {detail}",
    "empty": "the file is empty",
    "no_text": "no text found in the file",
    "bad_encoding": "not valid UTF-8 or GB18030/GBK text (byte {byte}); save it as UTF-8 and ingest again",
    "unexpected_error": "unexpected error: {error}: {detail}",
    # Markdown
    "malformed_front_matter": "malformed YAML front matter at line {line}: {detail}",
    "malformed_front_matter_no_line": "malformed YAML front matter: {detail}",
    "front_matter_not_mapping": "malformed YAML front matter: expected key: value pairs",
    # PDF, DOCX
    "encrypted_pdf": "the PDF is encrypted; export an unprotected copy",
    "broken_pdf": "broken or unreadable PDF ({error}: {detail})",
    "scanned_pdf": "the PDF has no extractable text (scanned images need OCR first)",
    "broken_docx": "broken or unreadable DOCX ({error}: {detail})",
    "broken_xlsx": "broken or unreadable Excel file ({error}: {detail}); one with a password needs an unprotected copy",
    # FAQ files
    "malformed_csv": "malformed CSV: {detail}",
    "malformed_yaml": "malformed YAML at line {line}: {detail}",
    "malformed_yaml_no_line": "malformed YAML: {detail}",
    "faq_yaml_not_list": "a FAQ YAML file must be a list of entries with question and answer (or faq: [...])",
    "no_faq_entries": "no FAQ entries found",
    "faq_no_question_column": (
        "a FAQ file needs 'question' and 'answer' columns: no question column ({question_names}); "
        "found {found}"
    ),
    "faq_no_answer_column": (
        "a FAQ file needs 'question' and 'answer' columns: no answer column ({answer_names}); found {found}"
    ),
    "faq_no_question_or_answer_column": (
        "a FAQ file needs 'question' and 'answer' columns: no question column ({question_names}) and "
        "no answer column ({answer_names}); found {found}"
    ),
    "no_complete_faq_entries": "no FAQ entries with both a question and an answer",
    # FAQ entries left out of a file that is otherwise indexed
    "faq_entry_no_answer": "entry {entry} ({excerpt}) has no answer; left out",
    "faq_entry_no_question": "entry {entry} ({excerpt}) has no question; left out",
    # folders and paths
    "describes_folder": "describes the folder, not the ERP; not indexed",
    "no_such_path": "no such file or folder",
    "unreadable_folder": "cannot read the folder: {detail}; its files' earlier versions stay in the index",
    # notes added to a skipped file's reason: what happened to the version indexed before
    "earlier_version_removed": "its earlier version was removed from the index",
    "earlier_version_kept": "its earlier version stays in the index until it can be read",
}


def template_fields(template: str) -> frozenset[str]:
    """The `{params}` a template names."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class Reason:
    """Why a file was skipped (or an entry left out): `code` from `REASONS`, the `params` its text names
    (plain strings and numbers), and optionally `note`, the code of what became of its earlier version."""

    code: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    note: str | None = None

    def __post_init__(self) -> None:
        for code, params in ((self.code, self.params), (self.note, {})):
            if code is None:
                continue
            if code not in REASONS:
                raise ValueError(f"unknown reason code {code!r}")
            if set(params) != template_fields(REASONS[code]):
                wanted = ", ".join(sorted(template_fields(REASONS[code]))) or "none"
                given = ", ".join(sorted(params)) or "none"
                raise ValueError(f"reason {code!r} takes params {wanted}, not {given}")

    def with_note(self, note: str) -> Reason:
        return replace(self, note=note)

    def __str__(self) -> str:
        text = REASONS[self.code].format(**self.params)
        return f"{text}; {REASONS[self.note]}" if self.note else text


# Why a search answered or abstained. Its values come formatted ("0.52", "45%"), so every language shows
# the same figures.
WHY: dict[str, str] = {
    "no_question": "empty question",
    "empty_knowledge_base": "the knowledge base is empty",
    "nothing_in_scope": "no indexed page in scope {scope}",
    "nothing_matched": "nothing matched",
    "nothing_matched_in_scope": "nothing matched in scope {scope}",
    "zh_evidence": (
        "evidence {evidence} = term coverage {coverage} + {weight} x similarity of its ERP terms in English"
        " {similarity} (need {need})"
    ),
    "zh_evidence_no_term": (
        "evidence {evidence} = term coverage {coverage} + {weight} x 0 (it names no ERP term the glossary"
        " knows) (need {need})"
    ),
    "lexical_coverage": "the best pages cover {coverage} of the question's terms (need {need})",
    "dense_similarity": "best similarity {similarity} (need {need})",
    "en_evidence": (
        "evidence {evidence} = similarity {similarity} + {weight} x term coverage {coverage} + {title_weight}"
        " x share of the answer's title named {title} (need {need})"
    ),
    "en_evidence_agree": (
        "evidence {evidence} = similarity {similarity} + {weight} x term coverage {coverage} + {title_weight}"
        " x share of the answer's title named {title} + {bonus} (both sides rank this page first) (need {need})"
    ),
}


@dataclass(frozen=True)
class Why:
    """Why a search answered or abstained: `code` from `WHY` and the values its text names."""

    answered: bool
    code: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.code not in WHY:
            raise ValueError(f"unknown search decision code {self.code!r}")
        if set(self.params) != template_fields(WHY[self.code]):
            raise ValueError(
                f"search decision {self.code!r} takes params {sorted(template_fields(WHY[self.code]))}"
            )

    def __str__(self) -> str:
        return ("answered: " if self.answered else "abstained: ") + WHY[self.code].format(**self.params)
