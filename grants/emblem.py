"""The European Union emblem, drawn from its official geometric description, for the PDFs.

Regulation (EU) 2021/1060 (art. 47 and 50, annex IX) has every document about an operation
carry the emblem of the Union with the statement « Cofinancé par l'Union européenne ». The
emblem's graphic specification describes it geometrically: a blue rectangle whose width is
one and a half times its height; twelve gold stars, regularly spaced on an invisible circle
centred on the rectangle's centre, of radius one third of the height, at the positions of
the hours on a clock face; each star has five points lying on a circle of radius one
eighteenth of the height, and stands upright (one point straight up, whatever its place on
the circle). Colours: Reflex Blue (#003399) and Yellow (#FFCC00).

``templates/pdf/_eu_emblem.html`` draws it as inline SVG from these figures, in units of one
eighteenth of the height (the rectangle is 27 × 18), so that WeasyPrint lays it out as
vectors (no image file, nothing fetched).
"""

from __future__ import annotations

import math

HEIGHT = 18.0
WIDTH = HEIGHT * 3 / 2
CIRCLE_RADIUS = HEIGHT / 3
STAR_RADIUS = HEIGHT / 18
# The inner corners of a regular five-pointed star: R × cos 72° / cos 36°.
STAR_INNER_RADIUS = STAR_RADIUS * math.cos(math.radians(72)) / math.cos(math.radians(36))
BLUE = "#003399"
YELLOW = "#FFCC00"
STATEMENT = "Cofinancé par l'Union européenne"


def star_centres() -> list[tuple[float, float]]:
    """The twelve centres, at the hours of a clock face, starting at twelve o'clock."""
    cx, cy = WIDTH / 2, HEIGHT / 2
    return [
        (cx + CIRCLE_RADIUS * math.sin(math.radians(30 * hour)), cy - CIRCLE_RADIUS * math.cos(math.radians(30 * hour)))
        for hour in range(12)
    ]


def star_points(cx: float, cy: float) -> list[tuple[float, float]]:
    """The ten corners of an upright star centred on (cx, cy): a point straight up, then
    inner and outer corners every 36° clockwise."""
    points = []
    for corner in range(10):
        radius = STAR_RADIUS if corner % 2 == 0 else STAR_INNER_RADIUS
        angle = math.radians(36 * corner)
        points.append((cx + radius * math.sin(angle), cy - radius * math.cos(angle)))
    return points


def emblem() -> dict[str, object]:
    """What ``templates/pdf/_eu_emblem.html`` draws: the viewBox, the colours and the twelve
    stars' corners as SVG ``points``."""
    return {
        "width": f"{WIDTH:g}", "height": f"{HEIGHT:g}", "blue": BLUE, "yellow": YELLOW, "statement": STATEMENT,
        "stars": [" ".join(f"{x:.4f},{y:.4f}" for x, y in star_points(cx, cy)) for cx, cy in star_centres()],
    }
