"""Bar charts drawn on the server as inline SVG: no JavaScript, no CDN, works offline.

Each function returns markup that is safe to put in a template as it is: every text
it writes (title, labels, series names) is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

HEIGHT = 200
PLOT_TOP = 24
PLOT_BOTTOM = 160
LEFT = 40
SLOT = 22
BAR_GAP = 4
LEGEND_ROW = 16


@dataclass(frozen=True)
class Series:
    """One kind of bar: a name for the legend, one value per label, a colour class."""

    name: str
    values: Sequence[int]
    css_class: str = "bt-bar"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    values: Sequence[int],
    label_every: int = 1,
) -> SafeString:
    """One bar per label, scaled to the largest value."""
    return stacked_bar_chart(
        chart_id=chart_id,
        title=title,
        labels=labels,
        series=[Series(name=title, values=values)],
        label_every=label_every,
        legend=False,
    )


def stacked_bar_chart(
    *,
    chart_id: str,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    label_every: int = 1,
    legend: bool = True,
) -> SafeString:
    """One bar per label, each a stack of the series' values, in the series' order.

    Raises ValueError when a series does not have one value per label.
    """
    for one in series:
        if len(one.values) != len(labels):
            raise ValueError(
                f"Series {one.name!r} has {len(one.values)} values "
                f"for {len(labels)} labels."
            )
    totals = [sum(one.values[i] for one in series) for i in range(len(labels))]
    top = max(totals, default=0)
    width = LEFT + SLOT * max(len(labels), 1) + 8
    height = HEIGHT + (LEGEND_ROW if legend else 0)

    parts = [
        f'<svg id="{escape(chart_id)}" class="bt-chart" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        *_axes(width, top),
        *_bars(labels, series, top),
        *_labels(labels, label_every),
    ]
    if legend:
        parts.extend(_legend(series))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def _scale(value: int, top: int) -> float:
    return (PLOT_BOTTOM - PLOT_TOP) * value / top if top else 0.0


def _axes(width: int, top: int) -> list[str]:
    return [
        f'<line class="bt-axis" x1="{LEFT}" y1="{PLOT_BOTTOM}" '
        f'x2="{width - 4}" y2="{PLOT_BOTTOM}" stroke="#888"/>',
        f'<text class="bt-axis-label" x="{LEFT - 4}" y="{PLOT_TOP + 4}" '
        f'text-anchor="end" font-size="10">{top}</text>',
        f'<text class="bt-axis-label" x="{LEFT - 4}" y="{PLOT_BOTTOM}" '
        f'text-anchor="end" font-size="10">0</text>',
    ]


def _bars(labels: Sequence[str], series: Sequence[Series], top: int) -> list[str]:
    parts = []
    for index, label in enumerate(labels):
        x = LEFT + SLOT * index + BAR_GAP / 2
        base = float(PLOT_BOTTOM)
        for one in series:
            value = one.values[index]
            if not value:
                continue
            height = _scale(value, top)
            base -= height
            parts.append(
                f'<rect class="{escape(one.css_class)}" x="{x:.1f}" y="{base:.1f}" '
                f'width="{SLOT - BAR_GAP}" height="{height:.1f}" '
                f'data-label="{escape(label)}" data-value="{value}">'
                f"<title>{escape(label)}: {value} {escape(one.name)}</title></rect>"
            )
    return parts


def _labels(labels: Sequence[str], label_every: int) -> list[str]:
    parts = []
    for index, label in enumerate(labels):
        if index % max(label_every, 1):
            continue
        x = LEFT + SLOT * index + SLOT / 2
        parts.append(
            f'<text class="bt-tick" x="{x:.1f}" y="{PLOT_BOTTOM + 12}" '
            f'text-anchor="end" font-size="9" '
            f'transform="rotate(-45 {x:.1f} {PLOT_BOTTOM + 12})">{escape(label)}</text>'
        )
    return parts


def _legend(series: Sequence[Series]) -> list[str]:
    parts = []
    y = HEIGHT + 4
    for index, one in enumerate(series):
        x = LEFT + index * 90
        parts.append(
            f'<rect class="{escape(one.css_class)}" x="{x}" y="{y}" '
            f'width="10" height="10"/>'
            f'<text class="bt-legend" x="{x + 14}" y="{y + 9}" font-size="10">'
            f"{escape(one.name)}</text>"
        )
    return parts
