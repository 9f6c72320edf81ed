"""The officer queue: its GET filter form and the assignment form of a dossier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wtforms import BooleanField, HiddenField, SearchField, SelectField
from wtforms.validators import Length, Optional

from ..geography import DEPARTEMENTS
from ..models import STRUCTURE_KIND_TITLES, DossierState, StructureKind, User
from .base import BaseForm, choices

QUEUE_STATES = tuple(s for s in DossierState if s is not DossierState.draft)


class QueueFilterForm(BaseForm):
    """Filters of the queue, sent as GET parameters so a filtered queue is a shareable URL."""

    class Meta:
        csrf = False

    q = SearchField(
        "Rechercher", validators=[Optional(), Length(max=100)],
        description="Numéro, intitulé du projet, structure ou SIRET",
    )
    state = SelectField("État", validators=[Optional()])
    kind = SelectField("Type de structure", validators=[Optional()])
    departement = SelectField("Département", validators=[Optional()])
    mine = BooleanField("Seulement les dossiers qui me sont attribués")
    sort = HiddenField()
    order = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.state.choices = choices([("", "Tous les états"), *((s.value, s.title) for s in QUEUE_STATES)])
        self.kind.choices = choices([("", "Tous les types"), *((k.value, t) for k, t in STRUCTURE_KIND_TITLES.items())])
        self.departement.choices = choices(
            [("", "Tous les départements"), *((code, f"{code} — {name}") for code, name in DEPARTEMENTS.items())]
        )

    def values(self) -> dict[str, Any]:
        """``QueueFilters`` arguments; a field with an invalid value is ignored (and shown in error)."""
        self.validate()

        def valid(field: Any) -> Any:
            return None if field.errors else field.data

        state, kind = valid(self.state), valid(self.kind)
        return {
            "state": DossierState(state) if state else None,
            "kind": StructureKind(kind) if kind else None,
            "departement": valid(self.departement) or None,
            "mine": bool(self.mine.data),
            "q": (valid(self.q) or "").strip(),
            "sort": self.sort.data or "",
            "order": self.order.data or "",
        }


class AssignForm(BaseForm):
    """Who instructs a dossier: one of the active DREETS staff, or nobody."""

    assignee = SelectField("Gestionnaire attribué")

    def __init__(self, *args: Any, staff: Sequence[User], me: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = {user.id: user for user in staff}
        self.assignee.choices = choices(
            [("", "Personne"), *((str(u.id), f"{u.full_name} (moi)" if me is not None and u.id == me.id
                                   else u.full_name) for u in staff)]
        )

    @property
    def assignee_user(self) -> User | None:
        return self.staff.get(int(self.assignee.data)) if self.assignee.data else None
