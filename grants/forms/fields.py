"""Fields for French input: amounts typed as ``1 234,56``, Paris local date-times."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import Field
from wtforms.validators import StopValidation, ValidationError
from wtforms.widgets import TextInput

PARIS = ZoneInfo("Europe/Paris")

_SPACES = re.compile(r"[\s\u00a0\u202f']")
_FRENCH_NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def parse_french_decimal(text: str) -> Decimal:
    """Parse ``1 234,56`` / ``1234.56`` / ``42 000`` into a Decimal; ValueError otherwise."""
    cleaned = _SPACES.sub("", text.strip()).replace("€", "").replace("%", "")
    if not _FRENCH_NUMBER.match(cleaned):
        raise ValueError(text)
    try:
        value = Decimal(cleaned.replace(",", "."))
    except InvalidOperation as exc:  # pragma: no cover - the regex already filters
        raise ValueError(text) from exc
    if not value.is_finite():
        raise ValueError(text)
    return value


def refuse_blank_if_required(field: Field) -> None:
    """Spaces only in a required field: InputRequired lets them through (the raw input is not
    empty), yet the field has no value; without this, None reached NOT NULL columns (a 500)."""
    if field.flags.required and field.raw_data and not str(field.raw_data[0]).strip():
        raise StopValidation("Ce champ est obligatoire.")


def format_french_decimal(value: Decimal, places: int | None = 2) -> str:
    """``Decimal('42000.5')`` → ``42 000,50`` (plain spaces: easy to type back)."""
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    sign = "-" if value < 0 else ""
    integer, _, fraction = f"{abs(value):f}".partition(".")
    groups = []
    while integer:
        groups.insert(0, integer[-3:])
        integer = integer[:-3]
    text = sign + " ".join(groups or ["0"])
    return f"{text},{fraction}" if fraction else text


class FrenchDecimalField(Field):
    """A decimal typed the French way, kept as typed when invalid.

    ``places`` is the maximum number of decimals accepted (2 for euros); more is an
    error, never a silent rounding.
    """

    widget = TextInput()

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        places: int = 2,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        **kwargs: Any,
    ) -> None:
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **kwargs.pop("render_kw", {})}
        super().__init__(label, validators, render_kw=render_kw, **kwargs)
        self.places = places
        self.minimum = minimum
        self.maximum = maximum

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is not None:
            return format_french_decimal(self.data, None if self.places > 2 else self.places)
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            value = parse_french_decimal(str(valuelist[0]))
        except ValueError:
            self.data = None
            raise ValueError("Saisissez un nombre, par exemple 42 000,50.") from None
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.places:
            self.data = None
            raise ValueError(f"Au plus {self.places} décimales.")
        # Euros always carry their cents (42 000 → 42000.00); rates stay as typed.
        try:
            self.data = value.quantize(Decimal("0.01")) if self.places == 2 else value
        except InvalidOperation:  # more digits than the decimal context holds (28)
            self.data = None
            raise ValueError("Nombre trop grand : vérifiez votre saisie.") from None

    def pre_validate(self, form: Any) -> None:
        refuse_blank_if_required(self)
        if self.data is None:
            return
        if self.minimum is not None and self.data < self.minimum:
            raise ValidationError(f"La valeur doit être au moins {format_french_decimal(self.minimum, None)}.")
        if self.maximum is not None and self.data > self.maximum:
            raise ValidationError(f"La valeur doit être au plus {format_french_decimal(self.maximum, None)}.")


class ParisDateTimeField(Field):
    """A ``datetime-local`` input read and shown in Europe/Paris, stored aware."""

    widget = TextInput(input_type="datetime-local")

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is not None:
            return self.data.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).strip()
        for fmt in ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M"):
            try:
                naive = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            self.data = None
            raise ValueError("Date et heure invalides (format attendu : JJ/MM/AAAA HH:MM).")
        if not 2000 <= naive.year <= 2100:
            self.data = None
            raise ValueError("L'année doit être comprise entre 2000 et 2100.")
        self.data = naive.replace(tzinfo=PARIS)

    def pre_validate(self, form: Any) -> None:
        refuse_blank_if_required(self)


def _percent_text(fraction: Decimal) -> str:
    """``Decimal("0.375")`` → ``37,5`` (no trailing zeros, no exponent)."""
    return format_french_decimal((fraction * 100).normalize(), None)


class FrenchPercentField(FrenchDecimalField):
    """A rate typed and shown as a percentage (``60`` or ``60 %`` for 0.60; ``37,5`` for
    0.375), stored as today's decimal fraction. ``minimum`` and ``maximum`` are fractions too.

    A value strictly between 0 and 1 is refused: « 0,6 » typed for 60 % would silently give
    a rate of 0,6 %, a hundred times too small, which no parameter of a call ever is."""

    def __init__(self, label: str | None = None, validators: Any = None, places: int = 2, **kwargs: Any) -> None:
        # ``places`` counts the percentage's decimals: 37,25 % is the fraction 0.3725.
        super().__init__(label, validators, places=places, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is not None:
            return _percent_text(self.data)
        return ""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            percent = parse_french_decimal(str(valuelist[0]))
        except ValueError:
            self.data = None
            raise ValueError("Saisissez un pourcentage, par exemple 60 pour 60 %.") from None
        exponent = percent.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > self.places:
            self.data = None
            raise ValueError(f"Au plus {self.places} décimales au pourcentage.")
        if 0 < percent < 1:
            self.data = None
            raise ValueError("Saisissez le taux en pourcentage : 60 pour 60 % (et non 0,60).")
        try:
            self.data = (percent / 100).quantize(Decimal(1).scaleb(-(self.places + 2)))
        except InvalidOperation:  # more digits than the decimal context holds
            self.data = None
            raise ValueError("Nombre trop grand : vérifiez votre saisie.") from None

    def pre_validate(self, form: Any) -> None:
        refuse_blank_if_required(self)
        if self.data is None:
            return
        if self.minimum is not None and self.data < self.minimum:
            raise ValidationError(f"Le taux doit être d'au moins {_percent_text(self.minimum)} %.")
        if self.maximum is not None and self.data > self.maximum:
            raise ValidationError(f"Le taux doit être d'au plus {_percent_text(self.maximum)} %.")
