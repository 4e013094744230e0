"""`lstmlab tune`: search spaces parsed and refused, the best trial, pruning, workers sharing one study, the best run
repeated by `lstmlab train`, and the command line's refusals."""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lstmlab import PRESETS
from lstmlab.cli import main, make_parser
from lstmlab.cli.train import run_spec
from lstmlab.data.spec import DataSpec, TextSettings
from lstmlab.runs.defaults import TrainChoices
from lstmlab.runs.spec import RunSpec
from lstmlab.tune.command import train_command
from lstmlab.tune.search import TuneRequest, tune
from lstmlab.tune.space import SEARCH_SPACES, Dimension, parse_dimension, search_space

optuna = pytest.importorskip("optuna")

ROOT = Path(__file__).resolve().parents[1]
TINY = TrainChoices(updates=100, batch_size=8)  # one validation report per trial


# --- search spaces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("learning_rate=log:1e-4:1e-2", Dimension("learning_rate", "log", (1e-4, 1e-2))),
        ("units=int:8:64", Dimension("units", "int", (8, 64))),
        ("units=log:8:128", Dimension("units", "log", (8, 128), integer=True)),
        ("batch_size=cat:1,8,32", Dimension("batch_size", "cat", (1, 8, 32))),
        ("merge_mode=cat:concat,sum", Dimension("merge_mode", "cat", ("concat", "sum"))),
        ("schedule=cat:constant,cosine", Dimension("schedule", "cat", ("constant", "cosine"))),
        (" weight_decay = float:0:0.1", Dimension("weight_decay", "float", (0.0, 0.1))),
    ],
)
def test_space_entries_parse_typed_as_their_setting(text: str, expected: Dimension) -> None:
    dimension = parse_dimension(text, "tutorial-bilstm")
    assert dimension == expected
    assert [type(v) for v in dimension.values] == [type(v) for v in expected.values]
    assert parse_dimension(dimension.text, "tutorial-bilstm") == dimension  # the printed form reads back


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour=int:1:3", "Expected a setting to search for tutorial-bilstm in ['batch_size', 'clip_norm'"),
        ("unitz=int:1:3", "Received: unitz (did you mean 'units'?)"),
        ("num_classes=int:2:3", "Received: num_classes"),  # the data sets it
        ("units", "Expected --space NAME=log:LOW:HIGH, NAME=float:LOW:HIGH, NAME=int:LOW:HIGH or NAME=cat:A,B,..."),
        ("units=range:1:3", "Received: 'units=range:1:3'"),
        ("units=int:", "Received: 'units=int:'"),
        ("units=int:8", "Expected --space units=int:LOW:HIGH. Received: 'units=int:8'"),
        ("units=int:8:x", "Expected whole numbers LOW:HIGH for units"),
        ("units=int:64:8", "Expected LOW < HIGH for units"),
        ("units=float:8:64", "Expected units=int:LOW:HIGH or log:LOW:HIGH (units is a whole number)"),
        ("learning_rate=int:1:2", "Expected learning_rate=float:LOW:HIGH or log:LOW:HIGH"),
        ("learning_rate=log:0:1e-2", "Expected 0 < LOW < HIGH for learning_rate"),
        ("learning_rate=float:1e-2:nan", "Expected LOW < HIGH for learning_rate"),
        ("merge_mode=int:1:2", "Expected --space merge_mode=cat:A,B,..."),
        ("merge_mode=cat:concat,avg", "Received: merge_mode='avg'"),
        ("units=cat:8,8", "Expected distinct choices for units"),
    ],
)
def test_bad_space_entries_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^Expected") as error:
        parse_dimension(text, "tutorial-bilstm")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_every_preset_has_a_search_space_that_parses() -> None:
    assert set(SEARCH_SPACES) == set(PRESETS)
    for preset in PRESETS:
        names = [d.name for d in search_space(preset)]
        assert names[0] == "learning_rate" and len(set(names)) == len(names)


