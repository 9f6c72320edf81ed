"""The domain model. Import models from here."""

from .audit import AuditEntry
from .dossiers import (
    SUBMITTED_STATES,
    TERMINAL_STATES,
    Attachment,
    Dossier,
    DossierState,
    DossierVersion,
    ReferenceCounter,
)
from .instruction import (
    AdmissibilityOutcome,
    AdmissibilityReview,
    ComplementRequest,
    Instruction,
    Message,
    Opinion,
)
from .committee import AgendaItem, CommitteeSession, Decision, SessionStatus
from .documents import FicheRender
from .calls import DEFAULT_ADMISSIBILITY_CRITERIA, DEFAULT_REQUIRED_ATTACHMENTS, Call
from .qpv import Qpv, QpvCommune, QpvList
from .registrations import RegistrationRequest
from .structures import STRUCTURE_KIND_TITLES, Structure, StructureKind, StructureVerification
from .types import Base, Money, Rate, UTCDateTime, utcnow
from .users import ROLE_TITLES, Role, User

__all__ = [
    "AgendaItem", "CommitteeSession", "Decision", "SessionStatus",
    "AdmissibilityOutcome", "AdmissibilityReview", "ComplementRequest", "Instruction", "Message", "Opinion",
    "Attachment", "Dossier", "DossierState", "DossierVersion", "ReferenceCounter", "SUBMITTED_STATES",
    "TERMINAL_STATES",
    "AuditEntry", "Base", "FicheRender", "Call", "DEFAULT_ADMISSIBILITY_CRITERIA", "DEFAULT_REQUIRED_ATTACHMENTS",
    "Money", "Qpv", "QpvCommune", "QpvList", "ROLE_TITLES", "Rate", "RegistrationRequest", "Role", "STRUCTURE_KIND_TITLES",
    "Structure", "StructureKind", "StructureVerification", "UTCDateTime", "User", "utcnow",
]
