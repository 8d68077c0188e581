"""Helpdesk rich messages as WhatsApp can show them. Nothing is dropped: what WhatsApp has no form for
becomes readable text.

- `input_select` (a question and its `items`, title/value), by the number of items:
  1–3 → reply buttons; 4–10 → a list (one section, its button "Choose an option");
  11 or more → a numbered text, the customer answers in words (WhatsApp lists hold 10 rows at most).
- `cards`: each card is one message. A card with a `link` action → its media (header) and text with a URL
  button; with 1–3 `postback` actions only → its media and text with reply buttons; otherwise its media
  with the text as caption, or the text alone. Actions that do not fit the button are listed in the text.
- `article` and `form` → readable text (titles, descriptions, links; the form's fields, numbered).

**Shortening rule.** WhatsApp refuses a whole message (131009) whose button title passes 20 characters or
whose list row title passes 24 (description 72). A title too long is cut, never refused: white space is
collapsed to single spaces; if it is still too long it is cut at the last space that keeps at least half
the limit (else at the limit), trailing punctuation and spaces are dropped, and "…" is appended, so the
result fills at most the limit. A list row whose title was shortened carries the whole title as its
description (shortened by the same rule to 72). Two buttons that end up with the same title are told apart
by " 2", " 3"… (shortening further to make room). A body longer than WhatsApp allows (1,024 characters;
4,096 for a list) is not cut either: what does not fit goes before it as text messages.

The customer's tap comes back as the chosen item, with its full title and value (bridge/choices.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from adapter.bridge.markdown import to_whatsapp
from adapter.helpdesk.events import AgentReply, CardAction, Item

TEXT_LIMIT = 4096
BUTTON_BODY_LIMIT = 1024  # reply buttons and URL buttons; also a media caption
LIST_BODY_LIMIT = 4096
BUTTON_TITLE_LIMIT = 20
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ID_LIMIT = 200  # a list row's id (a button's may be 256)
MAX_BUTTONS = 3
MAX_ROWS = 10
LIST_BUTTON = "Choose an option"
DEFAULT_QUESTION = "Please choose an option."
ELLIPSIS = "…"
_DOCUMENT_EXTENSIONS = (".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".txt")
_VIDEO_EXTENSIONS = (".mp4", ".3gp")

# A rich message's parts, in order: a text message, or a Graph message object ({"type": …, <type>: {…}}).
RichPart = str | dict[str, Any]


@dataclass(frozen=True)
class Choice:
    """What the customer can tap: an input_select item, or a card's postback action."""

    id: str  # the button or row id WhatsApp echoes back, unique within the message
    title: str  # in full: WhatsApp shows it shortened
    value: str


def shorten(text: str, limit: int) -> str:
    """`text` within `limit` characters by the module's shortening rule."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    cut = text.rfind(" ", 0, room + 1)
    head = text[:cut] if cut >= limit // 2 else text[:room]
    return head.rstrip(" .,;:-–—") + ELLIPSIS


def choices_of(reply: AgentReply) -> list[Choice]:
    """The reply's choices with their ids, the same when sending and when the customer's tap comes back."""
    if reply.content_type == "input_select":
        candidates = [(item.title, item.value if item.value is not None else item.title) for item in reply.items]
    elif reply.content_type == "cards":
        candidates = [(a.text, a.payload if a.payload is not None else a.text) for a in _postbacks(reply.items)]
    else:
        return []
    used: set[str] = set()
    choices = []
    for index, (title, value) in enumerate(candidates):
        choice_id = value if value and len(value) <= ID_LIMIT and value not in used else f"option-{index + 1}"
        while choice_id in used:
            choice_id += "+"
        used.add(choice_id)
        choices.append(Choice(choice_id, title or f"Option {index + 1}", value))
    return choices


def plan_rich(reply: AgentReply) -> list[RichPart] | None:
    """The parts of a rich message, or None when the reply is plain text."""
    if reply.content_type == "input_select" and reply.items:
        return _question(to_whatsapp(reply.content), choices_of(reply))
    if reply.content_type == "cards" and reply.items:
        return _cards(reply)
    if reply.content_type in ("article", "form") and reply.items:
        return _texts(_readable(reply))
    return None


# --- input_select ---------------------------------------------------------------------------------


def _question(text: str, choices: list[Choice]) -> list[RichPart]:
    if len(choices) > MAX_ROWS:
        lines = [f"{n}. {choice.title}" for n, choice in enumerate(choices, 1)]
        return _texts(f"{text}\n\n" + "\n".join(lines) + "\n\nReply with the number or the name of your choice.")
    if len(choices) <= MAX_BUTTONS:
        leading, body = _fit(text or DEFAULT_QUESTION, BUTTON_BODY_LIMIT)
        return [*leading, _buttons(body, choices)]
    leading, body = _fit(text or DEFAULT_QUESTION, LIST_BODY_LIMIT)
    rows = []
    for choice in choices:
        row = {"id": choice.id, "title": shorten(choice.title, ROW_TITLE_LIMIT)}
        if row["title"] != " ".join(choice.title.split()):
            row["description"] = shorten(choice.title, ROW_DESCRIPTION_LIMIT)
        rows.append(row)
    interactive = {
        "type": "list", "body": {"text": body},
        "action": {"button": LIST_BUTTON, "sections": [{"rows": rows}]},
    }  # fmt: skip
    return [*leading, {"type": "interactive", "interactive": interactive}]


def _buttons(body: str, choices: list[Choice], header: dict[str, Any] | None = None) -> dict[str, Any]:
    titles: list[str] = []
    for n, choice in enumerate(choices, 1):
        title = shorten(choice.title, BUTTON_TITLE_LIMIT)
        if title in titles:  # WhatsApp wants distinct titles
            suffix = f" {n}"
            title = shorten(choice.title, BUTTON_TITLE_LIMIT - len(suffix)) + suffix
        titles.append(title)
    buttons = [{"type": "reply", "reply": {"id": c.id, "title": t}} for c, t in zip(choices, titles, strict=True)]
    interactive: dict[str, Any] = {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    if header is not None:
        interactive["header"] = header
    return {"type": "interactive", "interactive": interactive}


# --- cards ------------------------------------------------------------------------------------------


def _postbacks(items: tuple[Item, ...]) -> list[CardAction]:
    """Every card's postback actions, in order (the choices of a cards message)."""
    return [a for item in items for a in item.actions if a.type != "link" or not a.uri]


