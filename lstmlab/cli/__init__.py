"""The command line: one module a group of commands; each handler parses options into settings, calls one library
function and prints what it returns. `lstmlab --help` and `--version` import neither PyTorch nor NumPy.
"""

from .program import main, make_parser

__all__ = ["main", "make_parser"]
