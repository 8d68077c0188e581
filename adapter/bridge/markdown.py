"""Helpdesk markdown -> WhatsApp formatting.

Chatwoot's editor sends CommonMark-style markdown (`**bold**`, `_italic_`, `~~strike~~`, code,
links, headings, lists, quotes, `\\` hard breaks, backslash escapes). WhatsApp has its own, smaller
syntax: `*bold*`, `_italic_`, `~strike~`, `` `code` ``, ```` ```block``` ````, `- `/`1. ` lists and
`> ` quotes. `to_whatsapp` rewrites the first into the second:

- blocks (line based): fenced code, ATX headings (-> bold line), bullets (-> `- `), numbered
  items (kept), quotes (-> `> `, converted recursively), thematic breaks (kept), paragraphs;
- inlines: emphasis by CommonMark's delimiter-run rules (so `snake_case_words`, `2 * 3 * 4` and
  unmatched markers stay literal), code spans (content untouched), links (`text (url)`), bare and
  `<autolinks>` (copied verbatim, so `_`/`*` inside URLs are never formatting), escapes (unescaped).

WhatsApp has no escape syntax: an escaped `\\*` comes out as a plain `*`. Pure function; standard
library only.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["to_whatsapp"]

_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^(?P<indent> {0,3})#{1,6}(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_QUOTE = re.compile(r"^ {0,3}> ?(?P<rest>.*)$")
_BULLET = re.compile(r"^(?P<indent>[ \t]*)[-*+][ \t]+(?P<rest>.*)$")
_ORDERED = re.compile(r"^(?P<indent>[ \t]*)(?P<marker>\d{1,9}[.)])[ \t]+(?P<rest>.*)$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$")

_AUTOLINK = re.compile(r"<(?P<url>[A-Za-z][A-Za-z0-9+.\-]{1,31}:[^\s<>]*)>")
_EMAIL_AUTOLINK = re.compile(
    r"<(?P<url>[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*)>"
)
_BARE_URL = re.compile(r"(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\.)[^\s<>]*")
_URL_TRAILING = "?!.,:;*_~'\""
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_PLAIN = re.compile(r"[^\\`<!\[*_~hHwW]+")


# --- blocks ------------------------------------------------------------------------------------


def to_whatsapp(markdown: str) -> str:
    """Convert the helpdesk editor's markdown into WhatsApp formatting; plain text comes back unchanged."""
    if not markdown:
        return markdown
    lines = markdown.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_convert_lines(lines))


def _fence_start(line: str) -> re.Match[str] | None:
    match = _FENCE.match(line)
    if match is None or (match["fence"][0] == "`" and "`" in match["info"]):
        return None
    return match


def _starts_block(line: str) -> bool:
    return (
        not line.strip()
        or _fence_start(line) is not None
        or _HEADING.match(line) is not None
        or _QUOTE.match(line) is not None
        or _THEMATIC_BREAK.match(line) is not None
        or _BULLET.match(line) is not None
        or _ORDERED.match(line) is not None
    )


def _continuation(lines: list[str], start: int) -> int:
    """Index just past the lines that continue the paragraph or list item begun before `start`."""
    end = start
    while end < len(lines) and not _starts_block(lines[end]):
        end += 1
    return end


def _convert_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]

        fence = _fence_start(line)
        if fence is not None:
            i = _convert_fence(lines, i, fence, out)
            continue

        if not line.strip() or _THEMATIC_BREAK.match(line):
            out.append(line)
            i += 1
            continue

        heading = _HEADING.match(line)
        if heading is not None:
            text = _inline(heading["text"] or "", strong="")
            out.append(f"{heading['indent']}*{text}*" if text.strip() else "")
            i += 1
            continue

        if _QUOTE.match(line):
            end = i
            inner: list[str] = []
            while end < len(lines) and (quoted := _QUOTE.match(lines[end])) is not None:
                inner.append(quoted["rest"])
                end += 1
            out.extend(f"> {text}" if text else ">" for text in _convert_lines(inner))
            i = end
            continue

        prefix = ""
        first = line
        bullet = _BULLET.match(line)
        ordered = _ORDERED.match(line)
        if bullet is not None:
            prefix, first = f"{bullet['indent']}- ", bullet["rest"]
        elif ordered is not None:
            prefix, first = f"{ordered['indent']}{ordered['marker']} ", ordered["rest"]

        end = _continuation(lines, i + 1)
        converted = _inline("\n".join([first, *lines[i + 1 : end]]))
        out.extend((prefix + converted).split("\n"))
        i = end
    return out


