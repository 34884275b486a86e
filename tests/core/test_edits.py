"""``rewriter.core.edits``: edits, fixes, applicability and ``apply_fixes``."""

from __future__ import annotations

import pytest

from rewriter.core.edits import Applicability, Edit, Fix, apply_fixes

TEXT = "0123456789"
SAFE, UNSAFE, DISPLAY = Applicability.SAFE, Applicability.UNSAFE, Applicability.DISPLAY_ONLY


def fix(*edits: Edit, applicability: Applicability = SAFE, title: str = "fix") -> Fix:
    return Fix(title, tuple(edits), applicability)


# --- Edit and Fix ---------------------------------------------------------------


def test_edit_constructors() -> None:
    assert Edit.insert(3, "x") == Edit(3, 3, "x")
    assert Edit.delete(2, 5) == Edit(2, 5, "")
    assert Edit(1, 2) == Edit(1, 2, "")


def test_fix_sorts_its_edits() -> None:
    f = fix(Edit(7, 8, "b"), Edit.insert(0, "a"), Edit(3, 4))
    assert [e.start for e in f.edits] == [0, 3, 7]
    assert f.applicability is SAFE


@pytest.mark.parametrize(
    ("applicability", "threshold", "expected"),
    [
        (SAFE, SAFE, True),
        (SAFE, UNSAFE, True),
        (UNSAFE, SAFE, False),
        (UNSAFE, UNSAFE, True),
        (DISPLAY, SAFE, False),
        (DISPLAY, UNSAFE, False),
    ],
)
def test_fix_applies(applicability: Applicability, threshold: Applicability,
                     expected: bool) -> None:
    assert fix(Edit.insert(0, "x"), applicability=applicability).applies(threshold) is expected


def test_applicability_labels() -> None:
    assert [a.label for a in Applicability] == ["display-only", "unsafe", "safe"]
    assert DISPLAY < UNSAFE < SAFE


# --- apply_fixes ----------------------------------------------------------------


def test_no_fixes() -> None:
    assert apply_fixes(TEXT, []) == (TEXT, [])


def test_insertion_deletion_replacement() -> None:
    ins = fix(Edit.insert(0, "<"), Edit.insert(10, ">"))
    dele = fix(Edit.delete(4, 6))
    rep = fix(Edit(8, 9, "EIGHT"))
    out, applied = apply_fixes(TEXT, [ins, dele, rep])
    assert out == "<012367EIGHT9>"
    assert applied == [ins, dele, rep]


def test_a_fix_edits_apply_together() -> None:
    f = fix(Edit(0, 1, "zero "), Edit.delete(5, 10), Edit.insert(10, "!"))
    assert apply_fixes(TEXT, [f]) == ("zero 1234!", [f])


def test_applied_in_the_order_given_not_by_position() -> None:
    late, early = fix(Edit.insert(9, "b")), fix(Edit.insert(1, "a"))
    out, applied = apply_fixes(TEXT, [late, early])
    assert out == "0a12345678b9"
    assert applied == [late, early]


def test_overlapping_fix_is_skipped() -> None:
    first = fix(Edit(2, 6, "X"))
    second = fix(Edit(5, 8, "Y"))  # overlaps the first: skipped, the next pass retries
    third = fix(Edit(8, 9, "Z"))  # after both: applied
    out, applied = apply_fixes(TEXT, [first, second, third])
    assert out == "01X67Z9"
    assert applied == [first, third]


def test_fix_is_skipped_whole_when_one_of_its_edits_overlaps() -> None:
    taken = fix(Edit(4, 5, "X"))
    both = fix(Edit.insert(0, "never"), Edit(3, 6, "Y"))
    out, applied = apply_fixes(TEXT, [taken, both])
    assert out == "0123X56789" and applied == [taken]


def test_insertion_inside_a_deletion_overlaps() -> None:
    dele = fix(Edit.delete(2, 6))
    inside = fix(Edit.insert(4, "x"))
    assert apply_fixes(TEXT, [dele, inside]) == ("016789", [dele])


def test_touching_edits_both_apply() -> None:
    dele = fix(Edit.delete(2, 5))
    after = fix(Edit.insert(5, "x"))  # at the end of the deletion: no overlap
    rep = fix(Edit(5, 7, "Y"))  # starts where the deletion ends
    out, applied = apply_fixes(TEXT, [dele, rep])
    assert (out, applied) == ("01Y789", [dele, rep])
    out, applied = apply_fixes(TEXT, [dele, after])
    assert (out, applied) == ("01x56789", [dele, after])


