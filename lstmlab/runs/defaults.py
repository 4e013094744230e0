"""lstmlab's defaults, in one place: the model for each kind of data, training settings by task, kind and size of
data and preset, and the ensemble size. The command line's help prints what this module resolves.

A user's choice always wins; where the user leaves a setting open (None), the most specific rule here that applies
sets it: the preset's, then the data's size, then the data's kind or the task.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..training import PRECISIONS, Precision, Schedule, TrainConfig

__all__ = [
    "DATA_PRESETS",
    "DATA_TRAINING",
    "FIXED_SET_TRAINING",
    "PRECISIONS",
    "PRESET_TRAINING",
    "SERIES_REGULARISATION",
    "SMALL_TEXT",
    "SMALL_TEXT_ENSEMBLE",
    "SMALL_TEXT_TRAINING",
    "TASK_PRESET",
    "TASK_TRAINING",
    "TrainChoices",
    "default_ensemble",
    "describe",
    "preset_for",
    "training_config",
]

# The model trained on a built-in task when the user names none
TASK_PRESET = "tutorial-bilstm"
# The model for the user's data, by kind; series: JapaneseVowels 0.993 +- 0.002 (series-bilstm 0.986 +- 0.002),
# benchmarks/accuracy.py
DATA_PRESETS = {"text": "text-bilstm-pool", "series": "series-lstm-fcn"}
# Model options implied for the user's series (standardised, few examples), where the preset has them:
# Gaussian input noise in standard deviations and each LSTM's input dropout (JapaneseVowels: 0.981 -> 0.986)
SERIES_REGULARISATION: dict[str, Any] = {"noise": 0.3, "input_dropout": 0.4}

# Training on the built-in tasks: online, each update on fresh examples
TASK_TRAINING: dict[str, dict[str, Any]] = {
    # the tutorial's 1000 single-sequence updates; 3e-3 (not Keras's 1e-3) reaches >= 0.96 in that budget
    "cumsum": {"updates": 1000, "batch_size": 1, "learning_rate": 3e-3},
    "cumsum-whole": {"updates": 2000, "batch_size": 8, "learning_rate": 3e-3},
    "tokens": {"updates": 600, "batch_size": 32, "learning_rate": 3e-3},
}
# A built-in task on a fixed training set (--train-size): epochs, the last tenth held out, the best epoch kept
FIXED_SET_TRAINING: dict[str, Any] = {"epochs": 10, "validation_split": 0.1}
# Training on the user's data, a fixed training set. Texts: 10 epochs, the last 10 % held out and the epoch with the
# best val_loss kept (sentence polarity, 9,596 training texts: 0.780 +- 0.007; 20 epochs on all of it with a cosine
# decay overfit: 0.753 +- 0.011, benchmarks/results/accuracy-mr-all-e20.csv).
DATA_TRAINING: dict[str, dict[str, Any]] = {
    "text": {"epochs": 10, "batch_size": 32, "learning_rate": 1e-3, "validation_split": 0.1, "schedule": "constant"},
    # series: small training sets (JapaneseVowels: 270), so all of it trains and the last epoch is kept, the step
    # size decaying to 0 (JapaneseVowels with the noise alone: 0.977 -> 0.981; with the dropout too: 0.986)
    "series": {"epochs": 150, "batch_size": 16, "learning_rate": 3e-3, "validation_split": 0.0, "schedule": "cosine"},
}
# Series train for at least this many updates, whatever the epochs say: a few dozen series at batch 16 make 3-5
# updates an epoch, and 100 epochs of series-lstm-fcn left them far from trained (test accuracy, seeds 0 and 1,
# default epochs -> at least 2000 updates: GunPoint, 50 series, 0.567 / 0.493 -> 1.000 / 0.993; ArrowHead, 36 series,
# 0.303 / 0.303 -> 0.869; ItalyPowerDemand, 67 series, 0.963 / 0.952 -> 0.961 / 0.963). Larger sets keep their epochs.
SERIES_MIN_UPDATES = 2000
# Fewer training texts than SMALL_TEXT: a tenth held out is too few to pick an epoch by (80 texts of 800) and costs a
# tenth of the data, so all of it trains for 20 epochs with a cosine decay and the last epoch is kept (UCI sentences,
# 800 training texts, tuning seeds 10-19, amazon / yelp / imdb: 0.825 / 0.774 / 0.744 -> 0.830 / 0.809 / 0.776,
# benchmarks/results/uci-tuning). The threshold lies between the two sizes measured; it was not tuned.
SMALL_TEXT = 2000
SMALL_TEXT_TRAINING: dict[str, Any] = {"epochs": 20, "validation_split": 0.0, "schedule": "cosine"}
# Where a preset trains better with other settings than its data kind's: the convolutional path of series-lstm-fcn
# (BatchNormalization, 300k weights) overshoots at 3e-3 and needs fewer epochs
PRESET_TRAINING: dict[str, dict[str, Any]] = {"series-lstm-fcn": {"epochs": 100, "learning_rate": 1e-3}}
# Members of the default ensemble for fewer training texts than SMALL_TEXT: on a few hundred texts one model's
# answers vary with its initial weights by about as much as lstmlab leads a bag-of-words model; the mean of several
# members' probabilities varies less (UCI sentences, tuning seeds 10-19: see benchmarks/README.md)
SMALL_TEXT_ENSEMBLE = 5


@dataclass(frozen=True)
class TrainChoices:
    """The training settings a user chose; None leaves a setting to lstmlab's default for the run."""

    updates: int | None = None  # online updates, each on fresh examples (built-in tasks)
    epochs: int | None = None  # epochs over a fixed training set
    batch_size: int | None = None  # examples per update
    learning_rate: float | None = None  # Adam's step size
    clip_norm: float | None = None  # clip the gradient norm to this (None: no clipping)
    weight_decay: float | None = None  # decoupled weight decay, AdamW (None: plain Adam)
    schedule: Schedule | None = None  # constant, or cosine decay to 0 at the last update
    precision: Precision | None = None  # the training forward pass under autocast (None: fp32)
    validation_split: float | None = None  # last share of a fixed training set held out to pick the best epoch
    patience: int | None = None  # stop after this many epochs without a better val_loss (None: never)
    ensemble: int | None = None  # members trained side by side

    def __post_init__(self) -> None:
        if self.updates is not None and self.epochs is not None:
            raise ValueError(
                f"Expected updates or epochs, not both. Received: updates={self.updates}, epochs={self.epochs}"
            )
        if self.patience is not None and self.patience < 0:
            raise ValueError(f"Expected patience >= 0. Received: patience={self.patience}")

    def chosen(self) -> dict[str, Any]:
        """The `TrainConfig` fields the user set."""
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None and k in names}


