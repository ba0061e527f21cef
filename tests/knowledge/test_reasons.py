"""Skip reasons: a stable code from the registry, the params its English text names, nothing else."""

from __future__ import annotations

import pytest

from knowledge.reasons import REASONS, Reason, template_fields


def test_a_reason_reads_in_english_with_its_note():
    reason = Reason("unsupported_type", {"suffix": ".xyz"})
    assert str(reason) == "unsupported file type .xyz"
    assert str(Reason("empty").with_note("earlier_version_removed")) == (
        "the file is empty; its earlier version was removed from the index"
    )


@pytest.mark.parametrize(
    ("code", "params"),
    [("no_such_reason", {}), ("unsupported_type", {}), ("empty", {"detail": "x"})],
)
def test_an_unknown_code_or_wrong_params_are_refused(code, params):
    with pytest.raises(ValueError):
        Reason(code, params)


def test_notes_take_no_params():
    for note in ("earlier_version_removed", "earlier_version_kept"):
        assert template_fields(REASONS[note]) == frozenset()
