"""Report categories, keyed as callers press them. Labels live in the prompt catalogs."""
from __future__ import annotations

CATEGORY_KEYS: dict[str, str] = {
    "1": "safety",  # safety hazard
    "2": "environment",  # environment and sanitation
    "3": "facility",  # public facility repair
    "4": "dispute",  # neighbour dispute
    "5": "vulnerable_person",  # an elderly or vulnerable person needs help
    "6": "other",
}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_KEYS.values())
DEFAULT_URGENT: tuple[str, ...] = ("safety", "vulnerable_person")


def is_urgent(category: str, urgent_categories: tuple[str, ...] = DEFAULT_URGENT) -> bool:
    return category in urgent_categories
