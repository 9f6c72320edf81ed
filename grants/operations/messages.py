"""Messages between DREETS staff and a structure on a submitted dossier, and their read state."""

from __future__ import annotations

from sqlalchemy import func, select

from .. import storage as storage_module
from ..antivirus import Scanner, ScanStatus, scan_upload
from ..extensions import db
from ..models import Dossier, Message, Role, User, utcnow
from ..mail import send_safely
from ..security import STAFF
from ..uploads import check_upload
from ..urls import external_url
from .audit import log_action


MAX_BODY_LENGTH = 5000


def normalise_newlines(text: str | None) -> str | None:
    """Browsers send ``\\r\\n``; a line break counts as one character, as for ``maxlength``."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if isinstance(text, str) else text


class MessageError(ValueError):
    """A refused message; the text is French and shown to the user."""


def _reads_staff_messages(dossier: Dossier, user: User) -> bool | None:
    """Which side's messages ``user`` reads: staff's (True), the structure's (False), none."""
    if not dossier.can_message(user):
        return None
    return dossier.is_member(user)


def post_message(
    dossier: Dossier, author: User, body: str, upload: tuple[str, bytes] | None = None, *,
    store: storage_module.FileStore, max_bytes: int, scanner: Scanner | None = None,
) -> Message:
    """Add a message, with its optional pièce (same checks as the dossier's pièces).

    Raises :class:`MessageError` for the text and :class:`~grants.uploads.UploadRefused`
    for the file; the file is stored only once both are valid.
    """
    if not dossier.can_message(author):
        raise MessageError("Vous ne pouvez pas écrire de message sur ce dossier.")
    body = (normalise_newlines(body) or "").strip()
    if not body:
        raise MessageError("Saisissez votre message.")
    if len(body) > MAX_BODY_LENGTH:
        raise MessageError("Le message ne doit pas dépasser 5 000 caractères.")
    message = Message(
        dossier=dossier, author_id=author.id, from_staff=author.role in STAFF, body=body, created_at=utcnow(),
    )
    if upload is not None:
        filename, data = upload
        checked = check_upload(filename, data, max_bytes=max_bytes)
        verdict = scan_upload(scanner, data)
        stored = store.save(data)
        message.attachment_scan_status = verdict.status
        if verdict.status is ScanStatus.clean:
            message.attachment_scanned_at = message.created_at
        message.attachment_name = checked.display_name
        message.attachment_file = stored.name
        message.attachment_mime = checked.mime
        message.attachment_size = stored.size
        message.attachment_sha256 = stored.sha256
    db.session.add(message)
    db.session.flush()
    log_action(
        "dossier.message", dossier, author,
        details={"message_id": message.id, "attachment": message.attachment_name, "sha256": message.attachment_sha256},
    )
    return message


def mark_thread_read(dossier: Dossier, user: User) -> list[Message]:
    """Mark as read what the other side wrote; returns the messages that were new to ``user``."""
    reads_staff = _reads_staff_messages(dossier, user)
    if reads_staff is None:
        return []
    now = utcnow()
    fresh = [m for m in dossier.messages if m.from_staff is reads_staff and m.read_at is None]
    for message in fresh:
        message.read_at = now
    db.session.flush()
    return fresh


def unread_count(dossier: Dossier, user: User) -> int:
    """Messages of the other side that nobody on ``user``'s side has read yet."""
    reads_staff = _reads_staff_messages(dossier, user)
    if reads_staff is None:
        return 0
    return db.session.scalar(
        select(func.count(Message.id)).where(
            Message.dossier_id == dossier.id, Message.from_staff.is_(reads_staff), Message.read_at.is_(None),
        )
    ) or 0


def unread_counts_for_member(dossiers: list[Dossier], user: User) -> dict[int, int]:
    """Unread DREETS messages per dossier of ``user``'s structure, in one query (the
    applicant's home page lists every dossier of the structure with its count)."""
    ids = [d.id for d in dossiers if d.can_message(user) and d.is_member(user)]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Message.dossier_id, func.count(Message.id))
        .where(Message.dossier_id.in_(ids), Message.from_staff.is_(True), Message.read_at.is_(None))
        .group_by(Message.dossier_id)
    )
    return {dossier_id: 0 for dossier_id in ids} | {dossier_id: count for dossier_id, count in rows}


def message_recipients(message: Message) -> list[str]:
    """The structure's users for a staff message; otherwise the assigned officer, or all staff."""
    dossier = message.dossier
    if message.from_staff:
        return [u.email for u in dossier.structure.users if u.is_active]
    officer = dossier.assigned_to
    if officer is not None and officer.is_active and officer.role in STAFF:
        return [officer.email]
    staff = db.session.scalars(
        select(User).where(User.role.in_([Role.officer, Role.admin]), User.is_active.is_(True)).order_by(User.id)
    )
    return [u.email for u in staff]


def notify_message_posted(message: Message) -> None:
    """E-mail the other side; call after the commit, a mail failure is only logged."""
    dossier = message.dossier
    send_safely(
        message_recipients(message),
        f"Nouveau message sur le dossier {dossier.reference}",
        "email/message_posted.txt",
        dossier=dossier,
        message=message,
        link=external_url("dossiers.messages", dossier_id=dossier.id, _anchor=f"message-{message.id}"),
    )
