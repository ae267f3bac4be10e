"""Texting: reading inbound texts (keywords, answers, report numbers), segment arithmetic, reply texts."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grid import lifecycle
from ivr_flows import answers, catalog
from ivr_flows import texting_replies as replies
from ivr_flows.hotline_context import ReportSummary
from ivr_flows.texting import (
    GSM_7,
    UCS_2,
    Ack,
    Answer,
    Command,
    Empty,
    Help,
    Report,
    Start,
    Status,
    Stop,
    Text,
    classify,
    encoding,
    fit,
    is_long,
    normalise,
    segments,
)

COMMANDS = (Empty, Help, Stop, Start, Ack, Status, Report, Answer, Text)


# ---- reading ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("  ＳＴＯＰ  ", "STOP"),
        ("１２３４", "1234"),
        ("查询\u3000１２３４", "查询 1234"),  # ideographic space
        ("a \n\t b", "a b"),
        ("\ufeff退订\u200b", "退订"),
        ("楼道灯坏了。", "楼道灯坏了。"),
        ("", ""),
    ],
)
def test_normalise_folds_width_and_spaces(body: str, expected: str) -> None:
    """Full-width letters and digits become ASCII, spaces collapse, invisible marks go."""
    assert normalise(body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # stop: Chinese carriers' TD, Twilio's opt-out words, any width, case and punctuation
        *((body, Stop()) for body in (
            "退订", "【退订】", "退订。", " 退 订 ", "TD", "td", "ＴＤ", "T D", "t.d.", "回复TD", "TD退订", "退订TD", "取消订阅",
            "请退订", "我要退订", "退订，谢谢", "STOP", "stop.", "STOP!", "Stop", "ＳＴＯＰ", "ｓｔｏｐ！", "[STOP]", "S T O P",
            "stop please", "please stop", "STOPALL", "stop all", "UNSUBSCRIBE", "unsubscribe!", "END", "QUIT", "CANCEL",
            "REVOKE", "OPTOUT", "opt-out", "Opt Out",
        )),
        # start
        *((body, Start()) for body in (
            "订阅", "【订阅】", "重新订阅", "恢复订阅", "START", "start!", "ＳＴＡＲＴ", "UNSTOP", "subscribe",
        )),
        # help
        *((body, Help()) for body in (
            "帮助", "帮助？", "【帮助】", "HELP", "help!", "Help.", "ＨＥＬＰ", "INFO", "?", "？", "??", "？ ？",
        )),
        # report: the keyword and what follows it
        ("报告", Report("")),
        ("REPORT", Report("")),
        ("report:", Report("")),
        ("报告：楼上漏水", Report("楼上漏水")),
        ("报告楼上漏水", Report("楼上漏水")),
        ("【报告】3号楼楼道灯坏了", Report("3号楼楼道灯坏了")),
        ("ＲＥＰＯＲＴ broken light in building 3", Report("broken light in building 3")),
        ("Report - broken light", Report("broken light")),
        # status without a number
        ("查询", Status()),
        ("查询。", Status()),
        ("STATUS", Status()),
        ("status?", Status()),
        ("查询进度", Status()),
        ("查询 3号楼的问题", Status()),  # a building, not a report number
        ("STATUS of my report", Status()),
        ("status 1234567890", Status()),  # too long to be a report number
        # empty and pleasantries
        ("", Empty()),
        ("   \n ", Empty()),
        ("\u3000", Empty()),
        *((body, Ack()) for body in (
            "谢谢", "谢谢！", "谢谢你", "好的", "好的，谢谢！", "好", "收到", "知道了", "嗯嗯", "OK", "ok!", "Okay", "thanks",
            "Thank you!", "thanks a lot", "thx", "👍", "🙏🙏", "。。。", "...", "!",
        )),
    ],
)
def test_keywords_in_both_languages(body: str, expected: Command) -> None:
    """Keywords are read in any width and case, with or without punctuation around them."""
    assert classify(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "查询1234", "查询 1234", "查询１２３４", "查询#1234", "查询 ＃1234", "查询No.1234", "查询 No. 1234", "查询第1234号",
        "查询第1234号问题", "查询：1234", "【查询】1234", "查询编号1234", "查询1234号", "STATUS 1234", "status #1234",
        "Status No.1234", "STATUS No1234", "status №1234", "ＳＴＡＴＵＳ　１２３４", "status1234", "STATUS: report 1234",
        "status of report 1234 please",
    ],
)
def test_status_numbers_in_many_spellings(body: str) -> None:
    """"1234", "#1234", "No.1234", "第1234号" and full-width digits all name report 1234."""
    assert classify(body) == Status(1234)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        *((digit, Answer(digit)) for digit in "12345"),
        ("１", Answer("1")),
        ("５", Answer("5")),
        ("1.", Answer("1")),
        ("【2】", Answer("2")),
        ("①", Answer("1")),
        ("1\ufe0f\u20e3", Answer("1")),  # keycap emoji
        ("回复1", Answer("1")),
        ("5分", Answer("5")),
        ("五分", Answer("5")),
        ("4 stars", Answer("4")),
        *((word, Answer("yes")) for word in (
            "是", "是的", "是的。", "对", "对的", "解决了", "已解决", "yes", "YES", "Yes!", "ｙｅｓ", "y", "Y", "yeah",
        )),
        *((word, Answer("no")) for word in (
            "否", "不是", "没有", "没有。", "没解决", "还没有", "no", "NO", "No.", "ｎｏ", "n", "N", "nope",
        )),
        # an answer, a punctuation mark, then a note
        ("2，还在漏水", Answer("2", "还在漏水")),
        ("2. still leaking", Answer("2", "still leaking")),
        ("No, still leaking", Answer("no", "still leaking")),
        ("没有，楼道灯还是不亮", Answer("no", "楼道灯还是不亮")),
        ("是的！已经修好了", Answer("yes", "已经修好了")),
        ("5分，谢谢网格员", Answer("5", "谢谢网格员")),
    ],
)
def test_answers(body: str, expected: Answer) -> None:
    """1-5, yes/no words in both languages and full width, with an optional note after punctuation."""
    assert classify(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "please stop the noise upstairs",
        "stop the drilling upstairs",
        "楼上装修噪音不停",
        "楼上装修，请让他们停止",
        "停水了，什么时候恢复",
        "我不想再收到楼上的噪音了，退订不了",
        "Help me, my neighbour fell",
        "帮助一下，楼下有人摔倒了",
        "救命",
        "reporting a broken light",
        "statues in the garden are broken",
        "the status of the lift is unclear",
        "我想报告一下楼道灯坏了",
        "no noise after 10pm please",  # an answer word, but only a space after it
        "yes the light is still off",
        "2 dogs bark all night",
        "3.5 hours of noise",
        "No. 1234",
        "5号楼漏水",
        "1234",
        "#1234",
        "6",
        "0",
        "是不是可以修一下路灯",
        "没有人管楼道的垃圾",
        "好多垃圾没人清理",
        "谢谢，楼道灯还是不亮",
        "ok but the lift is broken again",
        "start of the road is flooded",
        "end of the street is dark",
        "TD has nothing to do with it",
        "information about the water cut?",
    ],
)
def test_text_that_merely_contains_a_keyword_is_text(body: str) -> None:
    """A keyword inside a sentence makes no command: the sentence is free text (most likely a report)."""
    assert classify(body) == Text(normalise(body))


@given(st.text(alphabet=st.characters(exclude_categories=())))
def test_classify_never_raises_on_any_unicode(body: str) -> None:
    """Any text at all, lone surrogates included, is read as some command, the same as its normalised form."""
    command = classify(body)
    assert isinstance(command, COMMANDS)
    assert classify(normalise(body)) == command


PIECES = ("退订", "TD", "stop", "查询", "报告", "report", "status", "1", "5", "是", "no", "#", "No.", "第", "号", "楼",
          "，", ",", ".", "?", "!", "【", "】", " ", "\u3000", "ＳＴＯＰ", "１２３", "😀", "谢谢", "ok", "帮助", "\u200d")


@given(st.lists(st.sampled_from(PIECES), max_size=8).map("".join))
def test_classify_never_raises_on_keyword_soup(body: str) -> None:
    """Keyword pieces glued together in any order still give a command, never an exception."""
    assert isinstance(classify(body), COMMANDS)


def test_long_messages() -> None:
    """Over Twilio's 1,600 characters a text counts as long (kept in full by the host)."""
    assert not is_long("漏" * 1600)
    assert is_long("漏" * 1601)


