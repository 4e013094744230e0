"""Models: the Sequential container and the model zoo of named presets."""

from .sequential import Sequential
from .streaming import streaming
from .zoo import PRESETS, Preset, build_model, get_preset, parse_option, parse_options, preset_config

__all__ = [
    "PRESETS",
    "Preset",
    "Sequential",
    "build_model",
    "get_preset",
    "parse_option",
    "parse_options",
    "preset_config",
    "streaming",
]
