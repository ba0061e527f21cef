"""What a chat message asks. `looks_like_question`: does it ask something at all? Used where nobody
addressed the bot (a channel set to answer every question), so it errs on the side of silence: a short
question with a question mark or a question word, not a greeting, an announcement or a long discussion
post. `question_kinds`: what it asks for (how, when, who, why, how much, yes/no), so that a FAQ entry asking for
something else does not answer it.
"""

from __future__ import annotations

import re

MIN_CJK = 4  # "怎么报销？" has 4; "谁在？", "好的吗" do not count
MIN_LATIN_WORDS = 3  # "how do I..." but not "why?" or "really?"
MAX_CHARS = 300  # longer posts are discussions or announcements, not questions to look up

_SLACK_MARKUP = re.compile(r"<[^>]*>")  # mentions, channel links, URLs, <!here>
_EMOJI = re.compile(r":[a-z0-9_+\-]+:")
_CODE = re.compile(r"```.*?```|`[^`]*`", re.DOTALL)
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_QUESTION_MARK = re.compile(r"[?？]")
_ZH_QUESTION = re.compile(
    r"如何|怎么|怎样|怎麽|咋|为什么|为啥|为何|哪里|哪儿|在哪|哪个|哪些|哪一|什么时候|多久|多少|几天|"
    r"能否|能不能|可不可以|可否|是否|有没有|请问|求助|请教|吗[\s。！!~～]*$|呢[\s。！!~～]*$"
)
_EN_QUESTION = re.compile(
    r"^(?:how|what|where|why|when|which|who|whom|whose|can|could|is|are|am|do|does|did|should|would|will|"
    r"may|any|anyone|is there|are there)\b|\bhow (?:do|can|to|should|does)\b|\bwhere (?:do|can|is)\b",
    re.IGNORECASE,
)


def looks_like_question(text: str) -> bool:
    """True for a message that reads as a question someone could look up: long enough to say what it is
    about (4+ Chinese characters or 3+ English words), not longer than a chat line or two, and asking,
    with a question mark or a question word."""
    text = _CODE.sub(" ", text or "")
    text = _EMOJI.sub(" ", _SLACK_MARKUP.sub(" ", text))
    text = " ".join(text.split())
    if not text or len(text) > MAX_CHARS:
        return False
    if len(_CJK.findall(text)) < MIN_CJK and len(_LATIN_WORD.findall(text)) < MIN_LATIN_WORDS:
        return False
    return bool(_QUESTION_MARK.search(text) or _ZH_QUESTION.search(text) or _EN_QUESTION.search(text))


# What a question asks for. A FAQ entry that asks for something else ("报销款什么时候到账？" for "如何报销")
# answers a neighbouring question, however many words the two share. Checked in this order, so that
# "怎么会" is a why and "how long" a when before either reads as a how. An English question word counts
# where a clause starts: "when" in "pick the lots first when shipping" and "who" in "someone who has
# left" ask nothing.
_CLAUSE = r"(?:^|[,.;:!?，。；：！？\-–—]\s*|\b(?:and|or|but|so)\s+)"
_KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("why", rf"为什么|为啥|为何|怎么会|是咋回事|怎么回事|{_CLAUSE}(?:why|how come)\b"),
        (
            "when",
            rf"什么时候|何时|几点|几号|哪天|多久|多长时间|多少天|几天|几个工作日|截止"
            rf"|{_CLAUSE}(?:when|how long|by when|how many (?:days|hours|weeks))\b",
        ),
        ("who", rf"谁|{_CLAUSE}(?:who|whom)\b"),
        ("how much", rf"多少|{_CLAUSE}how (?:much|many)\b"),
        (
            "how",
            rf"如何|怎么|怎样|怎麽|咋|哪里|哪儿|在哪|去哪|{_CLAUSE}(?:how|where|what if|what (?:do|should|can) (?:i|we))\b",
        ),
    )
)


# A yes/no question: "采购订单可以取消吗",
# "Can I edit a receipt after validating it?". Its answer says yes or no, not how.
_YES_NO = re.compile(
    r"吗|能否|能不能|可不可以|可否|是否|有没有|会不会|行不行|是不是|对不对"
    rf"|{_CLAUSE}(?:can|could|is|are|am|do|does|did|should|would|will|may|must|has|have|was|were)\s+\w",
    re.IGNORECASE,
)
YES_NO = "yes/no"


def question_kinds(text: str) -> frozenset[str]:
    """What `text` asks for: a set of "why", "when", "who", "how much" and "how" (where to find
    something counts as how), and "yes/no". Empty for what-is questions and bare topics, which fit any kind."""
    found: set[str] = set()
    text = " ".join((text or "").split())
    rest = text
    for kind, pattern in _KINDS:
        if pattern.search(rest):
            found.add(kind)
            rest = pattern.sub(" , ", rest)
    # On the whole text: "do" in "how do I" does not start a clause, "can" in "who can approve" neither.
    if _YES_NO.search(text):
        found.add(YES_NO)
    return frozenset(found)


def same_kind(asked: str, entry: str) -> bool:
    """Whether a FAQ entry asking `entry` answers the question `asked`: False when both say what they ask
    for and it differs. An entry that shows how (or when, who...) also answers "can I...?" (its steps say
    yes); a yes/no entry answers only a question that asks yes or no: "Can I edit a receipt after
    validating it?" does not answer "how do I validate a receipt?", whose steps are on the page."""
    a, b = question_kinds(asked), question_kinds(entry)
    if not a or not b:
        return True
    a_core, b_core = a - {YES_NO}, b - {YES_NO}
    if not b_core:
        return YES_NO in a
    return not a_core or bool(a_core & b_core)