def test_fixed_names_leave_the_space_and_overrides_replace_or_add() -> None:
    space = search_space("tutorial-bilstm", ("units=int:4:8", "weight_decay=float:0:0.1"), fixed=("batch_size",))
    assert [d.text for d in space] == [
        "learning_rate=log:0.0001:0.01",
        "units=int:4:8",
        "merge_mode=cat:concat,sum,mul,ave",
        "weight_decay=float:0.0:0.1",
    ]
    with pytest.raises(ValueError, match="Expected each setting either fixed .* Received: units as both"):
        search_space("tutorial-bilstm", ("units=int:4:8",), fixed=("units",))
    with pytest.raises(ValueError, match="Expected each --space name once. Received: units more than once"):
        search_space("tutorial-bilstm", ("units=int:4:8", "units=cat:4,8"))


def test_a_range_the_model_refuses_is_refused_before_any_trial(tmp_path: Path) -> None:
    request = TuneRequest("tutorial-lstm", 2, train=TINY, space=("units=int:0:8",), out=tmp_path / "t")
    with pytest.raises(ValueError, match=r"Expected --space units=int:0:8 within what tutorial-lstm takes. Received"):
        tune(request)
    assert not (tmp_path / "t").exists()


# --- the command that repeats a run


def test_the_train_command_reads_back_as_the_same_run_spec() -> None:
    text = TextSettings(level="char", lower=False, max_words=500, min_count=2, max_len=40, truncating="pre")
    data = DataSpec(
        "reviews.tsv",
        test_path="held.tsv",
        data_format="tsv",
        text_column="sentence",
        label_column="y",
        encoding="latin-1",
        test_fraction=0.25,
        split_seed=7,
        text=text,
    )
    train = TrainChoices(
        epochs=3,
        batch_size=16,
        learning_rate=0.0031622776601683794,
        clip_norm=1.5,
        weight_decay=0.01,
        schedule="cosine",
        validation_split=0.2,
        patience=2,
        ensemble=3,
    )
    options = {"units": 48, "dropout": 0.123456789, "merge_mode": "sum", "mask_zero": False}
    spec = RunSpec(preset="text-bilstm-pool", model_options=options, train=train, seed=11, data=data)
    task = RunSpec(
        task="tokens", preset="qa-embedding-bilstm", task_options={"max_len": 30}, train_size=64, test_size=50, seed=3
    )
    series = RunSpec(preset="series-bilstm", data=DataSpec("walk.npz", standardise=False), seed=-2)
    for wanted in (spec, task, series):
        command = train_command(wanted)
        assert command[:2] == ["lstmlab", "train"]
        args = make_parser().parse_args(command[1:])
        args.argv = command[1:]
        assert run_spec(args) == wanted


# --- studies


