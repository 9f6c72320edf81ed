"""Reading the simulator's JSON input into rules and strand inputs, with field paths.

The structure (objects, lists, required and unknown keys) is checked here; the values
are checked by the constructors of :class:`FinanceRules`, :class:`Post` and
:class:`StrandInput`, whose errors are re-raised under the full path of the field
(``strands.reperage.posts[0].fte``).  Raw JSON values are handed to those constructors
as they are: they accept any object and refuse what is not a valid value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TypeVar

from .compute import Post, StrandInput
from .money import FinanceInputError, FloatLiteral, describe
from .rules import STRANDS, FinanceRules

__all__ = [
    "ROOT",
    "load_json",
    "parse_bilan_input",
    "parse_input",
    "parse_post",
    "parse_rules",
    "parse_strand",
    "parse_strands",
]

#: Name given to the whole document in error messages.
ROOT = "(racine)"

_RULES_KEYS = ("fse_rate", "cej_forfait_per_youth", "strand_share", "flat_rate_other_costs")
_STRAND_KEYS = ("nb_jeunes_qpv", "posts", "other_cofinancing")
_STRAND_OPTIONAL = ("requested",)
_POST_KEYS = ("label", "annual_cost", "fte", "months")
_POST_OPTIONAL = ("category",)

# French wording of the json module's syntax errors (the message prefix is stable).
_JSON_MESSAGES = {
    "Expecting value": "valeur attendue",
    "Expecting property name enclosed in double quotes": "nom de champ entre guillemets attendu",
    "Expecting ',' delimiter": "virgule attendue",
    "Expecting ':' delimiter": "deux-points attendus",
    "Extra data": "contenu en trop après l'objet JSON",
    "Unterminated string starting at": "chaîne non terminée",
    "Invalid control character at": "caractère de contrôle dans une chaîne",
    "Invalid \\escape": "séquence d'échappement invalide",
}

T = TypeVar("T")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json keeps the last of two equal keys silently; an amount typed twice must not pass.
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def load_json(text: str, source: str) -> object:
    """Parse JSON keeping float literals as :class:`FloatLiteral` (to refuse them later).

    ``source`` names the document (file path or ``entrée standard``) in error messages.
    """
    try:
        return json.loads(
            text,
            parse_float=FloatLiteral,
            parse_constant=FloatLiteral,  # NaN, Infinity, -Infinity
            object_pairs_hook=_reject_duplicates,
        )
    except json.JSONDecodeError as error:
        reason = next(
            (fr for en, fr in _JSON_MESSAGES.items() if error.msg.startswith(en)),
            "syntaxe incorrecte",
        )
        raise FinanceInputError(
            source,
            f"JSON invalide ligne {error.lineno}, colonne {error.colno} : {reason}",
        ) from None
    except _DuplicateKey as error:
        raise FinanceInputError(
            source, f"JSON invalide : champ « {error.key} » présent deux fois dans un objet"
        ) from None
    except RecursionError:
        raise FinanceInputError(source, "JSON invalide : imbrication trop profonde") from None
    except ValueError:
        # int() refuses integers of more than 4300 digits.
        raise FinanceInputError(source, "JSON invalide : nombre trop long") from None


def _object(
    data: object, path: str, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> Mapping[str, object]:
    """Check that ``data`` is an object with the required keys and no unknown one."""
    if not isinstance(data, dict):
        raise FinanceInputError(path or ROOT, f"objet attendu, reçu {describe(data)}")
    for key in data:
        if key not in required and key not in optional:
            raise FinanceInputError(_join(path, key), "champ inconnu")
    for key in required:
        if key not in data:
            raise FinanceInputError(_join(path, key), "champ obligatoire manquant")
    return data


def _build(path: str, factory: Callable[[], T]) -> T:
    """Run a validating constructor, placing its errors under ``path``."""
    try:
        return factory()
    except FinanceInputError as error:
        raise error.with_prefix(path) from None


def parse_rules(data: object, path: str = "rules") -> FinanceRules:
    """Read the ``"rules"`` object."""
    rules = _object(data, path, _RULES_KEYS)
    share_path = _join(path, "strand_share")
    shares = rules["strand_share"]
    if not isinstance(shares, dict):
        raise FinanceInputError(share_path, f"objet attendu, reçu {describe(shares)}")
    return _build(
        path,
        lambda: FinanceRules(
            fse_rate=rules["fse_rate"],
            cej_forfait_per_youth=rules["cej_forfait_per_youth"],
            strand_share=shares,
            flat_rate_other_costs=rules["flat_rate_other_costs"],
        ),
    )


def parse_post(data: object, path: str) -> Post:
    """Read one resource line (``category`` is optional and defaults to ``staff``)."""
    post = _object(data, path, _POST_KEYS, _POST_OPTIONAL)
    return _build(
        path,
        lambda: Post(
            label=post["label"],
            annual_cost=post["annual_cost"],
            fte=post["fte"],
            months=post["months"],
            category=post.get("category", "staff"),
        ),
    )


def parse_strand(data: object, path: str) -> StrandInput:
    """Read one strand (``requested`` is optional: absent or ``null`` means no cap)."""
    strand = _object(data, path, _STRAND_KEYS, _STRAND_OPTIONAL)
    posts_path = _join(path, "posts")
    raw_posts = strand["posts"]
    if not isinstance(raw_posts, list):
        raise FinanceInputError(posts_path, f"liste attendue, reçu {describe(raw_posts)}")
    posts = tuple(
        parse_post(item, f"{posts_path}[{index}]") for index, item in enumerate(raw_posts)
    )
    return _build(
        path,
        lambda: StrandInput(
            nb_jeunes_qpv=strand["nb_jeunes_qpv"],
            posts=posts,
            other_cofinancing=strand["other_cofinancing"],
            requested=strand.get("requested"),
        ),
    )


def parse_strands(data: object, path: str = "strands") -> dict[str, StrandInput]:
    """Read the ``"strands"`` object: both strands are required, no other is allowed."""
    if not isinstance(data, dict):
        raise FinanceInputError(path, f"objet attendu, reçu {describe(data)}")
    for key in data:
        if key not in STRANDS:
            raise FinanceInputError(
                _join(path, key), f"volet inconnu (volets attendus : {', '.join(STRANDS)})"
            )
    _object(data, path, STRANDS)
    return {strand: parse_strand(data[strand], _join(path, strand)) for strand in STRANDS}


def parse_input(data: object) -> tuple[FinanceRules, dict[str, StrandInput]]:
    """Read a whole simulator input: ``{"rules": {…}, "strands": {…}}``."""
    document = _object(data, "", ("rules", "strands"))
    rules = parse_rules(document["rules"], "rules")
    strands = parse_strands(document["strands"], "strands")
    return rules, strands


def parse_bilan_input(data: object) -> tuple[FinanceRules, dict[str, StrandInput], dict[str, object], object]:
    """Read a ``--bilan`` input: the request's ``rules`` and ``strands`` (with the realised
    figures; a ``requested`` is accepted and ignored), ``granted`` (an amount per strand, a
    strand left out is granted 0.00) and ``paid`` (the total already paid)."""
    document = _object(data, "", ("rules", "strands", "granted", "paid"))
    rules = parse_rules(document["rules"], "rules")
    strands = parse_strands(document["strands"], "strands")
    granted = document["granted"]
    if not isinstance(granted, dict):
        raise FinanceInputError("granted", f"objet attendu, reçu {describe(granted)}")
    for key in granted:
        if key not in STRANDS:
            raise FinanceInputError(f"granted.{key}", f"volet inconnu (volets attendus : {', '.join(STRANDS)})")
    return rules, strands, granted, document["paid"]
