"""Unknown names: one-line errors naming the known names and suggesting the closest ones."""

from __future__ import annotations

import pytest

import lstmlab
from lstmlab.models.zoo import PRESETS, parse_option
from lstmlab.names import closest_names, unknown_name

PRESET_NAMES = ["qa-lstm", "text-bilstm", "text-lstm", "tutorial-bilstm", "tutorial-lstm", "tutorial-lstm-backward"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tutorial-bilstn", ["tutorial-bilstm"]),  # one typo: the one name, not its weaker neighbours
        ("Tutorial-BiLSTM", ["tutorial-bilstm"]),  # case is ignored, the known spelling comes back
        ("qa_lstm", ["qa-lstm"]),
        ("textlstm", ["text-lstm"]),
        ("colour", []),  # nothing similar: no suggestion
        ("", []),
    ],
)
def test_closest_names(name: str, expected: list[str]) -> None:
    assert closest_names(name, PRESET_NAMES) == expected


def test_closest_names_keeps_ties_best_first() -> None:
    # 'unit' is as close to 'units' as to 'unite' (ratio 8/9 each): both, in sorted order; 'united' (0.8) is not
    assert closest_names("unit", ["united", "unite", "units", "steps"]) == ["unite", "units"]


def test_unknown_name_message() -> None:
    assert unknown_name("a preset", "tutorial-bilstn", PRESET_NAMES) == (
        f"Expected a preset in {sorted(PRESET_NAMES)}. Received: 'tutorial-bilstn' (did you mean 'tutorial-bilstm'?)"
    )
    assert unknown_name("a preset", "nope", ["b", "a"]) == "Expected a preset in ['a', 'b']. Received: 'nope'"
    assert unknown_name("options of x", ["unit", "colour"], {"units", "steps"}, quote=False) == (
        "Expected options of x in ['steps', 'units']. Received: unit (did you mean 'units'?), colour"
    )
    assert unknown_name("a field", "unit", ["unite", "units"]) == (
        "Expected a field in ['unite', 'units']. Received: 'unit' (did you mean 'unite' or 'units'?)"
    )


def test_zoo_suggests_presets_and_options() -> None:
    with pytest.raises(ValueError, match=r"Received: 'tutorial-bilstn' \(did you mean 'tutorial-bilstm'\?\)$") as error:
        lstmlab.build_model("tutorial-bilstn")
    assert str(error.value) == unknown_name("a preset", "tutorial-bilstn", PRESETS)
    assert "\n" not in str(error.value)
    with pytest.raises(
        ValueError,
        match=r"^Expected options of tutorial-bilstm in \[.*'units'.*\]\. Received: unit \(did you mean 'units'\?\)$",
    ):
        parse_option("tutorial-bilstm", "unit", "5")
    with pytest.raises(ValueError, match=r"Received: merge_mod \(did you mean 'merge_mode'\?\)$"):
        lstmlab.build_model("tutorial-bilstm", merge_mod="sum")
