"""The UCI sentence sets shipped inside the package: `uci:NAME` loads them anywhere a text data path is accepted."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from lstmlab.cli import main
from lstmlab.data.bundled import BUNDLED_TEXTS, bundled_path, is_bundled
from lstmlab.data.loaders import load_texts
from lstmlab.data.spec import guess_series_format

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "uci_sentiment"
FILES = {"uci:amazon": "amazon_cells_labelled.txt", "uci:imdb": "imdb_labelled.txt", "uci:yelp": "yelp_labelled.txt"}


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_set_loads_1000_balanced_sentences(name: str) -> None:
    examples = load_texts(Path(name))
    assert len(examples) == 1000
    assert Counter(e.label for e in examples) == {"0": 500, "1": 500}
    assert all(e.text.strip() and "\t" not in e.text for e in examples)
    assert examples[0].where == f"{bundled_path(name)}:1"


def test_imdb_keeps_next_line_characters_inside_sentences() -> None:
    # U+0085 is a line break to str.splitlines; the file splits on \n only, so 1,000 lines stay 1,000 sentences
    examples = load_texts(Path("uci:imdb"))
    assert sum("\u0085" in e.text for e in examples) == 2


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"the shared copy {SHARED} is not on this machine")
@pytest.mark.parametrize("name", sorted(FILES))
def test_bundled_files_equal_the_shared_copy(name: str) -> None:
    shared = SHARED / FILES[name]
    assert bundled_path(name).read_bytes() == shared.read_bytes()
    loaded = [(e.text, e.label) for e in load_texts(Path(name))]
    assert loaded == [(e.text, e.label) for e in load_texts(shared)]


def test_names_and_paths() -> None:
    assert set(BUNDLED_TEXTS) == set(FILES)
    for name, file in FILES.items():
        assert bundled_path(name).name == file
        assert bundled_path(name).is_file()
    assert bundled_path("UCI:Yelp") == bundled_path("uci:yelp")
    assert is_bundled("uci:yelp")
    assert is_bundled("UCI:nope")  # a bundled name, unknown: an error naming the sets, not "file not found"
    assert not is_bundled("data/yelp.txt")
    assert not is_bundled("aeon:JapaneseVowels")
    assert guess_series_format("uci:yelp") is None, "uci:... is text, never a series"


def test_unknown_name_lists_the_sets() -> None:
    known = r"\['uci:amazon', 'uci:imdb', 'uci:yelp'\]"
    with pytest.raises(
        ValueError,
        match=rf"^Expected a bundled text set in {known}\. Received: 'uci:yelpp' \(did you mean 'uci:yelp'\?\)$",
    ):
        bundled_path("uci:yelpp")
    with pytest.raises(ValueError, match=rf"^Expected a bundled text set in {known}\. Received: 'uci:twitter'$"):
        load_texts(Path("uci:twitter"))


def test_train_and_evaluate_on_a_bundled_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing in the working directory: the files come from the package
    out = tmp_path / "run"
    small = ["--set", "units=4", "--set", "embed_dim=4", "--max-len", "20", "--batch-size", "64"]
    argv = ["train", "--data", "uci:amazon", "--epochs", "1", "--ensemble", "1", "--out", str(out), *small]
    assert main(argv) == 0, capsys.readouterr().err
    assert "on uci:amazon" in capsys.readouterr().out
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"]["spec"]["path"] == "uci:amazon"
    assert config["data"]["train_size"] == 900  # 1,000 less a stratified 10 % test split
    assert main(["evaluate", str(out)]) == 0  # the saved run finds its test set by the same name
    assert "accuracy" in capsys.readouterr().out