# ---- segments -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "enc", "count"),
    [
        ("", GSM_7, 1),
        ("a" * 160, GSM_7, 1),
        ("a" * 161, GSM_7, 2),
        ("a" * 306, GSM_7, 2),
        ("a" * 307, GSM_7, 3),
        ("€" * 80, GSM_7, 1),  # extension characters take two septets
        ("€" * 81, GSM_7, 2),
        ("a" * 151 + "[" + "a" * 153, GSM_7, 2),  # the escape pair fills part 1 exactly: 306 septets, 2 parts
        ("a" * 152 + "[" + "a" * 152, GSM_7, 3),  # also 306, but the pair moves whole into part 2, pushing on
        ("Üñäöü é à: £$¥§ {€}", GSM_7, 1),
        ("中" * 70, UCS_2, 1),
        ("中" * 71, UCS_2, 2),
        ("中" * 134, UCS_2, 2),
        ("中" * 135, UCS_2, 3),
        ("a" * 159 + "中", UCS_2, 3),  # one Chinese character turns the whole text into UCS-2
        ("a" * 100 + "…", UCS_2, 2),  # so does the typographic ellipsis
        ("😀" * 35, UCS_2, 1),  # outside the BMP: two UTF-16 code units each
        ("😀" * 36, UCS_2, 2),
        ("𠀀" * 35, UCS_2, 1),  # a rare Han character (CJK extension B) is a surrogate pair too
        ("中" * 65 + "😀" + "中" * 67, UCS_2, 2),  # the pair ends part 1 exactly: 67 + 67 units
        ("中" * 66 + "😀" + "中" * 66, UCS_2, 3),  # also 134 units, but the pair moves whole: 66 + 67 + 1
    ],
)
def test_segments(text: str, enc: str, count: int) -> None:
    """GSM-7: 160 alone, 153 per part; UCS-2: 70 alone, 67 per part; pairs and escapes never split."""
    assert (encoding(text), segments(text)) == (enc, count)