def _trials(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    trials: list[optuna.trial.FrozenTrial] = optuna.load_study(study_name=study, storage=storage).get_trials()
    return trials


def test_the_best_trial_is_the_least_validation_loss_and_a_seed_repeats_the_study(tmp_path: Path) -> None:
    requests = [
        TuneRequest("tutorial-lstm:units=8", 4, train=TrainChoices(updates=100), out=tmp_path / name)
        for name in ("a", "b")
    ]
    first, again = tune(requests[0]), tune(requests[1])
    trials = _trials(first.storage, first.study)
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    values = [t.value for t in trials]
    assert first.best_value == min(values) and first.best_number == values.index(min(values))
    assert first.best_settings == trials[first.best_number].params
    assert len({t.params["learning_rate"] for t in trials}) == 4  # the trials drew apart
    assert [(t.params, t.value) for t in _trials(again.storage, again.study)] == [(t.params, t.value) for t in trials]
    with (tmp_path / "a" / "trials.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [float(row["val_loss"]) for row in rows] == pytest.approx(values)
    best = json.loads((tmp_path / "a" / "best.json").read_text())
    assert best["best_trial"] == first.best_number and best["command"] == first.command
    # the test set was never a trial's: the run of the best settings scores it, on 200 fresh examples
    assert first.run.scores is not None and first.run.scores.count == 200 * 10


def test_a_hopeless_learning_rate_is_pruned_at_its_first_report(tmp_path: Path) -> None:
    storage, name = f"sqlite:///{tmp_path / 'study.db'}", "prune"
    study = optuna.create_study(storage=storage, study_name=name)
    for rate in (1e-2, 1e-2, 1e-2, 1e-2, 1e-2, 1e-7):  # the median pruner judges after five finished trials
        study.enqueue_trial({"learning_rate": rate})
    request = TuneRequest(
        "tutorial-lstm:units=10",
        6,
        train=TrainChoices(updates=300, batch_size=8),
        space=("learning_rate=log:1e-8:1e-1",),
        storage=storage,
        study=name,
        out=tmp_path / "out",
    )
    result = tune(request)
    trials = _trials(storage, name)
    assert [t.params["learning_rate"] for t in trials] == [1e-2] * 5 + [1e-7]
    assert [t.state.name for t in trials] == ["COMPLETE"] * 5 + ["PRUNED"]
    assert [len(t.intermediate_values) for t in trials] == [3] * 5 + [1]  # stopped after 100 of its 300 updates
    assert trials[5].intermediate_values[0] > trials[0].intermediate_values[0]
    assert result.states == {"COMPLETE": 5, "PRUNED": 1}
    assert result.best_settings == {"learning_rate": 1e-2}


def test_two_worker_processes_share_one_sqlite_study(tmp_path: Path) -> None:
    request = TuneRequest("tutorial-lstm:units=8", 4, train=TINY, workers=2, out=tmp_path / "t", study="shared")
    result = tune(request)
    trials = _trials(result.storage, "shared")
    assert sorted(t.number for t in trials) == list(range(4))  # none lost, none repeated
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    workers = [t.user_attrs["worker"] for t in trials]
    assert sorted(workers.count(w) for w in set(workers)) == [2, 2]  # two processes, two trials each
    assert os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in workers}
    assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 4  # their samplers drew apart


def test_a_command_started_apart_shares_the_study_with_this_process(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, "-m", "lstmlab", "tune", "tutorial-lstm:units=8", "--trials", "3", "--updates", "100"]
    command += ["--space", "batch_size=cat:8", "--storage", storage, "--study", "s", "--out", str(tmp_path / "one")]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    other = subprocess.Popen(
        [*command, "--verbose"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
        cwd=tmp_path,
    )
    here = TuneRequest(
        "tutorial-lstm:units=8",
        3,
        train=TrainChoices(updates=100),
        space=("batch_size=cat:8",),
        storage=storage,
        study="s",
        out=tmp_path / "two",
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "shared.db").exists() and time.monotonic() < deadline:  # the other command started
        time.sleep(0.1)
    tune(here)
    out, err = other.communicate(timeout=300)
    assert other.returncode == 0, err
    trials = _trials(storage, "s")
    assert sorted(t.number for t in trials) == list(range(6))  # none lost, none repeated
    assert {t.state.name for t in trials} <= {"COMPLETE", "PRUNED"}
    workers = [t.user_attrs["worker"] for t in trials]
    assert sorted(workers.count(w) for w in set(workers)) == [3, 3]
    assert err.count("finished with value") == 3  # --verbose: Optuna's line for each of its trials
    assert "repeat the run: lstmlab train --model tutorial-lstm --task cumsum --set units=8" in out


# --- the best run, repeated


def _write_texts(path: Path, count: int, seed: int) -> None:
    generator = random.Random(seed)
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["sentence", "y"])
        for _ in range(count):
            label = generator.choice(["pos", "neg"])
            cue = {"pos": ["good", "great", "fine"], "neg": ["bad", "awful", "poor"]}[label]
            words = [generator.choice(["the", "a", "film", "plot", "was", "and", "it"]) for _ in range(8)]
            words.insert(generator.randrange(9), generator.choice(cue))
            writer.writerow([" ".join(words), label])


def test_the_best_run_repeated_by_train_gives_the_same_weights_and_scores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_texts(tmp_path / "reviews.csv", 120, seed=0)
    data = DataSpec(str(tmp_path / "reviews.csv"), text_column="sentence", label_column="y", test_fraction=0.2)
    request = TuneRequest(
        "text-bilstm-pool:embed_dim=8",
        3,
        data=data,
        train=TrainChoices(epochs=2, ensemble=1),
        space=("units=cat:4,8", "learning_rate=log:1e-3:3e-2"),
        seed=5,
        out=tmp_path / "tuned",
    )
    result = tune(request)
    assert "--text-column" in result.command and "--test-fraction" in result.command
    assert main([*result.command[1:], "--out", str(tmp_path / "again")]) == 0
    printed = capsys.readouterr().out
    tuned, again = tmp_path / "tuned" / "best", tmp_path / "again"
    weights, repeated = load_file(tuned / "model.safetensors"), load_file(again / "model.safetensors")
    assert weights.keys() == repeated.keys()
    assert all(torch.equal(weights[k], repeated[k]) for k in weights)
    assert json.loads((tuned / "metrics.json").read_text()) == json.loads((again / "metrics.json").read_text())
    assert result.run.scores is not None and f"accuracy {result.run.scores.accuracy:.4f}" in printed


# --- the command line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["tune", "nope", "--trials", "1"], "Expected a preset in ["),
        (["tune", "tutorial-lstm", "--trials", "1", "--space", "colour=int:1:2"], "Received: colour"),
        (["tune", "tutorial-lstm", "--trials", "1", "--space", "units=int:8"], "Expected --space units=int:LOW:HIGH"),
        (["tune", "tutorial-lstm", "--trials", "-1"], "Expected trials >= 0. Received: -1"),
        (["tune", "tutorial-lstm", "--trials", "1", "--data", "x.csv", "--task", "tokens"], "Received: ['--task']"),
        (["tune", "tutorial-lstm", "--trials", "1", "--storage", "nodb://x"], "Expected a database URL Optuna"),
        (["tune", "tutorial-lstm:units=8", "--trials", "1", "--space", "units=int:4:8"], "Received: units as both"),
    ],
)
def test_bad_tune_commands_exit_2_with_one_line(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("lstmlab: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_without_optuna_the_command_names_the_extra(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "optuna", None)  # `import optuna` fails as if it were not installed
    assert main(["tune", "tutorial-lstm", "--trials", "1"]) == 2
    assert capsys.readouterr().err.strip() == (
        'lstmlab: error: Expected Optuna for `lstmlab tune`: pip install -e ".[tune]". Received: no module named optuna'
    )
    assert not (tmp_path / "tune").exists()


def test_a_study_started_for_another_run_or_a_kept_best_run_is_refused(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "t")
    common = ["tune", "tutorial-lstm:units=8", "--trials", "1", "--updates", "100", "--out", out]
    assert main([*common, "--space", "batch_size=cat:8"]) == 0
    assert "finished with value" not in capfd.readouterr().err  # Optuna's per-trial lines only with --verbose
    assert main([*common, "--space", "batch_size=cat:8"]) == 2  # OUT/best holds the first run
    assert "holds files (--overwrite to replace them" in capfd.readouterr().err
    zero = [arg if arg != "1" else "0" for arg in common]  # --trials 0: the study's best run, written again
    assert main([*zero, "--space", "batch_size=cat:8", "--overwrite"]) == 0
    assert "study tutorial-lstm-cumsum in sqlite:///" in capfd.readouterr().out
    assert main([*common, "--space", "batch_size=cat:4", "--overwrite"]) == 2  # another space, the same study
    err = capfd.readouterr().err
    assert "Expected the run and search space study tutorial-lstm-cumsum was started with" in err
    assert len(err.strip().splitlines()) == 1
