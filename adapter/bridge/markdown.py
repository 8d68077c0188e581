"""Helpdesk markdown -> WhatsApp formatting.

Chatwoot's editor sends CommonMark (`**bold**`, `_italic_`, `~~strike~~`, code, links, headings,
lists, quotes, `\\` hard breaks, backslash escapes). WhatsApp has its own, smaller syntax: `*bold*`,
`_italic_`, `~strike~`, `` `code` ``, ```` ```block``` ````, `- `/`1. ` lists and `> ` quotes.
markdown-it-py parses the first (so `snake_case`, `2 * 3` and unclosed markers stay text, by
CommonMark's own rules) and `to_whatsapp` writes its tokens out as the second: headings as a bold
line, links as `text (url)`. What WhatsApp cannot show is not parsed, so it stays as typed: raw HTML,
tables, entities, `[ref]: url` lines, and the `_`/`*` in bare URLs.

WhatsApp has no escape syntax: an escaped `\\*` comes out as a plain `*`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

__all__ = ["to_whatsapp"]

_MARKS = {"em": "_", "s": "~"}  # strong's marker depends on the block: "" in a heading, else "*"
_BARE_URL = re.compile(r"(?<![^\s(*_~])(?:https?://|www\.)[^\s<>\[\]]*", re.IGNORECASE)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


def to_whatsapp(markdown: str) -> str:
    """Convert the helpdesk editor's markdown into WhatsApp formatting; plain text comes back unchanged."""
    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    tokens = _PARSER.parse(text)
    if any(token.level >= _PARSER.options.maxNesting - 1 for token in tokens):
        return text  # markdown-it drops what is nested deeper than its cap: leave it all as typed
    return _Writer(text.split("\n")).write(tokens)


@lru_cache(maxsize=16)
def _url_spans(src: str) -> tuple[tuple[int, int], ...]:
    """Where the bare URLs in `src` are, less trailing punctuation and unbalanced `)` (GFM's rules)."""
    spans = []
    for match in _BARE_URL.finditer(src):
        url = match.group()
        while url[-1] in "?!.,:;*_~'\"\\" or (url[-1] == ")" and url.count(")") > url.count("(")):
            url = url[:-1]
        spans.append((match.start(), match.start() + len(url)))
    return tuple(spans)


def _bare_url(state: StateInline, silent: bool) -> bool:
    """Inline rule: take the rest of a bare URL begun in the pending text as text, so the `_`/`*` in
    `https://x.com/a_b_` are not emphasis (markdown-it's linkify does this, but needs linkify-it-py)."""
    begun = state.pos - len(state.pending)
    for start, end in _url_spans(state.src):
        if begun <= start < state.pos < end:
            end = min(end, state.posMax)
            if not silent:
                state.push("text", "", 0).content = _ESCAPE.sub(r"\1", state.src[state.pos : end])
            state.pos = end
            return True
    return False


class _Markdown(MarkdownIt):
    """Link destinations as written: the customer reads them, so no percent-encoding or punycode."""

    def normalizeLink(self, url: str) -> str:
        return url

    def normalizeLinkText(self, link: str) -> str:
        return link


# Only what WhatsApp can show: no indented code (indentation stays text), setext headings (`---`
# under a line stays a rule), link reference definitions, tables, html or entities.
_PARSER = _Markdown("zero").enable(
    ["fence", "blockquote", "hr", "list", "heading"]
    + ["newline", "escape", "backticks", "strikethrough", "emphasis", "link", "image", "autolink"]
)
_PARSER.inline.ruler.after("text", "bare_url", _bare_url)


@dataclass(slots=True)
class _Container:
    """An open list item or quote."""

    typed: str  # its marker as typed: `>`, `*`, `1.`
    first: str  # the prefix of its first line
    rest: str  # the prefix of the lines after it
    started: bool = False


