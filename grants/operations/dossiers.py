"""Every change of a dossier: creation, section saves, attachments, submission, withdrawal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import storage as storage_module
from ..antivirus import Scanner, ScanStatus, scan_upload
from ..dossier_sections import (
    SECTIONS_BY_KEY,
    compute_financing,
    missing_items,
    requested_total,
    submitted_figures,
    submitted_summary,
    submitted_title,
)
from ..extensions import db
from ..finance import STRANDS
from ..formatting import paris_datetime
from ..models import (
    Attachment,
    Call,
    Dossier,
    DossierState,
    DossierVersion,
    ReferenceCounter,
    Structure,
    User,
    utcnow,
)
from ..uploads import check_upload
from ..workflow import check_transition
from .audit import log_action

OPTIONAL_ATTACHMENT_TYPES = [
    {"code": "cer", "label": "Contrat d'engagement républicain (associations)"},
    {"code": "autre", "label": "Autre pièce (facultative)"},
]
# Optional types may hold several files; a required type holds one current file.
MULTIPLE_TYPES = {"autre"}


class DossierError(ValueError):
    """A refused dossier operation; the message is French and shown to the user, next to
    ``field`` (the name of the form field it is about) when there is one."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


DOSSIER_CONFLICT = (
    "Ce dossier a été modifié entre-temps (dans un autre onglet ou par une autre personne "
    "de votre structure). Votre saisie est conservée ci-dessous : vérifiez-la puis "
    "enregistrez à nouveau."
)


class ConflictError(DossierError):
    """Someone saved the same dossier since the form was loaded."""

    def __init__(self, message: str = DOSSIER_CONFLICT) -> None:
        super().__init__(message)


def attachment_types(call: Call) -> list[dict[str, str]]:
    return [*call.required_attachments, *OPTIONAL_ATTACHMENT_TYPES]


def apply_transition(dossier: Dossier, target: DossierState, actor: User, **details: Any) -> None:
    """Change the state through the transition table, with an audit entry."""
    source = dossier.state
    transition = check_transition(source, target, actor.role)
    dossier.state = target
    db.session.flush()
    log_action(
        f"dossier.{target.value}", dossier, actor, from_state=source.value, to_state=target.value,
        details={"label": transition.label, **details},
    )


def create_dossier(call: Call, structure: Structure, actor: User, now: datetime | None = None) -> Dossier:
    if not call.is_open(now or utcnow()):
        raise DossierError(
            f"L'appel « {call.title} » n'est pas ouvert aux dépôts "
            f"(du {paris_datetime(call.opens_at)} au {paris_datetime(call.closes_at)})."
        )
    dossier = Dossier(call=call, structure=structure, created_by_id=actor.id, content={})
    db.session.add(dossier)
    db.session.flush()
    log_action("dossier.create", dossier, actor, to_state=DossierState.draft.value, details={"call": call.code})
    return dossier


def check_version(dossier: Dossier, expected_version: int | str | None) -> None:
    if str(expected_version) != str(dossier.version):
        raise ConflictError()


def save_section(
    dossier: Dossier, key: str, data: dict[str, Any], actor: User, expected_version: int | str | None
) -> None:
    """Store a section of the draft and recompute the financing plan."""
    if key not in SECTIONS_BY_KEY or SECTIONS_BY_KEY[key].form is None:
        raise DossierError("Section inconnue.")
    if not dossier.can_edit_section(actor, key):
        raise DossierError("Cette section n'est pas modifiable dans l'état actuel du dossier.")
    check_version(dossier, expected_version)
    content = {**(dossier.content or {}), key: data}
    dossier.content = content
    if key == "project":
        dossier.title = data.get("title", "")[:300]
    if key in ("public", "resources"):
        _refresh_financing(dossier)
    dossier.updated_at = utcnow()
    db.session.flush()
    log_action("dossier.save_section", dossier, actor, details={"section": key})


def _refresh_financing(dossier: Dossier) -> None:
    result = compute_financing(dossier.call, dossier.content)
    if result is None:
        dossier.finance = None
        dossier.fse_requested_total = dossier.fse_max_total = None
        return
    dossier.finance = result.to_snapshot()
    requested = Decimal("0.00")
    for strand in STRANDS:
        asked = result.inputs[strand].requested
        requested += result.strands[strand]["fse"] if asked is None else asked
    dossier.fse_requested_total = requested
    dossier.fse_max_total = result.totals["fse_max"]


class SiretLocked(DossierError):
    """A member may not change the SIRET once a dossier of the structure was submitted."""

    def __init__(self) -> None:
        super().__init__(
            "Le SIRET ne peut plus être modifié ici : un dossier de la structure a été déposé avec celui-ci. "
            "S'il est erroné, écrivez au service FSE+ de la DREETS, qui le corrigera."
        )


