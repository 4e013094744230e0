"""Figures on the site are made by the build: a block draws them, and a hidden block (`html="1"`, no source)
prints them into the page with `show`, as PNG inside the page itself (nothing fetched from elsewhere)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any


def show(figure: Any, alt: str, caption: str = "") -> None:
    """Print a matplotlib figure, or the path of a PNG a run wrote (`history.png`, a comparison's plots), as an
    HTML figure for markdown-exec to put in the page."""
    if isinstance(figure, str | Path):
        data = Path(figure).read_bytes()
    else:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        data = buffer.getvalue()
        import matplotlib.pyplot as plt

        plt.close(figure)
    source = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    text = f'<figure markdown="0"><img src="{source}" alt="{html.escape(alt)}">'
    if caption:
        text += f"<figcaption>{html.escape(caption)}</figcaption>"
    print(text + "</figure>")