@pytest.mark.parametrize(
    ("text", "max_segments", "expected"),
    [
        ("short", 2, "short"),
        ("a" * 306, 2, "a" * 306),
        ("a" * 400, 2, "a" * 303 + "..."),  # English keeps GSM-7: "..." not "…"
        ("a" * 200, 1, "a" * 157 + "..."),
        ("中" * 200, 2, "中" * 133 + "…"),
        ("中" * 200, 1, "中" * 69 + "…"),
        ("😀" * 100, 2, "😀" * 66 + "…"),  # 132 units + 1: no half emoji
        ("word " * 100, 1, ("word " * 31).rstrip() + "..."),  # back to a space, not "wo..."
        ("楼道灯坏了 " * 30, 1, "楼道灯坏了 " * 11 + "楼道灯…"),  # Chinese is cut anywhere
    ],
)
def test_fit_trims_with_an_ellipsis(text: str, max_segments: int, expected: str) -> None:
    """fit() keeps the longest beginning that fits, ellipsis included, in whole characters."""
    assert fit(text, max_segments) == expected


@given(st.text(), st.integers(min_value=1, max_value=3))
def test_fit_never_exceeds_and_never_splits_a_surrogate_pair(text: str, max_segments: int) -> None:
    """The result fits, encodes to valid UTF-16, and is a beginning of the text (plus ellipsis)."""
    result = fit(text, max_segments)
    assert segments(result) <= max_segments
    result.encode("utf-16")  # raises on a lone surrogate
    if result != text:
        assert result.endswith(("…", "..."))
        assert text.startswith(result.removesuffix("…").removesuffix("..."))


def test_fit_needs_at_least_one_segment() -> None:
    """Zero segments is a caller's mistake, said at once."""
    with pytest.raises(ValueError, match="at least 1"):
        fit("x", 0)


# ---- replies ---------------------------------------------------------------------------------------
TODAY = "2026-11-26"
NUMBER = 123456
REALISTIC = [("zh-CN", "花果社区"), ("en-US", "花果社区"), ("en-US", "Huaguo Community")]
LONG_COMMUNITY = "北京市朝阳区和平里街道花果社区居民委员会网格化服务管理中心" * 2
LONG_NAME = "欧阳" * 20
LONG_TEXT = "3号楼2单元楼道灯坏了一个星期了，晚上老人上下楼很危险。" * 20
NOTES = {  # what a host passes as free text, realistically
    "building_unknown": "解放路12号院",
    "ask_resident": "更换了楼道灯泡，清理了堆放的杂物",
    "ask_staff": "您家楼下的垃圾已经清理了吗",
    "ask_worker_accept": "3号楼2单元楼道灯坏了一个星期了",
    "ask_worker_take_over": "小区东门路灯不亮",
}
Reply = Callable[[str, str], str]