def update_structure(structure: Structure, data: dict[str, Any], actor: User, expected_version: int | str | None) -> dict[str, Any]:
    """A member edits the structure's profile. The SIRET only until a dossier of the structure
    was submitted (then staff change it, :func:`grants.operations.structures.change_siret`);
    a verified structure whose SIRET changes is to verify again."""
    if str(expected_version) != str(structure.version):
        raise ConflictError(
            "Le profil de la structure a été modifié entre-temps par une autre personne. "
            "Votre saisie est conservée ci-dessous : vérifiez-la puis enregistrez à nouveau."
        )
    siret_changes = "siret" in data and data["siret"] != structure.siret
    if siret_changes and not structure.can_change_siret(actor):
        raise SiretLocked()
    changes = {}
    for key, value in data.items():
        if getattr(structure, key) != value:
            changes[key] = [str(getattr(structure, key)), str(value)]
            setattr(structure, key, value)
    if changes:
        db.session.flush()
        log_action("structure.update", structure, actor, details=changes)
    if siret_changes:
        from .structures import unverify

        unverify(structure, actor, "SIRET modifié par un membre de la structure")
    return changes


# Attachments ----------------------------------------------------------------------------


def add_attachment(
    dossier: Dossier, type_code: str, filename: str, data: bytes, actor: User, *,
    store: storage_module.FileStore, max_bytes: int, scanner: Scanner | None = None,
) -> Attachment:
    """Check, scan (when an antivirus is configured) and store a pièce; raises
    :class:`~grants.uploads.UploadRefused` with the French reason, storing nothing."""
    if not dossier.can_edit_attachment_type(actor, type_code):
        raise DossierError("Cette pièce n'est pas modifiable dans l'état actuel du dossier.")
    types = {t["code"]: t for t in attachment_types(dossier.call)}
    if type_code not in types:
        raise DossierError("Type de pièce inconnu pour cet appel.")
    checked = check_upload(filename, data, max_bytes=max_bytes)
    verdict = scan_upload(scanner, data)
    stored = store.save(data)
    now = utcnow()
    replaced = []
    if type_code not in MULTIPLE_TYPES:
        for previous in dossier.current_attachments:
            if previous.type_code == type_code:
                previous.removed_at = now
                replaced.append(previous.display_name)
    attachment = Attachment(
        dossier=dossier, type_code=type_code, display_name=checked.display_name,
        storage_name=stored.name, kind=checked.kind, mime=checked.mime, size=stored.size,
        sha256=stored.sha256, uploaded_by_id=actor.id, uploaded_at=now,
        scan_status=verdict.status, scanned_at=now if verdict.status is ScanStatus.clean else None,
    )
    db.session.add(attachment)
    dossier.updated_at = now
    db.session.flush()
    log_action(
        "dossier.add_attachment", dossier, actor,
        details={"type": type_code, "name": checked.display_name, "sha256": stored.sha256, "replaced": replaced,
                 "scan": verdict.status.value},
    )
    return attachment


def remove_attachment(attachment: Attachment, actor: User) -> None:
    dossier = attachment.dossier
    if not dossier.can_edit_attachment_type(actor, attachment.type_code):
        raise DossierError("Cette pièce n'est pas modifiable dans l'état actuel du dossier.")
    # Soft removal: the file stays, an earlier submitted version may still refer to it.
    attachment.removed_at = utcnow()
    db.session.flush()
    log_action("dossier.remove_attachment", dossier, actor,
               details={"type": attachment.type_code, "name": attachment.display_name})


