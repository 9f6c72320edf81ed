"""Files of a dossier, served to every user allowed to see the dossier, as attachments."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import abort, current_app, render_template, send_file
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import antivirus, storage
from ..access import get_attachment_or_404, get_dossier_or_404
from ..extensions import db
from ..models import Attachment, Dossier, Message
from ..operations import antivirus as scan_ops
from ..operations.audit import log_download
from ..operations.documents import notification_letter
from ..security import login_required_any
from . import bp


PREVIEWABLE = {"application/pdf", "image/png", "image/jpeg"}


def send_stored(name: str, download_name: str, mimetype: str, sha256: str, *, inline: bool = False) -> Response:
    """A stored file, checked against its SHA-256, as a download that is never cached."""
    store = storage.current_store()
    data = store.read(name)
    if storage.sha256_hex(data) != sha256:
        current_app.logger.error("stored file %s does not match its SHA-256", name)
        abort(500)
    return send_bytes(data, download_name, mimetype, inline=inline)


def send_bytes(data: bytes, download_name: str, mimetype: str, *, inline: bool = False) -> Response:
    """``data`` as a download (or shown inline) that browsers never sniff nor cache."""
    response = send_file(BytesIO(data), mimetype=mimetype, as_attachment=not inline, download_name=download_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def audited(response: Response, obj: Any, kind: str, name: str, **details: Any) -> Response:
    """``response`` once the download is on the audit trail of ``obj`` (a dossier, or a
    committee session for its pack and minutes) when staff or a committee member made it
    (committed: if the entry cannot be written, the file is not sent)."""
    if log_download(obj, current_user._get_current_object(), kind, name, **details) is not None:
        db.session.commit()
    return response


def refuse_unscanned(item: Attachment | Message, dossier: Dossier) -> tuple[str, int] | None:
    """The page explaining why a file cannot be downloaded yet (or at all), or None.

    A pending file is scanned again first: clamd may be back since the upload."""
    is_attachment = isinstance(item, Attachment)
    status = item.scan_status if is_attachment else item.attachment_scan_status
    scanner = antivirus.current_scanner()
    if status is antivirus.ScanStatus.pending and scanner is not None:
        rescan = scan_ops.rescan_attachment if is_attachment else scan_ops.rescan_message
        try:
            status = rescan(item, scanner, storage.current_store())  # type: ignore[arg-type]
            db.session.commit()
        except antivirus.ScannerUnavailable as exc:
            db.session.rollback()
            current_app.logger.warning("antivirus unavailable: %s", exc)
    if status is None or status.downloadable:
        return None
    name = item.display_name if is_attachment else item.attachment_name
    signature = item.scan_signature if is_attachment else item.attachment_scan_signature
    page = render_template("dossiers/file_unavailable.html", name=name, status=status, signature=signature,
                           dossier=dossier)
    return page, 409 if status is antivirus.ScanStatus.pending else 403


@bp.route("/<int:dossier_id>/pieces/<int:attachment_id>")
@login_required_any
def download_attachment(dossier_id: int, attachment_id: int) -> Response | tuple[str, int]:
    dossier = get_dossier_or_404(dossier_id)
    attachment = get_attachment_or_404(dossier, attachment_id)
    refused = refuse_unscanned(attachment, dossier)
    if refused is not None:
        return refused
    response = send_stored(attachment.storage_name, attachment.display_name, attachment.mime, attachment.sha256)
    return audited(response, dossier, "attachment", attachment.display_name,
                   attachment_id=attachment.id, sha256=attachment.sha256)


@bp.route("/<int:dossier_id>/versions/<int:number>/accuse-reception.pdf")
@login_required_any
def download_receipt(dossier_id: int, number: int) -> Response:
    dossier = get_dossier_or_404(dossier_id)
    version = next((v for v in dossier.versions if v.number == number), None)
    if version is None or version.receipt_file is None:
        abort(404)
    name = f"accuse-reception-{dossier.reference}-v{number}.pdf"
    response = send_stored(version.receipt_file, name, "application/pdf", version.receipt_sha256)
    return audited(response, dossier, "receipt", name, version=number, sha256=version.receipt_sha256)


@bp.route("/<int:dossier_id>/notification.pdf")
@login_required_any
def download_letter(dossier_id: int) -> Response:
    """The letter notifying the dossier's decision, once issued (see notification_letter)."""
    dossier = get_dossier_or_404(dossier_id)
    letter = notification_letter(dossier)
    if letter is None:
        abort(404)
    name = f"notification-{dossier.reference}.pdf"
    response = send_stored(letter.file, name, "application/pdf", letter.sha256)
    return audited(response, dossier, "letter", name, sha256=letter.sha256)


@bp.route("/<int:dossier_id>/pieces/<int:attachment_id>/apercu")
@login_required_any
def preview_attachment(dossier_id: int, attachment_id: int) -> Response | tuple[str, int]:
    """PDFs and images shown in the browser; their type was checked from content at upload."""
    dossier = get_dossier_or_404(dossier_id)
    attachment = get_attachment_or_404(dossier, attachment_id)
    refused = refuse_unscanned(attachment, dossier)
    if refused is not None:
        return refused
    details = {"attachment_id": attachment.id, "sha256": attachment.sha256}
    if attachment.mime not in PREVIEWABLE:
        response = send_stored(attachment.storage_name, attachment.display_name, attachment.mime, attachment.sha256)
        return audited(response, dossier, "attachment", attachment.display_name, **details)
    response = send_stored(
        attachment.storage_name, attachment.display_name, attachment.mime, attachment.sha256, inline=True
    )
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    )
    return audited(response, dossier, "attachment_preview", attachment.display_name, **details)
