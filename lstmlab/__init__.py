"""lstmlab: LSTM and Bi-LSTM sequence classification on PyTorch, exact on padded batches and fast.

The names below are lstmlab's public API: the layers, models and presets, training, runs saved on disk and used
again, streaming, serving, ONNX export, and a look inside the cell (`inspect`). Each is imported on first use, so
`import lstmlab` costs nothing until a name is read (`lstmlab --version` never imports PyTorch).
"""

from typing import TYPE_CHECKING

from .lazy import exports

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .data import DataSpec, FoundVectors, SequenceData, TextSettings, VectorSettings, read_vectors
    from .explain import inspect
    from .export import export_onnx
    from .layers import (
        LSTM,
        Activation,
        BatchNormalization,
        Bidirectional,
        Conv1D,
        Dense,
        Dropout,
        Embedding,
        Flatten,
        GlobalAveragePooling1D,
        GlobalMaxPooling1D,
        LSTMCell,
        LSTMState,
        Masking,
        Parallel,
        ReverseTime,
        SpatialDropout1D,
        TimeDistributed,
    )
    from .models import PRESETS, Ensemble, Sequential, Streamer, build_model
    from .runs import RunResult, RunSpec, SavedRun, TrainChoices, load_run, resume_run, train_run
    from .serve import Predictor
    from .training import Scores, TrainConfig, evaluate, fit, predict
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "LSTM",
    "PRESETS",
    "Activation",
    "BatchNormalization",
    "Bidirectional",
    "Conv1D",
    "DataSpec",
    "Dense",
    "Dropout",
    "Embedding",
    "Ensemble",
    "Flatten",
    "FoundVectors",
    "GlobalAveragePooling1D",
    "GlobalMaxPooling1D",
    "LSTMCell",
    "LSTMState",
    "Masking",
    "Parallel",
    "Predictor",
    "ReverseTime",
    "RunResult",
    "RunSpec",
    "SavedRun",
    "Scores",
    "SequenceData",
    "Sequential",
    "SpatialDropout1D",
    "Streamer",
    "TextSettings",
    "TimeDistributed",
    "TrainChoices",
    "TrainConfig",
    "VectorSettings",
    "__version__",
    "build_model",
    "evaluate",
    "export_onnx",
    "fit",
    "inspect",
    "load_run",
    "predict",
    "read_vectors",
    "resume_run",
    "train_run",
]
