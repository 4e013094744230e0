"""Training: losses and metrics on logits (independent of LSTMs)."""

from .metrics import accuracy, loss, predict_classes, valid_targets

__all__ = ["accuracy", "loss", "predict_classes", "valid_targets"]
