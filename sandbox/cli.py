"""`python -m sandbox.cli`: the sandbox phone for scripts and demos, through the same JSON API as the page.

    python -m sandbox.cli call --from 13800000004 --keys 1,2 --say tests/audio/sewer_smell.tel.wav
    python -m sandbox.cli answer --number 13900000201 --keys 1 --wait 60
    python -m sandbox.cli decline --number 13900000201
    python -m sandbox.cli ring-out --number 13900000201
    python -m sandbox.cli text --from 13800000004 "楼道灯坏了，3号楼"
    python -m sandbox.cli thread 13800000004

It needs the sandbox running (`python -m sandbox`); --url (or SANDBOX_URL) says where.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import requests

FINAL = ("completed", "busy", "no-answer", "failed", "canceled")
MAX_ACTIONS = 200  # a walk that never ends is a flow bug, not something to loop on


def default_url() -> str:
    return os.environ.get("SANDBOX_URL") or f"http://127.0.0.1:{os.environ.get('SANDBOX_PORT') or 5001}"


class Phone:
    """The JSON API over HTTP, with errors a person can act on."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def request(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        headers = {"X-Sandbox-Phone": "1"} if method == "POST" else {}
        try:
            resp = requests.request(method, self.url + path, headers=headers, timeout=kw.pop("timeout", 60), **kw)
        except requests.ConnectionError as exc:
            raise click.ClickException(
                f"the sandbox phone is not running at {self.url}: start it with `python -m sandbox` "
                "(or pass --url / set SANDBOX_URL)") from exc
        except requests.RequestException as exc:
            raise click.ClickException(f"the sandbox at {self.url} did not answer ({exc.__class__.__name__})") from exc
        try:
            body: dict[str, Any] = resp.json()
        except ValueError:
            raise click.ClickException(f"{self.url} is not the sandbox phone (HTTP {resp.status_code} on {path})") from None
        if resp.status_code >= 400:
            raise click.ClickException(str(body.get("error") or f"HTTP {resp.status_code} on {path}"))
        return body

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        return self.request("GET", path, params=params, timeout=60)

    def post(self, path: str, **kw: Any) -> dict[str, Any]:
        return self.request("POST", path, **kw)

    def line(self, number: str) -> str:
        """The number as the sandbox keys its lines (E.164), or the sandbox's reason why it is no number."""
        return str(self.post("/phone/api/lines", json={"number": number})["number"])

    def events(self, number: str, after: int, wait: float = 0.0) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
        body = self.get(f"/phone/api/lines/{quote(number)}/events", after=after, wait=wait)
        return body["events"], int(body["last_id"]), body["calls"]


def show(event: dict[str, Any], echo: Any = click.echo) -> None:
    """An event as the caller would hear or see it."""
    kind = event["kind"]
    if kind == "say":
        echo(f"  {event['text']}")
    elif kind == "play":
        echo(f"  <play {event['url']}>")
    elif kind == "record":
        echo("  <beep: recording>" if event.get("play_beep") else "  <recording>")
    elif kind == "recorded":
        note = f" - {event['note']}" if event.get("note") else ""
        echo(f"> speaks for {event['duration']} s (recording {event['recording_sid']}){note}")
    elif kind == "ended":
        detail = f": {event['detail']}" if event.get("detail") else ""
        echo(f"<call {event['status']}, {event['reason']}{detail}>")
    elif kind == "error":
        echo(f"! {event['message']}")
    elif kind == "incoming":
        echo(f"<ringing: {event['from']} calls {event['call_sid']}>")
    elif kind == "sms":
        arrow = "<" if event["direction"] == "to-phone" else ">"
        echo(f"{arrow} SMS {event['body']}")


def parse_keys(keys: str) -> list[str]:
    return [k.strip() for k in keys.split(",")] if keys else []


def drive(phone: Phone, number: str, call_sid: str, last: int, keys: list[str], says: list[Path],
          hangup_during_recording: bool = False) -> str:
    """Follow one call to its end, printing what is heard; returns its final status."""
    pending, speeches = list(keys), list(says)
    for _ in range(MAX_ACTIONS):
        events, last, _calls = phone.events(number, last)
        for event in events:
            if event.get("call_sid") in (call_sid, None):
                show(event)
        call = phone.get(f"/phone/api/calls/{call_sid}")["call"]
        if call["status"] in FINAL:
            return str(call["status"])
        waiting = call["waiting"] or {}
        base = f"/phone/api/calls/{call_sid}"
        if waiting.get("kind") == "gather":
            if not pending:
                click.echo("(no keys left: hanging up; e.g. --keys 1,2 --say FILE.wav files a report)")
                phone.post(base + "/hangup")
            elif (key := pending.pop(0)) == "":
                click.echo("> (silence)")
                phone.post(base + "/silence")
            else:
                click.echo(f"> press {key}")
                phone.post(base + "/keys", json={"keys": key})
        elif waiting.get("kind") == "record":
            if not speeches:
                click.echo("(the flow asks for a recording and no --say file is left: hanging up)")
                phone.post(base + "/hangup")
                continue
            path = speeches.pop(0)
            finish = "hangup" if hangup_during_recording else "#"
            with path.open("rb") as audio:
                phone.post(base + "/recording", files={"audio": (path.name, audio, "audio/wav")}, data={"finish": finish})
        else:
            time.sleep(0.2)  # between webhooks: nothing to do yet
    raise click.ClickException(f"the call did not end after {MAX_ACTIONS} actions: stopping")


