"""Scans of stored files that the antivirus could not check when they arrived."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from .. import storage as storage_module
from ..antivirus import Scanner, ScannerUnavailable, ScanStatus
from ..extensions import db
from ..models import Attachment, Message, utcnow
from .audit import log_action


def rescan_attachment(attachment: Attachment, scanner: Scanner, store: storage_module.FileStore) -> ScanStatus:
    """Scan a pending pièce again; raises :class:`ScannerUnavailable` if clamd is still away."""
    return _rescan(attachment, "", attachment.storage_name, attachment.dossier, "attachment",
                   {"attachment_id": attachment.id, "name": attachment.display_name}, scanner, store)


def rescan_message(message: Message, scanner: Scanner, store: storage_module.FileStore) -> ScanStatus:
    """Scan a message's pending pièce again (same as :func:`rescan_attachment`)."""
    return _rescan(message, "attachment_", message.attachment_file, message.dossier, "message",
                   {"message_id": message.id, "name": message.attachment_name}, scanner, store)


def _rescan(item: Attachment | Message, prefix: str, storage_name: str | None, dossier: object, kind: str,
            details: dict[str, object], scanner: Scanner, store: storage_module.FileStore) -> ScanStatus:
    """Store the verdict on ``item``'s ``<prefix>scan_*`` columns, on the dossier's audit trail."""
    verdict = scanner.scan(store.read(storage_name or ""))
    setattr(item, f"{prefix}scan_status", verdict.status)
    setattr(item, f"{prefix}scan_signature", verdict.signature)
    setattr(item, f"{prefix}scanned_at", utcnow())
    db.session.flush()
    log_action(f"dossier.{kind}_scan_{verdict.status.value}", dossier, None,
               details={**details, "signature": verdict.signature})
    return verdict.status


@dataclass
class RescanReport:
    scanned: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in ScanStatus})
    infected: list[str] = field(default_factory=list)
    unavailable: str | None = None


def rescan_pending(scanner: Scanner, store: storage_module.FileStore) -> RescanReport:
    """Scan every pending file; stops at the first sign that clamd is unreachable."""
    report = RescanReport()
    try:
        for attachment in db.session.scalars(
            select(Attachment).where(Attachment.scan_status == ScanStatus.pending).order_by(Attachment.id)
        ):
            status = rescan_attachment(attachment, scanner, store)
            report.scanned[status.value] += 1
            if status is ScanStatus.infected:
                report.infected.append(f"pièce {attachment.id} « {attachment.display_name} » : {attachment.scan_signature}")
        for message in db.session.scalars(
            select(Message).where(Message.attachment_scan_status == ScanStatus.pending).order_by(Message.id)
        ):
            status = rescan_message(message, scanner, store)
            report.scanned[status.value] += 1
            if status is ScanStatus.infected:
                report.infected.append(
                    f"message {message.id} « {message.attachment_name} » : {message.attachment_scan_signature}"
                )
    except ScannerUnavailable as exc:
        report.unavailable = str(exc)
    return report
