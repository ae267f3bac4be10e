"""Prompt catalogs: complete in both languages, and every prompt the flows use exists."""
from __future__ import annotations

import ast
from pathlib import Path

from ivr_flows import catalog


def test_both_catalogs_have_the_same_prompts() -> None:
    """An English caller never hits a prompt only the Mandarin catalog has (or the reverse)."""
    assert catalog.keys("zh-CN") == catalog.keys("en-US")


def test_every_prompt_key_used_in_code_exists() -> None:
    """Say("...") keys in the flows all resolve in the catalog."""
    used = set()
    for path in (Path(catalog.__file__).parent).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Say" and node.args:
                if isinstance(node.args[0], ast.Constant):
                    used.add(node.args[0].value)
    assert used and used <= catalog.keys("zh-CN")


def test_digits_are_read_one_by_one() -> None:
    """Report numbers are read digit by digit in each language."""
    assert catalog.spell_digits("zh-CN", "1203") == "幺，二，零，三"
    assert catalog.spell_digits("en-US", "1203") == "one, two, zero, three"
    assert catalog.spell_digits("zh-CN", "110", compact=True) == "幺幺零"
