"""Small SVG charts with no dependencies: linear axes with nice ticks, points, lines, rectangles and text.

Every mark can carry a tooltip (`<title>`), which browsers show on hover with no script. Output is a string
to inline into HTML, so the page needs nothing from the network.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape

Fmt = Callable[[float], str]


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About `n` round tick values covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    out = []
    value = first
    while value <= hi + step * 1e-9:
        out.append(round(value, 10))
        value += step
    return out


def padded(values: Sequence[float], *, pad: float = 0.05, zero: bool = False) -> tuple[float, float]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if zero:
        lo = min(lo, 0.0)
    span = hi - lo or abs(hi) or 1.0
    return lo - span * pad * (0 if zero and lo == 0 else 1), hi + span * pad


def plain(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 or float(v).is_integer() else f"{v:.1f}"


@dataclass
class Chart:
    """A plot area with x/y axes; marks are added in data coordinates."""

    width: int
    height: int
    x: tuple[float, float]
    y: tuple[float, float]
    title: str = ""
    x_label: str = ""
    y_label: str = ""
    x_fmt: Fmt = plain
    y_fmt: Fmt = plain
    left: int = 56
    right: int = 16
    top: int = 30
    bottom: int = 44
    css_class: str = "chart"
    marks: list[str] = field(default_factory=list)

    def sx(self, v: float) -> float:
        lo, hi = self.x
        return self.left + (v - lo) / ((hi - lo) or 1.0) * (self.width - self.left - self.right)

    def sy(self, v: float) -> float:
        lo, hi = self.y
        return self.height - self.bottom - (v - lo) / ((hi - lo) or 1.0) * (self.height - self.top - self.bottom)

    def point(self, x: float, y: float, *, r: float = 3.0, cls: str = "pt", tip: str = "") -> None:
        self.marks.append(f'<circle class="{cls}" cx="{self.sx(x):.1f}" cy="{self.sy(y):.1f}" r="{r}">'
                          f"{_tip(tip)}</circle>")

    def line(self, x1: float, y1: float, x2: float, y2: float, *, cls: str = "ref") -> None:
        self.marks.append(f'<line class="{cls}" x1="{self.sx(x1):.1f}" y1="{self.sy(y1):.1f}" '
                          f'x2="{self.sx(x2):.1f}" y2="{self.sy(y2):.1f}"/>')

    def rect(self, x1: float, y1: float, x2: float, y2: float, *, cls: str = "bar", tip: str = "") -> None:
        ax, bx = sorted((self.sx(x1), self.sx(x2)))
        ay, by = sorted((self.sy(y1), self.sy(y2)))
        self.marks.append(f'<rect class="{cls}" x="{ax:.1f}" y="{ay:.1f}" width="{max(bx - ax, 1.0):.1f}" '
                          f'height="{max(by - ay, 1.0):.1f}">{_tip(tip)}</rect>')

    def text(self, x: float, y: float, label: str, *, cls: str = "lbl", anchor: str = "start",
             dx: float = 0, dy: float = 0) -> None:
        self.marks.append(f'<text class="{cls}" x="{self.sx(x) + dx:.1f}" y="{self.sy(y) + dy:.1f}" '
                          f'text-anchor="{anchor}">{escape(label)}</text>')

    def legend(self, items: Sequence[tuple[str, str, str]], *, y: float = 30) -> None:
        """Swatches in a row under the title: (shape 'dot' | 'box' | 'diamond', css class, label)."""
        x = float(self.left)
        for shape, cls, label in items:
            if shape == "dot":
                self.marks.append(f'<circle class="key {cls}" cx="{x + 4:.1f}" cy="{y - 4:.1f}" r="4"/>')
            elif shape == "diamond":
                self.marks.append(f'<path class="key {cls}" d="M{x + 4:.1f} {y - 9:.1f} L{x + 9:.1f} {y - 4:.1f} '
                                  f'L{x + 4:.1f} {y + 1:.1f} L{x - 1:.1f} {y - 4:.1f} Z"/>')
            else:
                self.marks.append(f'<rect class="key {cls}" x="{x:.1f}" y="{y - 9:.1f}" width="12" height="10"/>')
            self.marks.append(f'<text class="lbl" x="{x + 16:.1f}" y="{y:.1f}">{escape(label)}</text>')
            x += 28 + 6.2 * len(label)

    def raw(self, svg: str) -> None:
        self.marks.append(svg)

    def _axes(self, *, x_ticks: bool, y_ticks: bool) -> list[str]:
        out = []
        x0, x1 = self.left, self.width - self.right
        y0, y1 = self.height - self.bottom, self.top
        if y_ticks:
            for t in nice_ticks(*self.y):
                if self.y[0] <= t <= self.y[1]:
                    y = self.sy(t)
                    out.append(f'<line class="grid" x1="{x0}" y1="{y:.1f}" x2="{x1}" y2="{y:.1f}"/>')
                    out.append(f'<text class="tick" x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end">'
                               f"{escape(self.y_fmt(t))}</text>")
        if x_ticks:
            for t in nice_ticks(*self.x, n=6):
                if self.x[0] <= t <= self.x[1]:
                    x = self.sx(t)
                    out.append(f'<line class="grid" x1="{x:.1f}" y1="{y0}" x2="{x:.1f}" y2="{y1}"/>')
                    out.append(f'<text class="tick" x="{x:.1f}" y="{y0 + 16}" text-anchor="middle">'
                               f"{escape(self.x_fmt(t))}</text>")
        out.append(f'<line class="axis" x1="{x0}" y1="{y0}" x2="{x1}" y2="{y0}"/>')
        out.append(f'<line class="axis" x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}"/>')
        if self.x_label:
            out.append(f'<text class="axis-label" x="{(x0 + x1) / 2:.1f}" y="{self.height - 8}" '
                       f'text-anchor="middle">{escape(self.x_label)}</text>')
        if self.y_label:
            out.append(f'<text class="axis-label" x="14" y="{(y0 + y1) / 2:.1f}" text-anchor="middle" '
                       f'transform="rotate(-90 14 {(y0 + y1) / 2:.1f})">{escape(self.y_label)}</text>')
        if self.title:
            out.append(f'<text class="title" x="{x0}" y="18">{escape(self.title)}</text>')
        return out

    def render(self, *, x_ticks: bool = True, y_ticks: bool = True, label: str = "") -> str:
        aria = escape(label or self.title or "chart")
        body = "".join([*self._axes(x_ticks=x_ticks, y_ticks=y_ticks), *self.marks])
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="{self.css_class}" role="img" aria-label="{aria}" '
                f'width="{self.width}" height="{self.height}" viewBox="0 0 {self.width} {self.height}">{body}</svg>')


def _tip(text: str) -> str:
    return f"<title>{escape(text)}</title>" if text else ""


def empty(width: int, height: int, message: str, *, title: str = "") -> str:
    """A placeholder chart that says why there is nothing to draw."""
    head = f'<text class="title" x="12" y="18">{escape(title)}</text>' if title else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart empty" role="img" aria-label="{escape(message)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">{head}'
            f'<text class="note" x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle">'
            f"{escape(message)}</text></svg>")
