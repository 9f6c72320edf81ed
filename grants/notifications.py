"""E-mails sent after a change is committed; a mail failure never undoes the change.

Who hears of what: the structure's users of every decision about their dossier
(submission, admissibility, complements, a reopened inadmissibility, the committee's
decision); the invited members of a committee session of its convocation, when the officer
sends it; DREETS staff of what the applicant sends back (complements) and of a dossier
given to them by a colleague. Recording the instruction sends nothing: the opinion stays
internal until the committee decides (see ``officer.review.instruct``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from .formatting import paris_date
from .mail import send_safely
from .models import CommitteeSession, Dossier, DossierVersion, User
from .urls import external_url


def notify_submission(dossier: Dossier, version: DossierVersion) -> None:
    """Tell every user of the structure that the dossier is submitted, with the receipt link."""
    recipients = [u.email for u in dossier.structure.users if u.is_active]
    send_safely(
        recipients,
        f"Dossier {dossier.reference} déposé",
        "email/dossier_submitted.txt",
        dossier=dossier,
        version=version,
        link=external_url("applicant.show_dossier", dossier_id=dossier.id),
        receipt=external_url("dossiers.download_receipt", dossier_id=dossier.id, number=version.number),
    )


def _structure_recipients(dossier: Dossier) -> list[str]:
    return [u.email for u in dossier.structure.users if u.is_active]


def _staff_recipients(dossier: Dossier) -> list[str]:
    from sqlalchemy import select

    from .extensions import db
    from .models import Role, User

    if dossier.assigned_to is not None and dossier.assigned_to.is_active:
        return [dossier.assigned_to.email]
    return list(db.session.scalars(
        select(User.email).where(User.role.in_([Role.officer, Role.admin]), User.is_active.is_(True))
    ))


def letter_filename(dossier: Dossier) -> str:
    return f"notification-{dossier.reference}.pdf"


def notify_admissibility(dossier: Dossier, motive: str, letter: bytes | None = None) -> None:
    """Tell the structure its dossier is recevable or irrecevable (with the motive and,
    for an inadmissibility, the notification letter attached)."""
    send_safely(
        _structure_recipients(dossier),
        f"Dossier {dossier.reference} : {dossier.state.title.lower()}",
        "email/admissibility_decision.txt",
        attachments=[(letter_filename(dossier), letter, "application/pdf")] if letter else (),
        dossier=dossier, motive=motive, letter=bool(letter),
        link=external_url("applicant.show_dossier", dossier_id=dossier.id),
    )


def notify_decision(dossier: Dossier, kind: str, letter: bytes, session_date: datetime | None = None) -> None:
    """Send the committee's decision (selection or rejection) with its letter attached;
    ``session_date``: the day the committee met, which dates the decision."""
    send_safely(
        _structure_recipients(dossier),
        f"Dossier {dossier.reference} : décision du comité de sélection",
        "email/committee_decision.txt",
        attachments=[(letter_filename(dossier), letter, "application/pdf")],
        dossier=dossier, kind=kind, session_date=session_date,
        link=external_url("applicant.show_dossier", dossier_id=dossier.id),
    )


def notify_convocation(session: CommitteeSession, members: Sequence[User], agenda: Sequence[dict[str, object]]) -> None:
    """Convene each invited member (one message each: no member sees the others' addresses)
    with the date, the place, the agenda and the links to the session and its pack."""
    for member in members:
        if not member.is_active:
            continue
        send_safely(
            [member.email],
            f"Convocation : comité de sélection du {paris_date(session.meets_at)} ({session.label}, {session.call.code})",
            "email/committee_convocation.txt",
            member=member, session=session, agenda=agenda,
            link=external_url("committee.show_session", session_id=session.id),
            pack=external_url("committee.download_pack", session_id=session.id),
        )


def notify_complements_requested(dossier: Dossier, request: object) -> None:
    send_safely(
        _structure_recipients(dossier),
        f"Dossier {dossier.reference} : compléments demandés",
        "email/complements_requested.txt",
        dossier=dossier, request=request,
        link=external_url("applicant.show_dossier", dossier_id=dossier.id),
    )


def notify_complements_answered(dossier: Dossier, version: DossierVersion) -> None:
    send_safely(
        _staff_recipients(dossier),
        f"Dossier {dossier.reference} : compléments reçus",
        "email/complements_answered.txt",
        dossier=dossier, version=version,
        link=external_url("officer.show_dossier", dossier_id=dossier.id),
    )


def notify_assignment(dossier: Dossier, assignee: User | None, actor: User) -> None:
    """Tell an officer a colleague gave them a dossier (not when they took it themselves)."""
    if assignee is None or assignee.id == actor.id or not assignee.is_active:
        return
    send_safely(
        [assignee.email],
        # Accented words before the reference: Python's header folding mangles the spaces
        # around encoded words placed after a long reference ("est  attribué").
        f"Dossier attribué : {dossier.reference}",
        "email/dossier_assigned.txt",
        dossier=dossier, assignee=assignee, actor=actor,
        link=external_url("officer.show_dossier", dossier_id=dossier.id),
    )


def notify_reopened(dossier: Dossier, motive: str) -> None:
    """Tell the structure its inadmissibility is reopened, with the motive."""
    send_safely(
        _structure_recipients(dossier),
        f"Irrecevabilité rouverte : dossier {dossier.reference}",
        "email/dossier_reopened.txt",
        dossier=dossier, motive=motive,
        link=external_url("applicant.show_dossier", dossier_id=dossier.id),
    )
