"""Russian personal names with correct gendered surname forms."""

from __future__ import annotations

import random

from .vocab import FEMALE_NAMES, MALE_NAMES, PATRONYMIC_ROOTS, SURNAMES, TRANSLIT


def surname_form(surname: str, female: bool) -> str:
    if not female:
        return surname
    if surname.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return surname + "а"
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    return surname  # Ким, Шевченко, ... do not decline


def patronymic(root: str, female: bool) -> str:
    return root + ("на" if female else "ич")


def full_name(rng: random.Random, female: bool) -> tuple[str, str, str]:
    """(first name, surname, patronymic)."""
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    return (
        first,
        surname_form(rng.choice(SURNAMES), female),
        patronymic(rng.choice(PATRONYMIC_ROOTS), female),
    )


def translit(text: str) -> str:
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower())
