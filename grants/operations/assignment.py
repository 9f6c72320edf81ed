"""Who instructs a dossier: assignment to a DREETS officer or admin."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Dossier, DossierState, User
from .audit import log_action


class AssignmentError(ValueError):
    """A refused assignment; the message is French and shown to the user."""


def assign_dossier(dossier: Dossier, assignee: User | None, actor: User) -> bool:
    """Give ``dossier`` to ``assignee`` (None: to nobody); False when nothing changes.

    Flushes, never commits. Writes a ``dossier.assign`` audit entry.
    """
    if not actor.is_staff:
        raise AssignmentError("Seuls les agents de la DREETS peuvent attribuer un dossier.")
    if dossier.state is DossierState.draft or dossier.submitted_at is None:
        raise AssignmentError("Un dossier non déposé ne peut pas être attribué.")
    if assignee is not None and not (assignee.is_staff and assignee.is_active):
        raise AssignmentError("Un dossier ne peut être attribué qu'à un agent actif de la DREETS.")
    previous = dossier.assigned_to
    if (previous.id if previous else None) == (assignee.id if assignee else None):
        return False
    db.session.flush()
    # A plain UPDATE of the table: assignment is not an edit of the dossier, so it must not
    # bump the optimistic-locking version (an applicant answering complements, or a colleague
    # instructing, would get a false "modified meanwhile" conflict) nor ``updated_at``.
    table = Dossier.__table__
    db.session.execute(
        update(table)
        .where(table.c.id == dossier.id)
        .values(assigned_to_id=assignee.id if assignee else None, updated_at=table.c.updated_at)
    )
    set_committed_value(dossier, "assigned_to_id", assignee.id if assignee else None)
    set_committed_value(dossier, "assigned_to", assignee)
    log_action(
        "dossier.assign", dossier, actor,
        details={
            "from_id": previous.id if previous else None,
            "from_name": previous.full_name if previous else None,
            "to_id": assignee.id if assignee else None,
            "to_name": assignee.full_name if assignee else None,
        },
    )
    return True