def _summary(state: str, name: str | None = "欧阳建国", **changes: object) -> ReportSummary:
    values: dict[str, object] = {
        "number": NUMBER, "category": "vulnerable_person", "state": state, "assignee_name": name,
        "assignee_role": "grid_worker", "event_date": "2026-11-02", "rating": 5, "duplicate_of": 123400,
    }
    return ReportSummary(**{**values, **changes})  # type: ignore[arg-type]


def _every_reply(note: str, name: str) -> dict[str, Reply]:
    """Every text the module composes, each from the values a host would pass."""
    texts: dict[str, Reply] = {
        "report_filed": lambda lang, c: replies.reply_report_filed(lang, c, NUMBER),
        "report_added": lambda lang, c: replies.reply_report_added(lang, c, NUMBER),
        "long_message": lambda lang, c: replies.reply_long_message(lang, c, NUMBER),
        "photos": lambda lang, c: replies.reply_photos(lang, c, NUMBER, 2),
        "ask_building": lambda lang, c: replies.reply_ask_building(lang, c),
        "building_unknown": lambda lang, c: replies.reply_building_unknown(lang, c, NUMBER, note or NOTES["building_unknown"]),
        "status_none": lambda lang, c: replies.reply_status(lang, c, TODAY, None),
        "status_not_found": lambda lang, c: replies.reply_status_not_found(lang, c, NUMBER),
        "status_not_yours": lambda lang, c: replies.reply_status_not_yours(lang, c, NUMBER),
        "help": lambda lang, c: replies.reply_help(lang, c),
        "stopped": lambda lang, c: replies.reply_stopped(lang, c),
        "started": lambda lang, c: replies.reply_started(lang, c),
        "empty": lambda lang, c: replies.reply_empty(lang, c),
        "unmatched": lambda lang, c: replies.reply_unmatched_answer(lang, c),
        "ask_resident": lambda lang, c: replies.ask_resident_confirmation(lang, c, NUMBER, "vulnerable_person",
                                                                   note or NOTES["ask_resident"]),
        "ask_staff": lambda lang, c: replies.ask_staff_question(lang, c, note or NOTES["ask_staff"] + "？", NUMBER),
        "ask_worker_accept": lambda lang, c: replies.ask_worker_verification(lang, c, NUMBER, "vulnerable_person",
                                                                             note or NOTES["ask_worker_accept"], True),
        "ask_worker_take_over": lambda lang, c: replies.ask_worker_verification(
            lang, c, NUMBER, "vulnerable_person", note or NOTES["ask_worker_take_over"], overdue=True),
        "ask_worker_visit": lambda lang, c: replies.ask_worker_follow_up(lang, c, NUMBER, "vulnerable_person", "verifying"),
        "ask_worker_handling": lambda lang, c: replies.ask_worker_follow_up(lang, c, NUMBER, "vulnerable_person", "dispatched"),
        "status_reopened": lambda lang, c: replies.reply_status(lang, c, TODAY, _summary("dispatched", name, reopened=True)),
    }
    for meaning in (*answers.ANSWERS, *"12345"):
        texts[f"answer_{meaning}"] = lambda lang, c, m=meaning: replies.reply_answer(lang, c, m, NUMBER)  # type: ignore[misc]
    for state in lifecycle.STATES:
        texts[f"status_{state}"] = lambda lang, c, s=state: replies.reply_status(lang, c, TODAY, _summary(s, name))  # type: ignore[misc]
    return texts


REALISTIC_REPLIES = _every_reply("", "欧阳建国")
LONG_REPLIES = _every_reply(LONG_TEXT, LONG_NAME)
WITH_NUMBER = {name for name in REALISTIC_REPLIES if name not in {
    "ask_building", "status_none", "help", "stopped", "started", "empty", "unmatched", "answer_yes", "answer_no",
    "answer_no_answer", "answer_picked_up",
}}