def _cards(reply: AgentReply) -> list[RichPart]:
    parts: list[RichPart] = _texts(to_whatsapp(reply.content)) if reply.content.strip() else []
    choices = iter(choices_of(reply))
    for card in reply.items:
        links = [a for a in card.actions if a.type == "link" and a.uri]
        postbacks = [next(choices) for a in card.actions if a.type != "link" or not a.uri]
        text = "\n".join(line for line in (f"*{card.title}*" if card.title else "", card.description or "") if line)
        header = _media_header(card.media_url)
        if links:
            extra = [f"{a.text}: {a.uri}" for a in links[1:]] + [f"• {c.title}" for c in postbacks]
            leading, body = _fit("\n".join([text, *extra]).strip() or links[0].text or str(links[0].uri),
                                 BUTTON_BODY_LIMIT)  # fmt: skip
            parts += [*leading, _url_button(body, links[0], header)]
        elif 1 <= len(postbacks) <= MAX_BUTTONS:
            leading, body = _fit(text or DEFAULT_QUESTION, BUTTON_BODY_LIMIT)
            parts += [*leading, _buttons(body, postbacks, header)]
        else:
            caption = "\n".join([text, *(f"• {c.title}" for c in postbacks)]).strip()
            parts += _media_with_caption(header, caption) if header else _texts(caption)
    return parts


def _url_button(body: str, link: CardAction, header: dict[str, Any] | None) -> dict[str, Any]:
    interactive: dict[str, Any] = {
        "type": "cta_url", "body": {"text": body},
        "action": {"name": "cta_url",
                   "parameters": {"display_text": shorten(link.text or "Open", BUTTON_TITLE_LIMIT), "url": link.uri}},
    }  # fmt: skip
    if header is not None:
        interactive["header"] = header
    return {"type": "interactive", "interactive": interactive}


def _media_header(url: str | None) -> dict[str, Any] | None:
    """A card's media as an interactive header, by its URL's extension (an image unless it says otherwise)."""
    if not url or urlparse(url).scheme not in ("http", "https"):
        return None
    path = urlparse(url).path.lower()
    kind = "image"
    if path.endswith(_DOCUMENT_EXTENSIONS):
        kind = "document"
    elif path.endswith(_VIDEO_EXTENSIONS):
        kind = "video"
    return {"type": kind, kind: {"link": url}}


def _media_with_caption(header: dict[str, Any], caption: str) -> list[RichPart]:
    kind = str(header["type"])
    leading, fitted = _fit(caption, BUTTON_BODY_LIMIT) if caption else ([], "")
    media = dict(header[kind])
    if fitted:
        media["caption"] = fitted
    return [*leading, {"type": kind, kind: media}]


# --- readable text ----------------------------------------------------------------------------------


def _readable(reply: AgentReply) -> str:
    blocks = [to_whatsapp(reply.content)] if reply.content.strip() else []
    if reply.content_type == "form":
        blocks.append("\n".join(f"{n}. {item.title}" for n, item in enumerate(reply.items, 1) if item.title))
    else:
        for item in reply.items:
            lines = [f"*{item.title}*" if item.title else "", item.description or "", item.link or ""]
            blocks.append("\n".join(line for line in lines if line))
    return "\n\n".join(block for block in blocks if block)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` as text messages of at most `limit` characters, cut at a line or a space where one is near."""
    text = text.strip()
    chunks: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return chunks + ([text] if text else [])


def _texts(text: str) -> list[RichPart]:
    return list(split_text(text))


def _fit(text: str, limit: int) -> tuple[list[RichPart], str]:
    """The last `limit` characters' worth of `text` for a body, and what comes before it as text messages."""
    text = re.sub(r"\n{3,}", "\n\n", text.strip())
    if len(text) <= limit:
        return [], text
    *leading, last = split_text(text)
    if len(last) > limit:
        *more, last = split_text(last, limit)
        leading += more
    return list(leading), last