def ringing(phone: Phone, number: str, wait: float) -> tuple[str, int]:
    """The call-back ringing this number now or within `wait` seconds; and the event id to read on from."""
    _events, last, calls = phone.events(number, -1)
    deadline = time.monotonic() + wait
    while True:
        found = next((c for c in calls if c["status"] == "ringing"), None)
        if found is not None:
            click.echo(f"<ringing: {found['from']} calls {number} ({found['call_sid']})>")
            return str(found["call_sid"]), last
        left = deadline - time.monotonic()
        if left <= 0:
            raise click.ClickException(f"no call rang {number} within {wait:g} s")
        _events, last, calls = phone.events(number, last, wait=min(left, 20))


HELP = """The sandbox phone for scripts and demos, through the same JSON API as the page.

\b
""" + "\n".join(__doc__.strip().splitlines()[2:])


@click.group(help=HELP)
@click.option("--url", default=default_url, show_default="SANDBOX_URL or http://127.0.0.1:$SANDBOX_PORT",
              help="Where the sandbox phone runs.")
@click.pass_context
def cli(ctx: click.Context, url: str) -> None:
    ctx.obj = Phone(url)


keys_option = click.option("--keys", default="",
                           help='Key presses, one item per menu: "1,2" or "1,3,5#"; an empty item is silence.')
say_option = click.option("--say", "says", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                          help="Audio spoken at each recording the flow asks for, in order (WAV, or any audio ffmpeg reads).")


@cli.command()
@click.option("--from", "from_number", required=True, help="The phone's number (a registry person's, or any).")
@keys_option
@say_option
@click.option("--hangup-during-recording", is_flag=True, help="Hang up while speaking: only the recording callback follows.")
@click.pass_obj
def call(phone: Phone, from_number: str, keys: str, says: tuple[Path, ...], hangup_during_recording: bool) -> None:
    """Call the hotline from a number and follow the flow."""
    number = phone.line(from_number)
    _events, last, _calls = phone.events(number, -1)
    placed = phone.post(f"/phone/api/lines/{quote(number)}/call")["call"]
    click.echo(f"call {placed['call_sid']} from {number} to {placed['to']}")
    status = drive(phone, number, placed["call_sid"], last, parse_keys(keys), list(says), hangup_during_recording)
    click.echo(f"call ended: {status}")


@cli.command()
@click.option("--number", required=True, help="The phone the call-back rings.")
@keys_option
@say_option
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the call to ring.")
@click.pass_obj
def answer(phone: Phone, number: str, keys: str, says: tuple[Path, ...], wait: float) -> None:
    """Answer the next call-back to a number, press keys, speak."""
    number = phone.line(number)
    call_sid, last = ringing(phone, number, wait)
    phone.post(f"/phone/api/calls/{call_sid}/answer")
    status = drive(phone, number, call_sid, last, parse_keys(keys), list(says))
    click.echo(f"call ended: {status}")


def _refuse(phone: Phone, number: str, wait: float, action: str) -> None:
    number = phone.line(number)
    call_sid, _last = ringing(phone, number, wait)
    ended = phone.post(f"/phone/api/calls/{call_sid}/{action}")["call"]
    click.echo(f"call {call_sid}: {ended['status']}")


@cli.command()
@click.option("--number", required=True)
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the call to ring.")
@click.pass_obj
def decline(phone: Phone, number: str, wait: float) -> None:
    """Decline the next call-back to a number (Twilio reports busy)."""
    _refuse(phone, number, wait, "decline")


@cli.command("ring-out")
@click.option("--number", required=True)
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the call to ring.")
@click.pass_obj
def ring_out(phone: Phone, number: str, wait: float) -> None:
    """Let the next call-back to a number ring out (Twilio reports no-answer)."""
    _refuse(phone, number, wait, "ring-out")


@cli.command()
@click.option("--from", "from_number", required=True)
@click.argument("body")
@click.pass_obj
def text(phone: Phone, from_number: str, body: str) -> None:
    """Text the hotline; prints the reply."""
    number = phone.line(from_number)
    for event in phone.post(f"/phone/api/lines/{quote(number)}/sms", json={"body": body})["events"]:
        show(event)


@cli.command()
@click.argument("number")
@click.pass_obj
def thread(phone: Phone, number: str) -> None:
    """The texts to and from a number, oldest first."""
    number = phone.line(number)
    for event in phone.get(f"/phone/api/lines/{quote(number)}/thread")["messages"]:
        stamp = time.strftime("%H:%M:%S", time.localtime(event["at"]))
        click.echo(f"{stamp} {'<' if event['direction'] == 'to-phone' else '>'} {event['body']}")


@cli.command()
@click.pass_obj
def people(phone: Phone) -> None:
    """Who is in the registry (name, role, grid, phone)."""
    body = phone.get("/phone/api/people")
    if body.get("error"):
        click.echo(body["error"], err=True)
    for person in body["people"]:
        click.echo(f"{person['phone']}  {person['name']}  {person['role_zh']}  {person['grid']}")


def main(argv: list[str] | None = None) -> int:
    try:
        code = cli.main(args=argv, prog_name="python -m sandbox.cli", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.Abort:
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
