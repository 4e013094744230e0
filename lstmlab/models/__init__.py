"""Models: the Sequential container, ensembles of it, and the model zoo of named presets."""

from .ensemble import Ensemble, combine_logits, ensemble_of, ensemble_size
from .sequential import Sequential
from .streaming import streaming
from .zoo import PRESETS, Preset, build_model, get_preset, parse_option, parse_options, preset_config

__all__ = [
    "PRESETS",
    "Ensemble",
    "Preset",
    "Sequential",
    "build_model",
    "combine_logits",
    "ensemble_of",
    "ensemble_size",
    "get_preset",
    "parse_option",
    "parse_options",
    "preset_config",
    "streaming",
]
