"""A bilan of docs/finance.md's dossier (40 young people on repérage instead of 150), as a
``--bilan`` simulator input: shared by the simulator and console-script tests."""

from __future__ import annotations

from decimal import Decimal as D

from grants.finance import FinanceRules, Post

CHARGEE = Post("Chargée de mission repérage", D("41250.00"), D("1"), 24)
ANIMATEUR = Post("Animateur « aller vers »", D("33600.00"), D("0.5"), 18)
CRE = Post("Chargé relations entreprises", D("38500.00"), D("0.8"), 20)

BILAN = {
    "rules": FinanceRules.default().to_dict(),
    "strands": {
        "reperage": {"nb_jeunes_qpv": 40, "posts": [p.to_dict() for p in (CHARGEE, ANIMATEUR)],
                     "other_cofinancing": "10000.00", "requested": "120000.00"},
        "sortie_emploi": {"nb_jeunes_qpv": 60, "posts": [CRE.to_dict()], "other_cofinancing": "0.00"},
    },
    "granted": {"reperage": "120000.00", "sortie_emploi": "66159.99"},
    "paid": "55847.99",
}


