"""The hotline's main menu, which every branch of the hotline comes back to."""
from __future__ import annotations

from typing import Any

from ivr_flows.actions import Action, Say, Turn
from ivr_flows.common import evolve, menu
from ivr_flows.hotline_context import HotlineContext


def main_menu_actions(ctx: HotlineContext) -> tuple[Action, ...]:
    """Residents: 1 report, 2 status, 0 grid worker, 9 language. Staff also hear 3: their reports."""
    return (menu(Say("main_menu_staff" if ctx.caller_is_staff else "main_menu")),)


def to_main_menu(state: dict[str, Any], ctx: HotlineContext, before: tuple[Action, ...] = ()) -> Turn:
    """Back to the main menu (after saying `before`), with a fresh silence ladder."""
    return Turn(evolve(state, node="main_menu", silences=0), (*before, *main_menu_actions(ctx)))
