"""The dashboard's two languages: Chinese by default, English on request (?lang=en, kept in the session).

Templates write both texts side by side, `tr("报告", "Reports")`, so a page reads in either language
without a catalog to keep in step; the names of states, categories and roles are tables here.
"""
from __future__ import annotations

from flask import g, request, session

ZH, EN = "zh-CN", "en-US"

STATES = {
    "new": ("新报告", "new"),
    "verifying": ("核实中", "verifying"),
    "confirmed": ("已核实", "confirmed"),
    "unfounded": ("查无此事", "unfounded"),
    "dispatched": ("已交办", "dispatched"),
    "handled": ("已处理", "handled"),
    "awaiting_check": ("待回访", "awaiting check"),
    "closed_satisfied": ("已办结", "closed, satisfied"),
    "closed_unreachable": ("办结（联系不上）", "closed, unreachable"),
    "duplicate": ("重复", "duplicate"),
    "withdrawn": ("已撤回", "withdrawn"),
}
EVENTS = {
    "accept": ("接单核实", "accept"),
    "confirm": ("确认属实", "confirm"),
    "unfounded": ("查无此事", "unfounded"),
    "dispatch": ("交办处理", "dispatch"),
    "handle": ("标记已处理", "mark handled"),
    "request_check": ("回访居民", "check with resident"),
    "satisfied": ("居民满意，办结", "resident satisfied"),
    "reopen": ("重新办理", "reopen"),
    "unreachable": ("联系不上，办结", "close unreachable"),
    "mark_duplicate": ("标记重复", "mark duplicate"),
    "withdraw": ("撤回", "withdraw"),
}
CATEGORIES = {
    "safety": ("安全隐患", "safety hazard"),
    "environment": ("环境卫生", "environment"),
    "facility": ("公共设施报修", "facility repair"),
    "dispute": ("邻里纠纷", "neighbour dispute"),
    "vulnerable_person": ("老人或困难群众求助", "vulnerable person"),
    "other": ("其他", "other"),
}
ROLES = {
    "resident": ("居民", "resident"),
    "volunteer": ("微网格员", "volunteer"),
    "grid_worker": ("专职网格员", "grid worker"),
    "grid_leader": ("网格长", "grid leader"),
    "community_staff": ("社区工作人员", "community staff"),
    "staff": ("社区工作人员", "community staff"),
    "leader": ("网格长", "grid leader"),
    "worker": ("网格员", "grid worker"),
}
CHANNELS = {
    "voice": ("电话", "phone"), "sms": ("短信", "SMS"), "api": ("接口", "API"), "cli": ("命令行", "CLI"),
    "dashboard": ("工作台", "dashboard"), "system": ("系统", "system"),
}
TIMELINE_KINDS = {
    "filed": ("登记", "filed"), "transition": ("状态", "state"), "assignment": ("分派", "assignment"),
    "call": ("电话", "call"), "sms": ("短信", "SMS"), "escalation": ("督办", "escalation"),
    "note": ("备注", "note"), "rating": ("评价", "rating"), "message": ("短信", "SMS"),
    "attempt": ("呼叫", "call attempt"),
}
RECORDINGS = {
    "report": ("报告录音", "report"), "site_note": ("现场核实语音", "site note"),
    "handling_note": ("处理情况语音", "handling note"), "reopen_reason": ("居民说明未解决原因", "why not solved"),
    "answer": ("回答录音", "answer"), "addition": ("补充录音", "addition"),
}
PURPOSES = {
    "worker_verification": ("网格员核实", "worker verification"), "worker_follow_up": ("网格员跟进", "worker follow-up"),
    "resident_confirmation": ("居民回访", "resident check"), "staff_question": ("核实电话", "staff question"),
    "missed_call_return": ("未接来电回拨", "missed-call return"), "escalation": ("督办", "escalation"),
}
TABLES = {"state": STATES, "event": EVENTS, "category": CATEGORIES, "role": ROLES, "channel": CHANNELS,
          "kind": TIMELINE_KINDS, "recording": RECORDINGS, "purpose": PURPOSES}


def language() -> str:
    """The page language: ?lang= (remembered), else the user's own, else Chinese."""
    asked = request.args.get("lang", "")
    if asked in ("en", EN, "zh", ZH):
        session["lang"] = EN if asked.startswith("en") else ZH
    chosen = session.get("lang")
    if chosen in (ZH, EN):
        return str(chosen)
    user = g.get("user")
    return EN if user is not None and user.language.startswith("en") else ZH


def tr(zh: str, en: str) -> str:
    """The text in the page's language (templates: {{ tr("报告", "Reports") }})."""
    return en if g.get("lang", ZH) == EN else zh


def label(table: str, key: str | None) -> str:
    """A state, event, category, role, channel or timeline kind in the page's language."""
    if not key:
        return ""
    pair = TABLES[table].get(key)
    return tr(*pair) if pair else key
