"""lstmlab's defaults: the rule that applies resolves each setting, the user's choice wins, and the help says so."""

from __future__ import annotations

import pytest

from lstmlab.runs import defaults
from lstmlab.runs.defaults import TrainChoices, training_config


def test_a_task_trains_online_with_its_own_budget_or_on_a_fixed_set_for_epochs() -> None:
    online = training_config(TrainChoices(), seed=3, preset="qa-lstm", task="cumsum-whole")
    assert (online.updates, online.epochs, online.batch_size, online.learning_rate) == (2000, None, 8, 3e-3)
    assert online.seed == 3
    fixed = training_config(TrainChoices(), seed=0, preset="qa-lstm", task="cumsum-whole", fixed_set=True)
    assert (fixed.updates, fixed.epochs, fixed.validation_split, fixed.batch_size) == (None, 10, 0.1, 8)
    chosen = training_config(TrainChoices(epochs=4, batch_size=2), seed=0, preset="qa-lstm", task="cumsum")
    assert (chosen.updates, chosen.epochs, chosen.batch_size) == (None, 4, 2)  # --epochs replaces the updates


def test_data_defaults_by_kind_then_size_then_preset_and_the_user_wins() -> None:
    def config(kind: str, size: int, preset: str = "p", **chosen: object) -> object:
        return training_config(TrainChoices(**chosen), seed=0, preset=preset, kind=kind, train_size=size)  # type: ignore[arg-type]

    large = config("text", defaults.SMALL_TEXT)
    small = config("text", defaults.SMALL_TEXT - 1)
    assert (large.epochs, large.validation_split, large.schedule) == (10, 0.1, "constant")  # type: ignore[attr-defined]
    assert (small.epochs, small.validation_split, small.schedule) == (20, 0.0, "cosine")  # type: ignore[attr-defined]
    fcn = config("series", 4000, "series-lstm-fcn")  # 250 updates an epoch: the preset's 100 epochs are enough
    assert (fcn.epochs, fcn.learning_rate, fcn.batch_size) == (100, 1e-3, 16)  # type: ignore[attr-defined]
    assert config("series", 10, "series-lstm-fcn", epochs=3).epochs == 3  # type: ignore[attr-defined]
    assert defaults.default_ensemble("text", defaults.SMALL_TEXT - 1) == defaults.SMALL_TEXT_ENSEMBLE
    assert defaults.preset_for(None) == defaults.TASK_PRESET and defaults.preset_for("series") == "series-lstm-fcn"


@pytest.mark.parametrize(
    ("size", "preset", "chosen", "epochs"),
    [
        (50, "series-lstm-fcn", {}, 500),  # GunPoint: 4 updates an epoch, 2000 updates
        (36, "series-lstm-fcn", {}, 667),  # ArrowHead: 3 an epoch
        (270, "series-lstm-fcn", {}, 118),  # JapaneseVowels: 17 an epoch, 100 epochs would make 1700
        (270, "series-bilstm", {}, 150),  # its 150 epochs make 2550: kept
        (50, "series-lstm-fcn", {"batch_size": 50}, 2000),  # one update an epoch
        (50, "series-lstm-fcn", {"epochs": 7}, 7),  # the user's epochs win
    ],
)
def test_series_train_for_at_least_the_minimum_updates(size: int, preset: str, chosen: dict, epochs: int) -> None:
    config = training_config(TrainChoices(**chosen), seed=0, preset=preset, kind="series", train_size=size)
    assert config.epochs == epochs
    assert defaults.SERIES_MIN_UPDATES == 2000


def test_describe_states_every_rule_that_sets_a_value() -> None:
    assert defaults.describe("updates") == "cumsum 1000, cumsum-whole 2000, tokens 600"
    assert defaults.describe("learning_rate") == "tasks 0.003; --data: text 0.001, series 0.003, series-lstm-fcn 0.001"
    assert defaults.describe("epochs") == (
        "with --train-size 10; --data: text 10, fewer than 2000 texts 20, series 150, series-lstm-fcn 100 "
        "(series: at least 2000 updates)"
    )
    assert defaults.describe("clip_norm") == "tasks none; --data: all none"


def test_choices_refuse_both_budgets() -> None:
    with pytest.raises(ValueError, match="Expected updates or epochs, not both. Received: updates=3, epochs=2"):
        TrainChoices(updates=3, epochs=2)
