from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, SelectChoice
from wtforms.widgets import CheckboxInput, RadioInput


class BaseForm(FlaskForm):
    """All forms: WTForms' own French messages (no Flask-Babel needed)."""

    class Meta:
        locales = ("fr_FR", "fr")


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """``(value, label)`` pairs as WTForms ≥ 3.3 wants them."""
    return [SelectChoice(value, label) for value, label in pairs]


def error_list(*forms: Any) -> list[tuple[str, str, str]]:
    """Every error of ``forms``, one ``(field id, field label, message)`` per message, in the
    order the fields are shown; nested forms (``FormField``, ``FieldList``) are walked, and an
    error of the form itself (``form_errors``) has an empty id. The error summary prints it.

    A nested field's label names where it is (``Volet repérage, poste 2, Mois``): the same
    label appears once per strand and per row. A row of a ``FieldList`` is named after the
    list's label and its rank when the list has a label of its own (``label="Poste"``)."""
    found: list[tuple[str, str, str]] = []

    def walk(form: Any, within: str = "") -> None:
        for message in getattr(form, "form_errors", None) or []:
            found.append(("", within.rstrip(", "), str(message)))
        for field in form:
            if field.type == "CSRFTokenField":
                continue
            if isinstance(field, FormField):
                walk(field.form, f"{within}{field.label.text}, ")
            elif isinstance(field, FieldList):  # subclasses too (forms.admin.RowsField)
                named = field.label.text != field.short_name.replace("_", " ").title()
                for rank, entry in enumerate(field.entries, start=1):
                    row = f"{within}{field.label.text.lower() if within else field.label.text} {rank}, " if named else within
                    if isinstance(entry, FormField):
                        walk(entry.form, row)
                    else:
                        found.extend((entry.id, row.rstrip(", ") or field.label.text, str(m)) for m in entry.errors)
            else:
                errors = field.errors if isinstance(field.errors, list | tuple) else []
                found.extend((_target(field), within + field.label.text, str(m)) for m in errors)

    for form in forms:
        if form is not None:
            walk(form)
    return found


def _target(field: Any) -> str:
    """The element an error links to: the field, or the first box of a group of radio
    buttons or checkboxes (drawn one by one, the group itself has no element of that id)."""
    if isinstance(getattr(field, "option_widget", None), RadioInput | CheckboxInput) and field.choices:
        return f"{field.id}-0"
    return field.id
