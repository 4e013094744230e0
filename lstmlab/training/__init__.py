"""Training: losses and metrics on logits, the training loop and its callbacks, mixed precision and data-parallel
training. Knows no model types or files.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .callbacks import Callback, EarlyStopping, ModelCheckpoint
    from .config import PRECISIONS, Precision, Schedule, TrainConfig
    from .distributed import World, joined, launched_size, world
    from .engine import History, Progress, Trainer, evaluate, fit, fused_kernel, predict, predict_classes, train_step
    from .hooks import Answers, BatchModel, PlainModel
    from .metrics import (
        Scores,
        accuracy,
        classes_from_logits,
        classes_from_probabilities,
        loss,
        scores_of,
        valid_targets,
    )
    from .stacked import fit_stacked
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "PRECISIONS",
    "Answers",
    "BatchModel",
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "PlainModel",
    "Precision",
    "Progress",
    "Schedule",
    "Scores",
    "TrainConfig",
    "Trainer",
    "World",
    "accuracy",
    "classes_from_logits",
    "classes_from_probabilities",
    "evaluate",
    "fit",
    "fit_stacked",
    "fused_kernel",
    "joined",
    "launched_size",
    "loss",
    "predict",
    "predict_classes",
    "scores_of",
    "train_step",
    "valid_targets",
    "world",
]