@pytest.mark.parametrize(("lang", "community"), REALISTIC)
@pytest.mark.parametrize("name", sorted(REALISTIC_REPLIES))
def test_every_reply_fits_two_segments_uncut_with_realistic_values(name: str, lang: str, community: str) -> None:
    """With a real community, worker name and note each text fits in two segments without being cut."""
    text = REALISTIC_REPLIES[name](lang, community)
    assert segments(text) <= 2, text
    assert "…" not in text and "..." not in text, text
    assert "{" not in text and "}" not in text
    assert NOTES.get(name, "") in text
    if name in WITH_NUMBER:
        assert str(NUMBER) in text


@pytest.mark.parametrize("lang", catalog.LANGUAGES)
@pytest.mark.parametrize("name", sorted(LONG_REPLIES))
def test_every_reply_fits_two_segments_with_long_names(name: str, lang: str) -> None:
    """Very long names and texts are cut, never the report number; never more than two segments."""
    text = LONG_REPLIES[name](lang, LONG_COMMUNITY)
    assert segments(text) <= 2, text
    if name in WITH_NUMBER:
        assert str(NUMBER) in text


@pytest.mark.parametrize(
    ("ask", "instruction"),
    [
        (lambda lang: replies.ask_resident_confirmation(lang, "花果社区", NUMBER, "facility", LONG_TEXT),
         {"zh-CN": "没解决请回复2", "en-US": "2 for no"}),
        (lambda lang: replies.ask_staff_question(lang, "花果社区", LONG_TEXT), {"zh-CN": "不是请回复2", "en-US": "2 for no"}),
        (lambda lang: replies.ask_worker_verification(lang, "花果社区", NUMBER, "facility", LONG_TEXT),
         {"zh-CN": "不是您的区域请回复2", "en-US": "2 not your area"}),
    ],
)
@pytest.mark.parametrize("lang", catalog.LANGUAGES)
def test_a_long_question_is_cut_in_the_middle_so_the_reply_options_stay(
    ask: Callable[[str], str], instruction: dict[str, str], lang: str
) -> None:
    """The free text is cut, not the end: the number and "reply 1 / 2" are always there."""
    text = ask(lang)
    assert segments(text) == 2
    assert "…" in text
    assert text.endswith(instruction[lang] + ("。" if lang == "zh-CN" else "."))


@pytest.mark.parametrize(
    ("report", "expected"),
    [
        (_summary("new", name=None), "【花果社区】第123456号问题（老人或困难群众需要帮助）：已经收到，正在安排人员处理。"),
        (_summary("verifying", event_date="2026-11-24"),
         "【花果社区】第123456号问题（老人或困难群众需要帮助）：已经转给网格员欧阳建国，星期二接了单，正在核实。"),
        (_summary("duplicate"),
         "【花果社区】第123456号问题（老人或困难群众需要帮助）：别人已经反映过这个问题，和第123400号问题一起处理。"),
        (_summary("closed_unreachable", event_date="2026-11-25"),
         "【花果社区】第123456号问题（老人或困难群众需要帮助）：联系不上您，昨天已经办结。如果问题还在，请重新反映。"),
    ],
)
def test_status_in_plain_words(report: ReportSummary, expected: str) -> None:
    """The status text says what the status call says, with the report numbers written as digits."""
    assert replies.reply_status("zh-CN", "花果社区", TODAY, report) == expected


@pytest.mark.parametrize(
    "state", [lifecycle.NEW, lifecycle.VERIFYING, lifecycle.CONFIRMED, lifecycle.UNFOUNDED, lifecycle.DISPATCHED]
)
@pytest.mark.parametrize("lang", catalog.LANGUAGES)
def test_status_names_the_assignee_while_someone_has_it(state: str, lang: str) -> None:
    """Who has the report is named wherever the state involves a person."""
    assert "欧阳建国" in replies.reply_status(lang, "花果社区", TODAY, _summary(state))


def test_english_status_reads_well() -> None:
    """English: '[花果社区] Report 123456: It was sent to grid worker 王强, who accepted it on Tuesday...'."""
    text = replies.reply_status("en-US", "花果社区", TODAY, _summary("verifying", "王强", event_date="2026-11-24"))
    assert text == "[花果社区] Report 123456: It was sent to grid worker 王强, who accepted it on Tuesday and is checking it."