def test_insertion_at_the_start_of_a_deletion_is_ambiguous() -> None:
    dele = fix(Edit.delete(2, 5))
    at_start = fix(Edit.insert(2, "x"))
    assert apply_fixes(TEXT, [dele, at_start]) == ("0156789", [dele])


def test_two_insertions_at_one_point_from_two_fixes() -> None:
    a, b = fix(Edit.insert(5, "a")), fix(Edit.insert(5, "b"))
    assert apply_fixes(TEXT, [a, b]) == ("01234a56789", [a])
    assert apply_fixes(TEXT, [b, a]) == ("01234b56789", [b])


def test_the_same_fix_twice_applies_once() -> None:
    f = fix(Edit(1, 2, "x"))
    assert apply_fixes(TEXT, [f, f]) == ("0x23456789", [f])


def test_insertion_then_deletion_at_one_point_in_one_fix() -> None:
    f = fix(Edit.delete(5, 7), Edit.insert(5, "x"))
    assert apply_fixes(TEXT, [f]) == ("01234x789", [f])


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param((Edit(2, 6, "X"), Edit(4, 8, "Y")), id="edits overlap"),
        pytest.param((Edit(2, 6, "X"), Edit(3, 4, "Y")), id="edit inside another"),
        pytest.param((Edit(2, 4, "X"), Edit(2, 4, "X")), id="same edit twice"),
        pytest.param((Edit.delete(2, 5), Edit.delete(2, 5)), id="same deletion twice"),
    ],
)
def test_malformed_fix_is_skipped(edits: tuple[Edit, ...]) -> None:
    bad = fix(*edits)
    good = fix(Edit.insert(9, "!"))
    assert apply_fixes(TEXT, [bad, good]) == ("012345678!9", [good])


def test_empty_fix_is_skipped() -> None:
    empty = fix()
    assert apply_fixes(TEXT, [empty]) == (TEXT, [])


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(Edit(8, 5, "X"), id="start after end"),
        pytest.param(Edit(-1, -1, "X"), id="negative offset"),
        pytest.param(Edit(11, 11, "X"), id="past the end"),
    ],
)
def test_out_of_range_edit_is_skipped(edit: Edit) -> None:
    assert apply_fixes(TEXT, [fix(edit)]) == (TEXT, [])


def test_two_insertions_at_one_point_in_one_fix_keep_their_order_or_are_skipped() -> None:
    f = fix(Edit.insert(5, "b"), Edit.insert(5, "a"))
    assert apply_fixes(TEXT, [f])[0] in ("01234ba56789", TEXT)


# --- applicability threshold ----------------------------------------------------


def test_default_threshold_applies_only_safe() -> None:
    safe = fix(Edit.insert(0, "s"))
    unsafe = fix(Edit.insert(5, "u"), applicability=UNSAFE)
    display = fix(Edit.insert(9, "d"), applicability=DISPLAY)
    assert apply_fixes(TEXT, [safe, unsafe, display]) == ("s0123456789", [safe])
    assert apply_fixes(TEXT, [safe, unsafe, display], SAFE) == ("s0123456789", [safe])


def test_unsafe_threshold_applies_unsafe_but_never_display_only() -> None:
    safe = fix(Edit.insert(0, "s"))
    unsafe = fix(Edit.insert(5, "u"), applicability=UNSAFE)
    display = fix(Edit.insert(9, "d"), applicability=DISPLAY)
    out, applied = apply_fixes(TEXT, [safe, unsafe, display], UNSAFE)
    assert out == "s01234u56789"
    assert applied == [safe, unsafe]


def test_a_skipped_fix_does_not_block_others() -> None:
    """A fix below the threshold takes no room: an overlapping safe fix applies."""
    unsafe = fix(Edit(2, 6, "U"), applicability=UNSAFE)
    display = fix(Edit(2, 6, "D"), applicability=DISPLAY)
    safe = fix(Edit(3, 4, "S"))
    assert apply_fixes(TEXT, [unsafe, display, safe]) == ("012S456789", [safe])


def test_display_only_never_applied_even_at_display_only_threshold() -> None:
    display = fix(Edit.insert(9, "d"), applicability=DISPLAY)
    assert apply_fixes(TEXT, [display], DISPLAY) == (TEXT, [])
