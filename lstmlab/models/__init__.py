"""Models: the Sequential container, ensembles of it, the model zoo of named presets, and layouts (any model as
JSON)."""

from .ensemble import Ensemble, combine_logits, ensemble_of, ensemble_size, first_member
from .layout import model_config, model_from_config
from .sequential import Sequential, snake_case
from .streaming import Streamer, streaming
from .zoo import PRESETS, Preset, build_model, get_preset, parse_option, parse_options, preset_config

__all__ = [
    "PRESETS",
    "Ensemble",
    "Preset",
    "Sequential",
    "Streamer",
    "build_model",
    "combine_logits",
    "ensemble_of",
    "ensemble_size",
    "first_member",
    "get_preset",
    "model_config",
    "model_from_config",
    "parse_option",
    "parse_options",
    "preset_config",
    "snake_case",
    "streaming",
]
