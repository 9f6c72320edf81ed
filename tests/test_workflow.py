"""The transition table against docs/lifecycle.md, written out here by hand: every (from, to, role)
combination is either allowed, as listed, or refused with a French message."""

from __future__ import annotations

import itertools

import pytest

from grants.models import DossierState, Role
from grants.workflow import TRANSITIONS, TransitionRefused, check_transition

A, OFF, C, ADM = Role.applicant, Role.officer, Role.committee, Role.admin
# docs/lifecycle.md; "officer" rows are also the admin's (an admin does everything an officer does),
# plus the audited reopening of an inadmissibility (§3, "Terminal").
ALLOWED = {
    ("draft", "submitted"): {A},
    ("submitted", "complements_requested"): {OFF, ADM},
    ("complements_requested", "submitted"): {A},
    ("submitted", "admissible"): {OFF, ADM},
    ("submitted", "inadmissible"): {OFF, ADM},
    ("admissible", "instructed"): {OFF, ADM},
    ("instructed", "selected"): {OFF, ADM},
    ("instructed", "rejected"): {OFF, ADM},
    ("instructed", "deferred"): {OFF, ADM},
    ("deferred", "instructed"): {OFF, ADM},
    # Correcting the committee's decision while its session is held (the closing freezes it).
    ("selected", "rejected"): {OFF, ADM},
    ("selected", "deferred"): {OFF, ADM},
    ("rejected", "selected"): {OFF, ADM},
    ("rejected", "deferred"): {OFF, ADM},
    ("deferred", "selected"): {OFF, ADM},
    ("deferred", "rejected"): {OFF, ADM},
    ("inadmissible", "submitted"): {OFF, ADM},
    ("draft", "withdrawn"): {A},
    ("submitted", "withdrawn"): {A},
    ("complements_requested", "withdrawn"): {A},
}
CASES = list(itertools.product(DossierState, DossierState, Role))


@pytest.mark.parametrize(("source", "target", "role"), CASES, ids=[f"{s.value}-{t.value}-{r.value}" for s, t, r in CASES])
def test_transition_matrix(source: DossierState, target: DossierState, role: Role) -> None:
    if role in ALLOWED.get((source.value, target.value), set()):
        assert check_transition(source, target, role).label
    else:
        with pytest.raises(TransitionRefused) as refused:
            check_transition(source, target, role)
        assert "ne peut pas passer" in str(refused.value) or "Votre rôle ne permet pas" in str(refused.value)


def test_terminal_states_only_leave_by_the_audited_reopening_or_a_correction() -> None:
    """A committee decision is corrected only while its session is held (the operation's
    guard, tests/operations/test_committee_corrections.py); withdrawal is final."""
    terminal = {"selected", "rejected", "withdrawn"}
    assert {(t.source.value, t.target.value, t.label) for t in TRANSITIONS if t.source.value in terminal} == {
        (source, target, "Corriger la décision du comité")
        for source in ("selected", "rejected") for target in ("selected", "rejected", "deferred") if source != target
    }
    assert [(t.source.value, t.target.value) for t in TRANSITIONS if t.source.value == "inadmissible"] == [
        ("inadmissible", "submitted")
    ]


def test_the_committee_never_changes_a_state() -> None:
    assert all(C not in t.roles for t in TRANSITIONS)
