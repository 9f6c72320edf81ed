"""The dossier lifecycle of docs/lifecycle.md: the only way a dossier's state changes.

Each transition names who may trigger it; its guard (deadline, completeness, motive…) is
checked by the operation that performs it, and ``operations.dossiers.apply_transition``
refuses any change that is not in this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import DossierState as S
from .models import Role

STAFF = frozenset({Role.officer, Role.admin})
APPLICANT = frozenset({Role.applicant})


@dataclass(frozen=True)
class Transition:
    source: S
    target: S
    roles: frozenset[Role]
    label: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition(S.draft, S.submitted, APPLICANT, "Déposer le dossier"),
    Transition(S.submitted, S.complements_requested, STAFF, "Demander des compléments"),
    Transition(S.complements_requested, S.submitted, APPLICANT, "Répondre à la demande de compléments"),
    Transition(S.submitted, S.admissible, STAFF, "Déclarer recevable"),
    Transition(S.submitted, S.inadmissible, STAFF, "Déclarer irrecevable"),
    Transition(S.admissible, S.instructed, STAFF, "Enregistrer l'instruction"),
    Transition(S.instructed, S.selected, STAFF, "Programmer"),
    Transition(S.instructed, S.rejected, STAFF, "Rejeter"),
    Transition(S.instructed, S.deferred, STAFF, "Ajourner"),
    Transition(S.deferred, S.instructed, STAFF, "Réinscrire"),
    # Correcting the committee's decision while its session is held (operations.committee).
    *(Transition(source, target, STAFF, "Corriger la décision du comité")
      for source in (S.selected, S.rejected, S.deferred) for target in (S.selected, S.rejected, S.deferred)
      if source is not target),
    # Reopening a terminal decision: explicit action with a motive (operations.review).
    Transition(S.inadmissible, S.submitted, STAFF, "Rouvrir la recevabilité"),
    Transition(S.draft, S.withdrawn, APPLICANT, "Retirer le dossier"),
    Transition(S.submitted, S.withdrawn, APPLICANT, "Retirer le dossier"),
    Transition(S.complements_requested, S.withdrawn, APPLICANT, "Retirer le dossier"),
)

_BY_PAIR = {(t.source, t.target): t for t in TRANSITIONS}


class TransitionRefused(PermissionError):
    """The requested state change is not allowed; the message is French."""


def find_transition(source: S, target: S) -> Transition | None:
    return _BY_PAIR.get((source, target))


def check_transition(source: S, target: S, role: Role) -> Transition:
    transition = find_transition(source, target)
    if transition is None:
        raise TransitionRefused(
            f"Un dossier « {source.title} » ne peut pas passer à l'état « {target.title} »."
        )
    if role not in transition.roles:
        raise TransitionRefused(f"Votre rôle ne permet pas l'action « {transition.label} ».")
    return transition
