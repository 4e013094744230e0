"""Training: losses and metrics on logits, the training loop and its callbacks. Knows no model types or files."""

from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .config import TrainConfig
from .engine import History, Progress, Trainer, evaluate, fit, predict, predict_classes, train_step
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

__all__ = [
    "Answers",
    "BatchModel",
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "PlainModel",
    "Progress",
    "Scores",
    "TrainConfig",
    "Trainer",
    "accuracy",
    "classes_from_logits",
    "classes_from_probabilities",
    "evaluate",
    "fit",
    "loss",
    "predict",
    "predict_classes",
    "scores_of",
    "train_step",
    "valid_targets",
]