@pytest.mark.parametrize("key", sorted(k for k in catalog.keys("en-US") if k.startswith("sms_")))
def test_english_texts_use_only_the_gsm_alphabet(key: str) -> None:
    """No curly quote or typographic dash halves what fits in an English text."""
    template = catalog.text("en-US", key, dict.fromkeys(("community", "number", "count", "building", "category", "state",
                                                         "note", "question", "about", "urgent", "said", "text", "reason",
                                                         "attempts", "hotline", "day"), ""))
    assert encoding(template) == GSM_7


@pytest.mark.parametrize(
    ("question", "value", "state", "meaning"),
    [
        (replies.RESIDENT_CONFIRMATION, "1", None, answers.SOLVED),
        (replies.RESIDENT_CONFIRMATION, "yes", None, answers.SOLVED),
        (replies.RESIDENT_CONFIRMATION, "2", None, answers.NOT_SOLVED),
        (replies.RESIDENT_CONFIRMATION, "no", None, answers.NOT_SOLVED),
        (replies.RESIDENT_CONFIRMATION, "3", None, None),
        (replies.RATING, "4", None, "4"),
        (replies.RATING, "yes", None, None),
        (replies.STAFF_QUESTION, "1", None, answers.YES),
        (replies.STAFF_QUESTION, "no", None, answers.NO),
        (replies.STAFF_QUESTION, "5", None, None),
        (replies.WORKER_VERIFICATION, "1", None, answers.ACCEPTED),
        (replies.WORKER_VERIFICATION, "2", None, answers.NOT_MY_AREA),
        (replies.ESCALATION, "yes", None, answers.ACCEPTED),
        (replies.WORKER_FOLLOW_UP, "1", lifecycle.VERIFYING, answers.CONFIRMED),
        (replies.WORKER_FOLLOW_UP, "2", lifecycle.NEW, answers.UNFOUNDED),
        (replies.WORKER_FOLLOW_UP, "3", lifecycle.VERIFYING, answers.NOT_YET),
        (replies.WORKER_FOLLOW_UP, "yes", lifecycle.VERIFYING, None),  # "yes, I went": real, or nothing found?
        (replies.WORKER_FOLLOW_UP, "1", lifecycle.DISPATCHED, answers.HANDLED),
        (replies.WORKER_FOLLOW_UP, "no", lifecycle.CONFIRMED, answers.NOT_YET),
        (replies.WORKER_FOLLOW_UP, "3", lifecycle.DISPATCHED, None),
        ("no_such_question", "1", None, None),
    ],
)
def test_interpret_an_answer_for_the_open_question(question: str, value: str, state: str | None, meaning: str | None) -> None:
    """The same "1" means solved, yes, accepted or handled depending on what was asked; a wrong option is None."""
    assert replies.interpret(question, value, state) == meaning


@pytest.mark.parametrize(
    ("meaning", "expected"),
    [
        (answers.SOLVED, "【花果社区】谢谢！第123456号问题已解决。请回复1到5为处理结果打分，5分最满意。"),
        ("5", "【花果社区】谢谢您的评价，第123456号问题已办结。"),
        (answers.NOT_SOLVED, "【花果社区】第123456号问题已退回给网格员继续处理。有补充请直接回复短信。"),
        (answers.YES, "【花果社区】谢谢，您的回答已经记下。"),
        (answers.ACCEPTED, "【花果社区】已记下：第123456号问题由您去现场核实。"),
    ],
)
def test_answers_are_acknowledged(meaning: str, expected: str) -> None:
    """Solved asks for a rating, a rating is thanked, not solved goes back to the worker."""
    assert replies.reply_answer("zh-CN", "花果社区", meaning, NUMBER) == expected


def test_an_acknowledgement_without_a_report_number_is_a_plain_thank_you() -> None:
    """A report-bound acknowledgement with no number never says "report  is solved"."""
    assert replies.reply_answer("en-US", "Huaguo", answers.SOLVED) == "[Huaguo] Thank you, we noted your answer."


def test_a_building_we_do_not_know_is_quoted_and_goes_to_the_duty_leader() -> None:
    """The resident sees what we could not find and that the report is filed anyway."""
    assert replies.reply_building_unknown("zh-CN", "花果社区", 42, "12栋。") == (
        "【花果社区】没有找到“12栋”这个楼栋，您的问题已转给值班网格长，编号42。"
    )