def _convert_fence(lines: list[str], start: int, fence: re.Match[str], out: list[str]) -> int:
    """Append a fenced block as WhatsApp's ```block```; return the index after its closing fence."""
    indent, marker = fence["indent"], fence["fence"]
    closing = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
    body: list[str] = []
    end = start + 1
    while end < len(lines) and not closing.match(lines[end]):
        body_line = lines[end]
        body.append(body_line[len(indent) :] if body_line.startswith(indent) else body_line.lstrip(" \t"))
        end += 1
    if any(body_line.strip() for body_line in body):
        out.append(indent + "```" + "\n".join(body) + "```")
    return end + 1


# --- inlines -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Delimiter:
    """A run of `*`, `_` or `~` that may open and/or close emphasis."""

    char: str
    length: int
    can_open: bool
    can_close: bool
    remaining: int = 0
    active: bool = True
    opens: list[str] = field(default_factory=list)
    closes: list[str] = field(default_factory=list)

    def render(self) -> str:
        # Closing markers are taken from the run's left (inner) side, opening ones from its right.
        return "".join(self.closes) + self.char * self.remaining + "".join(reversed(self.opens))


def _is_punctuation(char: str) -> bool:
    return char in _ESCAPABLE or unicodedata.category(char)[0] in "PS"


def _delimiter(text: str, start: int, end: int) -> _Delimiter:
    """Classify the run text[start:end] by CommonMark's left/right-flanking rules."""
    char = text[start]
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    left = not after.isspace() and (not _is_punctuation(after) or before.isspace() or _is_punctuation(before))
    right = not before.isspace() and (not _is_punctuation(before) or after.isspace() or _is_punctuation(after))
    if char == "_":
        can_open = left and (not right or _is_punctuation(before))
        can_close = right and (not left or _is_punctuation(after))
    else:
        can_open, can_close = left, right
    if char == "~" and end - start > 2:
        can_open = can_close = False
    return _Delimiter(char, end - start, can_open, can_close, remaining=end - start)


def _inline(text: str, strong: str = "*") -> str:
    """Convert one paragraph's inline markdown. `strong` is the bold marker ("" inside headings)."""
    nodes: list[str | _Delimiter] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            if i + 1 < n and text[i + 1] in _ESCAPABLE:
                nodes.append(text[i + 1])
                i += 2
            elif i + 1 == n or text[i + 1] == "\n":
                i += 1  # hard line break: the newline (if any) is kept, the backslash dropped
            else:
                nodes.append(char)
                i += 1
        elif char == "`":
            i = _code_span(text, i, nodes)
        elif char == "<":
            match = _AUTOLINK.match(text, i) or _EMAIL_AUTOLINK.match(text, i)
            nodes.append(match["url"] if match else char)
            i = match.end() if match else i + 1
        elif char == "[" or (char == "!" and text.startswith("[", i + 1)):
            link = _link(text, i + 1 if char == "!" else i, strong)
            if link is None:
                nodes.append(char)
                i += 1
            else:
                nodes.append(link[0])
                i = link[1]
        elif char in "*_~":
            end = i
            while end < n and text[end] == char:
                end += 1
            nodes.append(_delimiter(text, i, end))
            i = end
        elif char in "hHwW" and (i == 0 or not text[i - 1].isalnum()) and (url := _bare_url(text, i)):
            nodes.append(_ESCAPE.sub(r"\1", url))
            i += len(url)
        else:
            match = _PLAIN.match(text, i)
            end = match.end() if match else i + 1
            nodes.append(text[i:end])
            i = end
    _match_emphasis(nodes, strong)
    return _render(nodes)


def _render(nodes: list[str | _Delimiter]) -> str:
    """Join the nodes. Emphasis spanning a line break is closed before it and reopened after it,
    because WhatsApp formatting does not cross lines (emphasis nests properly, so a stack suffices)."""
    out: list[str] = []
    stack: list[str] = []
    for node in nodes:
        if isinstance(node, _Delimiter):
            out.append(node.render())
            del stack[len(stack) - sum(1 for marker in node.closes if marker) :]
            stack.extend(marker for marker in reversed(node.opens) if marker)
        elif stack and "\n" in node:
            closing, reopening = "".join(reversed(stack)), "".join(stack)
            lines = node.split("\n")
            for number, line in enumerate(lines):
                if number:
                    text = line.lstrip(" \t")
                    line = "\n" + line[: len(line) - len(text)] + reopening + text
                out.append(line if number == len(lines) - 1 else line.rstrip(" \t") + closing)
        else:
            out.append(node)
    return "".join(out)


def _bare_url(text: str, start: int) -> str:
    """The URL starting at `start` without trailing punctuation (GFM autolink rules), or ""."""
    match = _BARE_URL.match(text, start)
    if match is None:
        return ""
    url = match.group()
    while url:
        if url[-1] in _URL_TRAILING:
            url = url[:-1]
        elif url[-1] == ")" and url.count(")") > url.count("("):
            url = url[:-1]
        else:
            break
    return url if "." in url or "://" in url else ""


