"""A comparison's report.md inside a page: as the comparison wrote it, below its title, with its headings one level
down and its image lines left out (the page shows the figures itself, through `figures.show`)."""

from __future__ import annotations

from pathlib import Path


def report(path: str | Path, *, table_only: bool = False) -> None:
    """Print the report at `path` as Markdown for markdown-exec; `table_only`: its first table alone."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    body = [line for line in lines[1:] if not line.startswith("![")]
    if table_only:
        start = next(i for i, line in enumerate(body) if line.startswith("|"))
        end = next((i for i in range(start, len(body)) if not body[i].startswith("|")), len(body))
        body = body[start:end]
    print("\n".join("#" + line if line.startswith("#") else line for line in body))