# Submission -------------------------------------------------------------------------------


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def next_counter(call_id: int, column: str) -> int:
    """Bump one of the call's counters (``last_number``: dossier references,
    ``last_session_number``: committee sessions) in the caller's own transaction: a refused
    operation rolls the number back, and the row lock serialises concurrent callers."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ReferenceCounter).values(call_id=call_id, last_number=0, last_session_number=0)
        .on_conflict_do_nothing()
    )
    counter = getattr(ReferenceCounter, column)
    return db.session.execute(
        update(ReferenceCounter).where(ReferenceCounter.call_id == call_id)
        .values({counter: counter + 1}).returning(counter)
    ).scalar_one()


def dossier_reference(call: Call, number: int) -> str:
    """``AAP-QPV-2023-0003``: the call's code, then the dossier's number in the call (the
    call's code already names its year; references given before this numbering keep theirs)."""
    return f"{call.code}-{number:04d}"


@dataclass
class Submission:
    dossier: Dossier
    version: DossierVersion
    receipt: bytes


def structure_profile(structure: Structure) -> dict[str, Any]:
    fields = ("name", "siret", "legal_form", "address", "postal_code", "commune_insee", "commune_name",
              "departement", "legal_rep_name", "legal_rep_title", "contact_name", "contact_email", "contact_phone")
    return {"kind": structure.kind.value, **{f: getattr(structure, f) for f in fields}}


def submit_dossier(
    dossier: Dossier, actor: User, *, store: storage_module.FileStore, expected_version: int | str | None,
    now: datetime | None = None,
) -> Submission:
    """Freeze the draft, give it a reference and a receipt, or refuse with the reason."""
    now = now or utcnow()
    call = dossier.call
    if not dossier.can_submit(actor):
        raise DossierError("Ce dossier ne peut pas être déposé dans son état actuel.")
    check_version(dossier, expected_version)
    if now >= call.closes_at:
        raise DossierError(
            f"La date limite de dépôt ({paris_datetime(call.closes_at)}, heure de Paris) est dépassée : "
            "le dossier n'a pas été déposé. Votre brouillon est conservé tel quel."
        )
    if now < call.opens_at:
        raise DossierError("L'appel à projets n'est pas encore ouvert aux dépôts.")
    # The financing plan is recomputed with the call's current parameters before freezing.
    _refresh_financing(dossier)
    missing = [item for items in missing_items(dossier).values() for item in items]
    if missing:
        raise DossierError("Le dossier est incomplet : " + " ".join(missing))

    reference = dossier_reference(call, next_counter(call.id, "last_number"))
    dossier.reference = reference
    dossier.submitted_at = now
    version, receipt = freeze_version(dossier, actor, store=store, now=now, kind="submission")
    apply_transition(
        dossier, DossierState.submitted, actor, reference=reference, sha256=version.sha256, version=version.number
    )
    return Submission(dossier, version, receipt)


def freeze_version(
    dossier: Dossier, actor: User, *, store: storage_module.FileStore, now: datetime, kind: str
) -> tuple[DossierVersion, bytes]:
    """Freeze the working copy as a new version with its SHA-256 and a stored receipt."""
    from ..pdf import render_pdf  # WeasyPrint is heavy: loaded on first use only

    call = dossier.call
    number = len(dossier.versions) + 1
    attachments = [
        {
            "id": a.id, "type_code": a.type_code,
            "type_label": next((t["label"] for t in attachment_types(call) if t["code"] == a.type_code), a.type_code),
            "display_name": a.display_name, "size": a.size, "sha256": a.sha256,
        }
        for a in dossier.current_attachments
    ]
    snapshot = {
        "reference": dossier.reference,
        "version": number,
        "kind": kind,
        "submitted_at": dossier.submitted_at.isoformat(),
        "frozen_at": now.isoformat(),
        "submitted_by": {"id": actor.id, "name": actor.full_name, "email": actor.email},
        "call": {"code": call.code, "title": call.title, "closes_at": call.closes_at.isoformat()},
        "structure": structure_profile(dossier.structure),
        "content": dossier.content,
        "attachments": attachments,
        "finance": dossier.finance,
    }
    digest = hashlib.sha256(canonical_json(snapshot)).hexdigest()
    version = DossierVersion(
        dossier=dossier, number=number, kind=kind, snapshot=snapshot, sha256=digest,
        created_at=now, created_by_id=actor.id,
    )
    db.session.add(version)
    record_submitted_figures(dossier, number, dossier.finance)
    record_submitted_content(dossier, snapshot)
    db.session.flush()
    context = receipt_context(dossier, version, generated_at=now)
    receipt = render_pdf("pdf/receipt.html", context, title=f"Accusé de réception {dossier.reference}")
    stored = store.save(receipt)
    version.receipt_file = stored.name
    version.receipt_sha256 = stored.sha256
    db.session.flush()
    return version, receipt


def record_submitted_figures(dossier: Dossier, number: int, finance: dict[str, Any] | None) -> None:
    """Copy onto the dossier what version ``number`` (whose plan is ``finance``) asked for."""
    figures = submitted_figures(finance)
    dossier.submitted_version = number
    dossier.submitted_figures = figures
    dossier.submitted_fse_requested = requested_total(figures)
    dossier.submitted_fse_max = Decimal(figures["result"]["totals"]["fse_max"]) if figures else None


def record_submitted_content(dossier: Dossier, snapshot: dict[str, Any]) -> None:
    """Copy onto the dossier what officers read of a frozen version besides its figures: the
    title (the working copy's title changes as soon as an applicant answering complements
    saves the project section) and the exports' summary."""
    dossier.submitted_title = submitted_title(snapshot)
    dossier.submitted_summary = submitted_summary(snapshot)


def receipt_context(dossier: Dossier, version: DossierVersion, generated_at: datetime) -> dict[str, Any]:
    from ..pdf import document_fingerprint

    snapshot = version.snapshot
    context = {
        "reference": snapshot["reference"],
        "call": snapshot["call"],
        "structure": snapshot["structure"],
        "submitted_at": datetime.fromisoformat(snapshot.get("frozen_at", snapshot["submitted_at"])),
        "submitted_by": snapshot["submitted_by"]["name"],
        "snapshot_sha256": version.sha256,
        "version_number": version.number,
        "project_title": (snapshot["content"].get("project") or {}).get("title", ""),
        "attachments": snapshot["attachments"],
        "fse_requested_total": dossier.fse_requested_total,
        "generated_at": generated_at,
    }
    context["document_hash"] = document_fingerprint(context)
    return context


def withdraw_dossier(dossier: Dossier, actor: User) -> None:
    if not dossier.can_withdraw(actor):
        raise DossierError("Ce dossier ne peut pas être retiré dans son état actuel.")
    dossier.withdrawn_at = utcnow()
    apply_transition(dossier, DossierState.withdrawn, actor)
