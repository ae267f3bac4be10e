"""The only module that knows TwiML: flow actions in, VoiceResponse XML out; SMS replies as MessagingResponse."""
from __future__ import annotations

from collections.abc import Callable, Sequence

from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Gather as TwiGather
from twilio.twiml.voice_response import VoiceResponse

from ivr_flows import catalog
from ivr_flows.actions import Action, Dial, Gather, Hangup, Pause, Play, Record, Say
from telephony.config import Settings

# expect -> the action URL for that kind of input (the step number is in the URL too)
StepUrl = Callable[[str], str]


def voice_for(settings: Settings, language: str) -> tuple[str, str]:
    """<Say> voice and language for a catalog language (configurable per deployment)."""
    if catalog.supported(language) == "en-US":
        return settings.say_voice_en, settings.say_language_en
    return settings.say_voice_zh, settings.say_language_zh


def _speak(target: VoiceResponse | TwiGather, item: Say | Pause | Play, language: str, settings: Settings) -> None:
    if isinstance(item, Pause):
        target.pause(length=item.seconds)
    elif isinstance(item, Play):
        target.play(item.url)
    else:
        prompt = catalog.prompt(language, item.key, item.params)
        if prompt.play_url:
            target.play(prompt.play_url)
        else:
            voice, lang = voice_for(settings, language)
            target.say(prompt.text, voice=voice, language=lang)


def render(
    actions: Sequence[Action],
    language: str,
    settings: Settings,
    step_url: StepUrl,
    recording_callback_url: str,
) -> str:
    """Render one turn. Every wait carries an action URL with the expected input kind."""
    response = VoiceResponse()
    for action in actions:
        if isinstance(action, (Say, Pause, Play)):
            _speak(response, action, language, settings)
        elif isinstance(action, Gather):
            gather = response.gather(
                input="dtmf",
                num_digits=action.num_digits,
                timeout=action.timeout,
                finish_on_key=action.finish_on_key,
                action=step_url("digits"),
                method="POST",
                action_on_empty_result=True,
            )
            for item in action.prompts:
                _speak(gather, item, language, settings)
        elif isinstance(action, Record):
            response.record(
                action=step_url("record"),
                method="POST",
                max_length=action.max_length,
                finish_on_key=action.finish_on_key,
                timeout=action.timeout,
                play_beep=True,
                recording_status_callback=recording_callback_url,
                recording_status_callback_method="POST",
                recording_status_callback_event="completed absent",
            )
            # <Record> that hears nothing falls through to the next verb instead of the action.
            response.redirect(step_url("norecord"), method="POST")
        elif isinstance(action, Dial):
            response.dial(action.number, action=step_url("dial"), method="POST", timeout=action.timeout)
        elif isinstance(action, Hangup):
            response.hangup()
    return str(response)


def hangup_only() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


_NOT_XML = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


def message_reply(text: str) -> str:
    """The answer to an incoming text: one <Message>, or none at all when there is nothing to say.

    Control characters (which XML cannot carry) are dropped: a reply that echoes what a phone sent
    must still be valid TwiML.
    """
    response = MessagingResponse()
    clean = text.translate(_NOT_XML)
    if clean:
        response.message(clean)
    return str(response)
