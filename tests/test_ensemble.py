"""Ensembles: the mean of the members' probabilities, each member trained as if alone, saved and loaded whole."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
import torch

from lstmlab.cli import main
from lstmlab.data import SequenceData
from lstmlab.models import Ensemble, Sequential, build_model, combine_logits, ensemble_of, preset_config, streaming
from lstmlab.runs.files import load_model, run_config, save_model
from lstmlab.training import TrainConfig, fit, predict

# small text Bi-LSTMs without dropout, so that training draws no random numbers but the batch order
QUIET = {"vocab_size": 30, "embed_dim": 6, "max_len": 7, "units": 4, "dropout": 0.0, "input_dropout": 0.0}


def token_batch(count: int = 24, seed: int = 0) -> SequenceData:
    """Right-padded token ids (padding id 0 past each row's length) with binary labels."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 8, (count,), generator=gen)
    ids = torch.randint(1, 30, (count, 7), generator=gen)
    ids[torch.arange(7) >= lengths[:, None]] = 0
    return SequenceData(ids, torch.randint(0, 2, (count,), generator=gen), lengths)


def members(count: int, **overrides: object) -> list[Sequential]:
    torch.manual_seed(0)
    return [build_model("text-bilstm-pool", **{**QUIET, **overrides}) for _ in range(count)]


def test_combined_logits_give_the_mean_probability_by_hand() -> None:
    # p = 0.5 and 0.75: mean 0.625, logit log(0.625 / 0.375) = log(5 / 3)
    two = torch.tensor([[[0.0]], [[math.log(3.0)]]])  # (K=2, B=1, 1)
    assert combine_logits(two).item() == pytest.approx(math.log(5 / 3), abs=1e-6)
    # p = 1 (to float32) and 0.5: mean 0.75, logit log 3
    assert combine_logits(torch.tensor([[[92.0]], [[0.0]]])).item() == pytest.approx(math.log(3.0), abs=1e-6)
    # confident members stay finite where sigmoid rounds to 1 (a logit of the mean probability would be inf)
    assert combine_logits(torch.tensor([[[200.0]], [[200.0]]])).item() == pytest.approx(200.0)
    assert combine_logits(torch.tensor([[[-200.0]], [[200.0]]])).item() == pytest.approx(0.0, abs=1e-6)
    gen = torch.Generator().manual_seed(1)
    binary, classes = torch.randn(3, 5, 1, generator=gen) * 8, torch.randn(4, 5, 6, 3, generator=gen) * 8
    torch.testing.assert_close(torch.sigmoid(combine_logits(binary)), torch.sigmoid(binary).mean(0))
    torch.testing.assert_close(torch.softmax(combine_logits(classes), -1), torch.softmax(classes, -1).mean(0))


def test_answers_are_the_mean_of_the_members_probabilities_each_text_as_if_alone() -> None:
    pair = Ensemble(members(3))
    data = token_batch()
    alone = torch.stack([predict(m, data) for m in pair.members])  # (K, B, 1)
    torch.testing.assert_close(predict(pair, data), alone.mean(0))
    assert pair.member_logits(data.x, data.lengths).shape == (3, 24, 1)
    pair.eval()
    one_by_one = torch.cat([pair(data.x[i : i + 1], data.lengths[i : i + 1]) for i in range(len(data.x))])
    torch.testing.assert_close(pair(data.x, data.lengths), one_by_one)


def step_batch(count: int = 24, seed: int = 0) -> SequenceData:
    """Right-padded numeric sequences (padding that must never matter) with a label per step."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, 9, (count,), generator=gen)
    x = torch.rand(count, 8, 1, generator=gen)
    x[torch.arange(8) >= lengths[:, None]] = 123.0
    return SequenceData(x, torch.randint(0, 2, (count, 8), generator=gen), lengths)


@pytest.mark.parametrize(("kind", "clip_norm"), [("per text", None), ("per text", 0.05), ("per step, padded", None)])
def test_each_member_trains_as_if_alone(kind: str, clip_norm: float | None) -> None:
    """One optimiser over every member, each member's loss its own: the weights after training equal those of
    each member trained by itself on the same batches (clipping, where it binds, per member; padded steps
    scored in no member's loss)."""
    if kind == "per text":
        built, data = members(2), token_batch()
    else:
        torch.manual_seed(0)
        built, data = [build_model("tutorial-bilstm", units=4, steps=8) for _ in range(2)], step_batch()
    lone = [copy.deepcopy(m) for m in built]
    config = TrainConfig(epochs=3, batch_size=8, learning_rate=3e-3, clip_norm=clip_norm, seed=4)
    history = fit(Ensemble(built), data, config=config)
    for member in lone:
        fit(member, data, config=config)
    for trained, alone in zip(built, lone, strict=True):
        for (name, a), b in zip(trained.state_dict().items(), alone.state_dict().values(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)
    assert len(history.epochs) == 3


def test_an_ensemble_learns_where_its_members_do() -> None:
    torch.manual_seed(0)
    model = ensemble_of(lambda: build_model("text-bilstm-pool", **{**QUIET, "units": 8}), 3)
    data = token_batch(64, seed=2)
    data = SequenceData(data.x, (data.x[:, 0] > 15).long(), data.lengths)  # the first token decides
    history = fit(model, data, config=TrainConfig(epochs=30, batch_size=16, learning_rate=1e-2, seed=0))
    assert history.epochs[-1]["loss"] < 0.3 * history.epochs[0]["loss"]
    assert float((predict(model, data)[:, 0] > 0.5).long().eq(data.y).double().mean()) > 0.95


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    model = Ensemble(members(2))
    description = run_config("text-bilstm-pool", preset_config("text-bilstm-pool", **QUIET), {}, ensemble=2)
    save_model(tmp_path, model, description)
    loaded, saved = load_model(tmp_path)
    assert isinstance(loaded, Ensemble) and loaded.size == 2 and saved["model"]["ensemble"] == 2
    data = token_batch()
    torch.testing.assert_close(predict(loaded, data), predict(model.eval(), data), rtol=0, atol=0)
    assert len(loaded.state_dict()) == 2 * len(loaded.members[0].state_dict())  # each weight once


def test_bad_ensembles_are_refused() -> None:
    with pytest.raises(ValueError, match=r"Expected two or more Sequential models as members. Received: 1"):
        Ensemble(members(1))
    with pytest.raises(ValueError, match=r"Expected members of the same architecture. Received: member 2"):
        Ensemble([*members(1), *members(1, units=5)])
    with pytest.raises(ValueError, match=r"Expected members without a fixed batch size .*batch size 1"):
        Ensemble([build_model("qa-stateful"), build_model("qa-stateful")])
    with pytest.raises(ValueError, match=r"Expected an ensemble size that is a positive integer. Received: 0"):
        ensemble_of(lambda: build_model("qa-lstm"), 0)
    assert not isinstance(ensemble_of(lambda: build_model("qa-lstm"), 1), Ensemble)
    with pytest.raises(ValueError, match=r"Expected one model to stream. Received: an ensemble of 2"):
        streaming(Ensemble([build_model("qa-lstm"), build_model("qa-lstm")]))


def test_summary_shows_one_member_and_the_ensemble_totals() -> None:
    model = Ensemble(members(3))
    text = model.summary(print_fn=None)
    one = model.members[0].count_params()
    assert f"Total params: {one:,}" in text and f"Ensemble total params: {3 * one:,}" in text
    assert model.count_params() == 3 * one


def test_only_small_text_sets_default_to_an_ensemble() -> None:
    from lstmlab.runs.defaults import SMALL_TEXT, SMALL_TEXT_ENSEMBLE, default_ensemble

    assert default_ensemble("text", SMALL_TEXT - 1) == SMALL_TEXT_ENSEMBLE > 1
    assert default_ensemble("text", SMALL_TEXT) == 1
    assert default_ensemble("series", 10) == 1
    assert default_ensemble(None, 10) == 1


def test_the_command_line_trains_small_text_sets_as_an_ensemble(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.txt"
    data.write_text("".join(f"good fine {i}\t1\nbad awful {i}\t0\n" for i in range(20)))
    small = ["--set", "units=4", "--set", "embed_dim=4", "--epochs", "1"]
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(out), *small]) == 0
    assert "trained an ensemble of 5 text-bilstm-pool (--ensemble to change)" in capsys.readouterr().out
    assert json.loads((out / "config.json").read_text())["model"]["ensemble"] == 5
    assert isinstance(load_model(out)[0], Ensemble)
    assert main(["predict", str(out), "--text", "good fine"]) == 0
    assert main(["train", "--data", str(data), "--out", str(out), "--ensemble", "1", *small, "--overwrite"]) == 0
    assert "trained text-bilstm-pool on" in capsys.readouterr().out
    assert not isinstance(load_model(out)[0], Ensemble)
    with pytest.raises(SystemExit, match="2"):  # argparse: usage, then the one-line error
        main(["train", "--data", str(data), "--out", str(tmp_path / "bad"), "--ensemble", "0", *small])
    assert "argument --ensemble: expected a positive integer, received '0'" in capsys.readouterr().err
    assert main(["train", "--model", "qa-stateful", "--ensemble", "2", "--out", str(tmp_path / "bad")]) == 2
    assert "Expected members without a fixed batch size" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()
