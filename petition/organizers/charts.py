"""The geometry of the dashboard's charts, which templates/organizers/_insight.html draws as SVG.

Horizontal positions are percentages of the chart's width and vertical ones are pixels, so a
chart fills any screen without scaling its text (an SVG ``viewBox`` would shrink it on phones).
"""

from dataclasses import dataclass, field

DAY_CHART_HEIGHT = 200
DAY_CHART_TOP = 8
DAY_CHART_BASELINE = 192
MIN_BAR_HEIGHT = 2  # a day with one signature among hundreds still shows
# Per cent of the width: on a petition's first days a bar stays a bar, not a slab the size of
# the chart that reads as a box.
MAX_BAR_WIDTH = 8
COUNTRIES_SHOWN = 10
COUNTRY_ROW = 44
COUNTRY_BAR_MAX = 80  # per cent of the width; the rest holds the number after the bar


def pct(value: float) -> str:
    """A percentage for an SVG attribute, short and exact enough."""
    return f"{round(value, 3):g}%"


@dataclass
class DayBar:
    day: object
    counted: int
    waiting: int
    x: str
    width: str
    y: float
    height: float
    center: str
    waiting_y: float


@dataclass
class DayChart:
    bars: list[DayBar] = field(default_factory=list)
    segments: list[tuple[str, float, str, float]] = field(default_factory=list)
    scale: int = 0
    height: int = DAY_CHART_HEIGHT
    top: int = DAY_CHART_TOP
    baseline: int = DAY_CHART_BASELINE
    peak: object = None

    @property
    def shows_waiting(self) -> bool:
        return any(bar.waiting for bar in self.bars)


def day_chart(days) -> DayChart:
    """Bars of counted signatures per day and a line of waiting ones, on a shared scale whose
    top line is ``scale`` signatures."""
    chart = DayChart()
    if not days:
        return chart
    chart.scale = max(max(day.counted, day.waiting) for day in days) or 1
    chart.peak = max(days, key=lambda day: day.counted)
    plot = DAY_CHART_BASELINE - DAY_CHART_TOP
    slot = 100 / len(days)

    width = min(slot * 0.7, MAX_BAR_WIDTH)

    def y_of(value: int) -> float:
        return round(DAY_CHART_BASELINE - value / chart.scale * plot, 2)

    for index, day in enumerate(days):
        height = round(max(day.counted / chart.scale * plot, MIN_BAR_HEIGHT), 2) if day.counted else 0
        chart.bars.append(
            DayBar(
                day=day.day,
                counted=day.counted,
                waiting=day.waiting,
                x=pct((index + 0.5) * slot - width / 2),
                width=pct(width),
                y=round(DAY_CHART_BASELINE - height, 2),
                height=height,
                center=pct((index + 0.5) * slot),
                waiting_y=y_of(day.waiting),
            )
        )
    chart.segments = [
        (before.center, before.waiting_y, after.center, after.waiting_y)
        for before, after in zip(chart.bars, chart.bars[1:], strict=False)
    ]
    return chart


@dataclass
class CountryBar:
    code: str
    name: str
    count: int
    label_y: int
    bar_y: int
    width: str
    number_x: str


@dataclass
class CountryChart:
    bars: list[CountryBar] = field(default_factory=list)
    height: int = 0
    others: int = 0  # countries beyond the chart, still in the table


def country_chart(countries) -> CountryChart:
    """One bar per country for the largest ``COUNTRIES_SHOWN``, each under its name and ending
    in its number."""
    shown = countries[:COUNTRIES_SHOWN]
    chart = CountryChart(height=len(shown) * COUNTRY_ROW, others=len(countries) - len(shown))
    if not shown:
        return chart
    largest = shown[0][2] or 1
    for index, (code, name, count) in enumerate(shown):
        share = count / largest * COUNTRY_BAR_MAX
        chart.bars.append(
            CountryBar(
                code=code,
                name=name,
                count=count,
                label_y=index * COUNTRY_ROW + 16,
                bar_y=index * COUNTRY_ROW + 22,
                width=pct(max(share, 0.5)),
                number_x=pct(max(share, 0.5) + 1),
            )
        )
    return chart
