"""Pieces every flow shares: the silence ladder, '*' to repeat, state updates."""
from __future__ import annotations

from typing import Any

from ivr_flows.actions import Action, Effect, Gather, Hangup, Pause, QueueCallBack, RecordAnswer, Say, Turn
from ivr_flows.answers import NO_ANSWER

MAX_SILENCES = 2  # re-prompt twice; the third silence ends the call politely
MAX_STEPS_PER_REQUEST = 8  # loop guard for hosts that feed effect results back in


def evolve(state: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of state with changes (flows never mutate their input)."""
    new = dict(state)
    new.update(changes)
    return new


def menu(*prompts: Say, num_digits: int = 1, finish_on_key: str = "", timeout: int = 6) -> Gather:
    """A key-press menu with a short pause first: elderly callers need a moment."""
    return Gather((Pause(1), *prompts), num_digits=num_digits, finish_on_key=finish_on_key, timeout=timeout)


def silence(
    state: dict[str, Any],
    reprompt: tuple[Action, ...],
    give_up: tuple[Action, ...],
    give_up_effects: tuple[Effect, ...] = (),
) -> Turn:
    """The silence ladder: say we heard nothing and re-prompt twice, then give up politely."""
    count = int(state.get("silences", 0)) + 1
    if count > MAX_SILENCES:
        return Turn(evolve(state, silences=count, node="ended"), (*give_up, Hangup()), give_up_effects)
    return Turn(evolve(state, silences=count), (Say("no_input"), *reprompt))


def callback_on_silence(state: dict[str, Any], reprompt: tuple[Action, ...]) -> Turn:
    """Inbound silence ladder: after the last re-prompt the community owes the caller a call.

    On a call that already is the community calling back (state "returning"), silence is an
    unanswered attempt instead: the call-back's own retry schedule rings again, no second call-back.
    """
    if state.get("returning"):
        return silence(state, reprompt, (Say("will_call_back"),), (RecordAnswer(NO_ANSWER),))
    return silence(state, reprompt, (Say("will_call_back"),), (QueueCallBack("missed_call_return"),))