@dataclass(slots=True)
class _Writer:
    """Writes the block tokens line by line under the open containers' prefixes: a flat walk, not a
    `SyntaxTreeNode` tree, as emphasis can nest thousands deep, too deep to recurse."""

    source: list[str]
    out: list[str] = field(default_factory=list)
    containers: list[_Container] = field(default_factory=list)
    end: int = 0  # the source line after the last block written, to keep the blank lines between

    def write(self, tokens: list[Token]) -> str:
        previous = ""
        for token in tokens:
            if token.map:  # the blank lines typed before this block
                self.lines([""] * (token.map[0] - self.end))
                self.end = max(self.end, token.map[1] if token.nesting == 0 else token.map[0])
            if token.type == "inline" and token.map:
                self.inline(token, token.map[0], heading=previous == "heading_open")
            elif token.type == "fence" and token.content.strip():
                code = token.content.rstrip("\n")
                self.lines(f"```{code}```".split("\n"))
            elif token.type == "fence" and token.info.strip():  # empty, but text typed after its ```
                self.lines([(token.markup + token.info).rstrip()])
            elif token.type == "hr" and token.map:
                # The rule as typed (`* * *`), without the containers' markers before it.
                rule = re.search(rf"(?:{re.escape(token.markup[0])}[ \t]*)+$", self.source[token.map[0]].rstrip())
                self.lines([rule.group() if rule else token.markup])
            elif token.type == "list_item_open":
                marker = f"{token.info}{token.markup} " if token.info else "- "
                self.containers.append(_Container(token.info + token.markup, marker, " " * len(marker)))
            elif token.type == "blockquote_open":
                self.containers.append(_Container(">", "> ", "> "))
            elif token.type in ("list_item_close", "blockquote_close"):
                container = self.containers.pop()
                if not container.started:  # empty: its marker as typed, on its one line
                    self.lines([container.typed])
                    self.end += 1
            previous = token.type
        self.lines([""] * (len(self.source) - self.end))
        return "\n".join(self.out)

    def inline(self, token: Token, first: int, heading: bool) -> None:
        """Write a paragraph, or a heading as one bold line (so `**` in it adds nothing)."""
        text = _inline(token.children or [], strong="" if heading else "*")
        if (len(token.content) - len(token.content.rstrip("\\"))) % 2:
            text = text[:-1]  # a `\` hard break with no line after it
        if heading:
            self.lines([f"*{text}*"] if text.strip() else [])
            return
        for number, line in enumerate(text.split("\n")):
            # A line CommonMark continued lazily into a quote (`> q`, then `after`) keeps only the
            # `>`s typed on it: WhatsApp quotes just the lines that start with one.
            typed = self.source[first + number]
            marks = len(typed) - len(typed.lstrip(" \t>"))
            self.lines([line], quotes=typed.count(">", 0, marks) if number else None)

    def lines(self, lines: list[str], quotes: int | None = None) -> None:
        """Append lines under the containers' prefixes (up to the outer `quotes` quotes). A blank line
        takes only those of containers begun, so the gap before a new item or quote has no marker."""
        for line in lines:
            prefix, left = "", quotes
            for container in self.containers:
                if container.typed == ">" and left is not None:
                    if not left:
                        break
                    left -= 1
                if line or container.started:
                    prefix += container.rest if container.started else container.first
                    container.started = container.started or bool(line)
            self.out.append(prefix + line if line else prefix.rstrip())


def _inline(tokens: list[Token], strong: str) -> str:
    """WhatsApp text of a paragraph's inline tokens."""
    out: list[str] = []
    marks: list[str] = []  # the WhatsApp markers open here, innermost last
    links: list[tuple[list[str], str]] = []  # the text before each open link, and its URL
    for token in tokens:
        if token.type == "code_inline":
            fence = "```" if "`" in token.content else "`"  # WhatsApp's `code` cannot hold a backtick
            out.append(fence + token.content + fence)
        elif token.type in ("softbreak", "hardbreak"):
            # WhatsApp formatting does not cross lines: close what is open before the break, reopen after.
            out.append("".join(reversed(marks)) + "\n" + "".join(marks))
        elif token.type in ("em_open", "strong_open", "s_open"):
            marks.append(_MARKS.get(token.tag, strong))
            out.append(marks[-1])
        elif token.type in ("em_close", "strong_close", "s_close"):
            out.append(marks.pop())
        elif token.type == "link_open":
            links.append((out, str(token.attrGet("href") or "")))
            out = []
        elif token.type == "link_close":
            label = "".join(out).strip()
            out, url = links.pop()
            out.append(_link(label, url))
        elif token.type == "image":
            out.append(_link(_inline(token.children or [], strong).strip(), str(token.attrGet("src") or "")))
        else:
            out.append(token.content)  # text
    return "".join(out)


def _link(label: str, url: str) -> str:
    """A link as WhatsApp text: `label (url)`, or just one of them when the other adds nothing."""
    if not url or url in (f"mailto:{label}", f"tel:{label}"):
        return label
    return f"{label} ({url})" if label and label != url else url