def preset_for(kind: str | None) -> str:
    """The preset trained when the user names none: on a built-in task (`kind` None) or on data of `kind`."""
    return TASK_PRESET if kind is None else DATA_PRESETS[kind]


def _small_text(kind: str, train_size: int) -> bool:
    return kind == "text" and train_size < SMALL_TEXT


def training_config(
    choices: TrainChoices,
    *,
    seed: int,
    preset: str,
    task: str | None = None,
    fixed_set: bool = False,
    kind: str | None = None,
    train_size: int = 0,
) -> TrainConfig:
    """The `TrainConfig` of a run: on a built-in `task` (online, or on a fixed set), or on the user's data of `kind`
    ("text" or "series") with `train_size` training examples; the user's `choices` win."""
    chosen = choices.chosen()
    if task is not None:
        defaults = dict(TASK_TRAINING[task])
        if fixed_set:
            defaults.pop("updates")
            defaults.update(FIXED_SET_TRAINING)
    else:
        assert kind is not None
        small = SMALL_TEXT_TRAINING if _small_text(kind, train_size) else {}
        defaults = {**DATA_TRAINING[kind], **small, **PRESET_TRAINING.get(preset, {})}
        if kind == "series" and train_size > 0:  # at least SERIES_MIN_UPDATES updates (all of the set trains)
            per_epoch = math.ceil(train_size / chosen.get("batch_size", defaults["batch_size"]))
            defaults["epochs"] = max(defaults["epochs"], math.ceil(SERIES_MIN_UPDATES / per_epoch))
    if "epochs" in chosen:
        defaults.pop("updates", None)
    if "updates" in chosen:
        defaults.pop("epochs", None)
    return TrainConfig(**{**defaults, **chosen, "seed": seed})


def default_ensemble(kind: str | None, train_size: int) -> int:
    """Members of the default ensemble: 1 (one model) but for small text sets (`SMALL_TEXT_ENSEMBLE`)."""
    return SMALL_TEXT_ENSEMBLE if kind is not None and _small_text(kind, train_size) else 1


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _by_value(entries: list[tuple[str, Any]], everyone: str) -> str:
    """`name value, ...`, or `everyone value` when all entries share one value."""
    if len({_value(v) for _, v in entries}) == 1:
        return f"{everyone} {_value(entries[0][1])}"
    return ", ".join(f"{name} {_value(v)}" for name, v in entries)


def describe(name: str, *, data: bool = True) -> str:
    """The defaults of training setting `name`, as the command line's help states them: by task, on a fixed set,
    by kind and size of data, by preset (only where a rule sets it)."""
    if name == "ensemble":
        return f"{SMALL_TEXT_ENSEMBLE} for fewer than {SMALL_TEXT} training texts, else 1"
    keras = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    tasks = [(task, table[name]) for task, table in TASK_TRAINING.items() if name in table]
    parts = []
    if tasks:
        parts.append(_by_value(tasks, "tasks"))
    elif name not in ("epochs", "updates"):
        parts.append(f"tasks {_value(keras[name])}")
    if name in FIXED_SET_TRAINING:
        parts.append(f"with --train-size {_value(FIXED_SET_TRAINING[name])}")
    by_data = [(f"{kind}", table.get(name, keras[name])) for kind, table in DATA_TRAINING.items()]
    if name in SMALL_TEXT_TRAINING:
        by_data.insert(1, (f"fewer than {SMALL_TEXT} texts", SMALL_TEXT_TRAINING[name]))
    by_data += [(preset, table[name]) for preset, table in PRESET_TRAINING.items() if name in table]
    if name != "updates" and data:
        parts.append("--data: " + _by_value(by_data, "all"))
        if name == "epochs":
            parts[-1] += f" (series: at least {SERIES_MIN_UPDATES} updates)"
    return "; ".join(parts)
