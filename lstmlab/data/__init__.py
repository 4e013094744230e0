"""Data: built-in problems generated from a seed."""

from .cumsum import CumsumBatch, CumsumConfig, make_cumsum

__all__ = ["CumsumBatch", "CumsumConfig", "make_cumsum"]