def _code_span(text: str, start: int, nodes: list[str | _Delimiter]) -> int:
    """Append the code span opening at `start` (or its backticks, if unclosed); return the next index."""
    end = start
    while end < len(text) and text[end] == "`":
        end += 1
    ticks = end - start
    closing = re.compile(rf"(?<!`)`{{{ticks}}}(?!`)").search(text, end)
    if closing is None:
        nodes.append("`" * ticks)
        return end
    code = text[end : closing.start()].replace("\n", " ")
    if len(code) > 2 and code[0] == code[-1] == " " and code.strip():
        code = code[1:-1]
    nodes.append(f"```{code}```" if "`" in code else f"`{code}`")
    return closing.end()


def _skip_code_span(text: str, start: int) -> int:
    """Index after the code span at `start`, or after its backticks when it does not close."""
    end = start
    while end < len(text) and text[end] == "`":
        end += 1
    closing = re.compile(rf"(?<!`)`{{{end - start}}}(?!`)").search(text, end)
    return closing.end() if closing else end


def _link(text: str, start: int, strong: str) -> tuple[str, int] | None:
    """Render the inline link `[text](url "title")` at `start` as WhatsApp text, with the next index."""
    if text.find("](", start) < 0:
        return None
    depth, i, n = 0, start, len(text)
    while i < n:
        char = text[i]
        if char == "\\":
            i += 2
            continue
        if char == "`":
            i = _skip_code_span(text, i)
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                break
        i += 1
    if i >= n or not text.startswith("(", i + 1):
        return None
    label_end = i
    parsed = _destination(text, label_end + 2)
    if parsed is None:
        return None
    url, end = parsed
    label = _inline(text[start + 1 : label_end], strong).strip()
    if not url:
        return label, end
    if url in (f"mailto:{label}", f"tel:{label}"):
        return label, end
    if not label or label == url:
        return url, end
    return f"{label} ({url})", end


def _destination(text: str, start: int) -> tuple[str, int] | None:
    """Parse `url "title")` starting after the `(`; return the unescaped URL and the index after `)`."""
    n = len(text)
    i = start
    while i < n and text[i].isspace():
        i += 1
    if i < n and text[i] == "<":
        close = text.find(">", i + 1)
        if close < 0 or "\n" in text[i + 1 : close] or "<" in text[i + 1 : close]:
            return None
        url, i = text[i + 1 : close], close + 1
    else:
        begin, depth = i, 0
        while i < n:
            char = text[i]
            if char == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
                i += 2
                continue
            if char.isspace() or ord(char) < 0x20:
                break
            if char == "(":
                depth += 1
            elif char == ")":
                if depth == 0:
                    break
                depth -= 1
            i += 1
        if depth:
            return None
        url = text[begin:i]
    had_space = i < n and text[i].isspace()
    while i < n and text[i].isspace():
        i += 1
    if had_space and i < n and text[i] in "\"'(":
        closer = ")" if text[i] == "(" else text[i]
        i += 1
        while i < n and text[i] != closer:
            i += 2 if text[i] == "\\" else 1
        i += 1
        while i < n and text[i].isspace():
            i += 1
    if i >= n or text[i] != ")":
        return None
    return _ESCAPE.sub(r"\1", url), i + 1


def _match_emphasis(nodes: list[str | _Delimiter], strong: str) -> None:
    """CommonMark's "process emphasis" over the delimiter runs in `nodes`, attaching WhatsApp markers."""
    delimiters = [node for node in nodes if isinstance(node, _Delimiter)]
    bottoms: dict[tuple[str, bool, int], int] = {}
    for index, closer in enumerate(delimiters):
        while closer.active and closer.can_close and closer.remaining:
            key = (closer.char, closer.can_open, closer.length % 3 if closer.char != "~" else closer.length)
            opener_index = _find_opener(delimiters, index, bottoms.get(key, -1))
            if opener_index is None:
                bottoms[key] = index - 1
                break
            opener = delimiters[opener_index]
            if closer.char == "~":
                used, marker = closer.remaining, "~"
            else:
                used = 2 if opener.remaining >= 2 and closer.remaining >= 2 else 1
                marker = strong if used == 2 else "_"
            opener.remaining -= used
            closer.remaining -= used
            opener.opens.append(marker)
            closer.closes.append(marker)
            for between in delimiters[opener_index + 1 : index]:
                between.active = False
        if not closer.can_open:
            closer.active = False


def _find_opener(delimiters: list[_Delimiter], index: int, bottom: int) -> int | None:
    closer = delimiters[index]
    for position in range(index - 1, bottom, -1):
        opener = delimiters[position]
        if not (opener.active and opener.can_open and opener.remaining and opener.char == closer.char):
            continue
        if closer.char == "~":
            if opener.remaining == closer.remaining:
                return position
            continue
        both = opener.can_close or closer.can_open
        if both and (opener.length + closer.length) % 3 == 0 and (opener.length % 3 or closer.length % 3):
            continue
        return position
    return None
