"""One table printer for the bench scripts: Markdown for the README, or aligned plain text."""

from __future__ import annotations


def render(header: list[str], lines: list[list[str]], markdown: bool, left: int = 1) -> str:
    """``lines`` under ``header``; the first ``left`` columns are text (left-aligned), the
    others numbers (right-aligned)."""
    if markdown:
        out = ["| " + " | ".join(header) + " |",
               "|" + "|".join(" --- " if i < left else " ---: " for i in range(len(header))) + "|"]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]

    def fmt(cells):
        return "  ".join(c.ljust(w) if i < left else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=False)))

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, lines)])
