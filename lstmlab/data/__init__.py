"""Data: built-in problems generated from a seed."""

from .cumsum import CumsumBatch, CumsumConfig, make_cumsum
from .tokens import TokenConfig, make_tokens

__all__ = ["CumsumBatch", "CumsumConfig", "TokenConfig", "make_cumsum", "make_tokens"]
