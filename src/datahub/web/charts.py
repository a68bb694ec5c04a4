"""Light, accessible bar charts: inline SVG rendered by the server (no script), each one shown
beside a table of the same numbers, which is what assistive technologies read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from markupsafe import Markup, escape

from datahub.web import fmt

BAR_HEIGHT: Final = 22
GAP: Final = 6
LABEL_WIDTH: Final = 210
BAR_WIDTH: Final = 300
WIDTH: Final = LABEL_WIDTH + BAR_WIDTH + 70


def bar_chart(items: Sequence[tuple[str, int]], title: str) -> Markup:
    """Horizontal bars, longest = largest value; empty markup when there is nothing to draw."""
    if not items:
        return Markup("")
    top = max(value for _label, value in items) or 1
    height = len(items) * (BAR_HEIGHT + GAP) + GAP
    rows = []
    for index, (label, value) in enumerate(items):
        y = GAP + index * (BAR_HEIGHT + GAP)
        width = max(1, round(BAR_WIDTH * value / top)) if value else 0
        middle = y + BAR_HEIGHT / 2 + 5
        shown = label if len(label) <= 30 else label[:29] + "…"
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end">{escape(shown)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width}" height="{BAR_HEIGHT}"></rect>'
            f'<text x="{LABEL_WIDTH + width + 6}" y="{middle}">{escape(fmt.number(value))}</text>'
        )
    # The table beside the chart carries the numbers: the drawing is hidden from screen readers.
    return Markup(
        f'<svg class="bars" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-hidden="true" focusable="false"><title>{escape(title)}</title>'
        f"{''.join(rows)}</svg>"
    )
