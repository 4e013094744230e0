"""Models: the Sequential container, ensembles of it, the model zoo of named presets, layouts (any model as JSON),
streaming a model a step at a time, and the demo of a preset's two paths.
"""

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .ensemble import Ensemble, combine_logits, ensemble_of, ensemble_size, first_member
    from .layout import model_config, model_from_config
    from .preset_demo import demo
    from .sequential import Sequential, snake_case
    from .stacked import StackedTutorial
    from .streamer import Streamer, check_streamable, streaming
    from .zoo import (
        PRESETS,
        Config,
        Preset,
        build_model,
        get_preset,
        parse_field,
        parse_option,
        parse_options,
        preset_config,
        replace_fields,
    )
else:
    __getattr__, __dir__ = exports(__name__, __file__)

__all__ = [
    "PRESETS",
    "Config",
    "Ensemble",
    "Preset",
    "Sequential",
    "StackedTutorial",
    "Streamer",
    "build_model",
    "check_streamable",
    "combine_logits",
    "demo",
    "ensemble_of",
    "ensemble_size",
    "first_member",
    "get_preset",
    "model_config",
    "model_from_config",
    "parse_field",
    "parse_option",
    "parse_options",
    "preset_config",
    "replace_fields",
    "snake_case",
    "streaming",
]
