"""Training: losses and metrics on logits, the fit/evaluate/predict loop, callbacks. Independent of LSTMs."""

from .callbacks import Callback, EarlyStopping, ModelCheckpoint
from .data import OnlineSource, SequenceData
from .engine import History, Scores, TrainConfig, evaluate, fit, predict, predict_classes, set_seed, train_step
from .metrics import accuracy, classes_from_logits, classes_from_probabilities, loss, valid_targets

__all__ = [
    "Callback",
    "EarlyStopping",
    "History",
    "ModelCheckpoint",
    "OnlineSource",
    "Scores",
    "SequenceData",
    "TrainConfig",
    "accuracy",
    "classes_from_logits",
    "classes_from_probabilities",
    "evaluate",
    "fit",
    "loss",
    "predict",
    "predict_classes",
    "set_seed",
    "train_step",
    "valid_targets",
]
