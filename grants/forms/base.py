from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import SelectChoice


class BaseForm(FlaskForm):
    """All forms: WTForms' own French messages (no Flask-Babel needed)."""

    class Meta:
        locales = ("fr_FR", "fr")


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms ≥ 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]
