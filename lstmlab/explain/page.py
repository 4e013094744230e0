"""`lstmlab inspect`'s page: one self-contained HTML file (its CSS, JavaScript and data inside; it loads nothing
from the network) that shows an inspection document's tokens coloured by any recorded value or attribution, the
value of each quantity under the pointer, and a steps x units heatmap.

The template is `page.html` beside this module; the document (see `document.py`) goes into its
`<script type="application/json" id="inspection">` element.
"""

from __future__ import annotations

import base64
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write

__all__ = ["LAYERS_ENCODING", "page_html", "write_page"]

PLACEHOLDER = "__DATA__"

# How the page embeds each recorded (n, H) quantity: its float32 values, little-endian, row-major, in base64 (the
# JavaScript reads them into one Float32Array). Measured on the 3000-step, 16-unit, two-direction sample: a 3.2 MB
# page, where the document's 6-decimal JSON lists make 5.5 MB, and lists rounded to 4 or 3 decimals (lossy) 4.3 or
# 3.7 MB. Base64 float32 costs 5.3 bytes a value and keeps the document's 6 decimals (its relative error, 6e-8, is
# below their rounding for values under 1).
LAYERS_ENCODING = "float32-le-base64"


def page_html(document: dict[str, Any]) -> str:
    """The inspection page of `document`, as one HTML text.

    Args:
        document: an inspection document, as `document()` makes it (or as read back from `inspection.json`).

    Shapes:
        each sequence's `layers[layer][direction][quantity]`: (n, H) lists, embedded as one base64 string of
        n * H float32 values (`LAYERS_ENCODING`); everything else is embedded as JSON.

    Returns:
        The page: HTML with its CSS, JavaScript and data inline. Non-finite numbers become null; every `<` of the
        data is written `\\u003c`, so no token (`</script>`, `<!--`) can end the data's script element.

    Example:
        >>> html = page_html({"model": "m", "classes": [], "inputs": "text", "quantities": [], "methods": [],
        ...                   "directions": [], "sequences": []})
        >>> html.startswith("<!doctype html>")
        True
    """
    template = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
    data = json.dumps(_embedded(document), allow_nan=False, separators=(",", ":"), ensure_ascii=False)
    # `<` appears only inside JSON strings, where `\u003c` reads back as `<`.
    return template.replace(PLACEHOLDER, data.replace("<", "\\u003c"), 1)


def write_page(path: Path, document: dict[str, Any]) -> None:
    """Write `document`'s page (`page_html`) to `path`, whole or not at all.

    Args:
        path: the HTML file to write (its folder is made if missing; a file there is replaced).
        document: an inspection document.

    Raises:
        OSError: when the file cannot be written; `path` is then as it was, and no temporary file is left.
    """
    atomic_write(path, page_html(document).encode("utf-8"))


def _embedded(document: dict[str, Any]) -> dict[str, Any]:
    """`document` with each sequence's recorded values packed (`LAYERS_ENCODING`) and non-finite numbers null."""
    embedded: dict[str, Any] = _finite({key: value for key, value in document.items() if key != "sequences"})
    embedded["layers_encoding"] = LAYERS_ENCODING
    embedded["sequences"] = [
        {
            **_finite({key: value for key, value in sequence.items() if key != "layers"}),
            "layers": {
                layer: {
                    direction: {name: _packed(values) for name, values in quantities.items()}
                    for direction, quantities in directions.items()
                }
                for layer, directions in sequence.get("layers", {}).items()
            },
        }
        for sequence in document.get("sequences", [])
    ]
    return embedded


def _packed(values: Any) -> str:
    """(n, H) values as base64 of their little-endian float32 bytes, row-major; None reads as NaN."""
    array = np.asarray(values, dtype=np.float64)
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinity, at any depth, as None (JSON has neither)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value
