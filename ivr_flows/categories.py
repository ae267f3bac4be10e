"""Report categories, keyed as callers press them. Labels live in the prompt catalogs."""
from __future__ import annotations

from ivr_flows import catalog

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


def spoken(language: str, category: str) -> str:
    """A category as callers hear it ("公共设施报修"); one the catalog does not know is "other"."""
    key = f"category_{category}"
    return catalog.text(language, key if key in catalog.keys(language) else "category_other")
