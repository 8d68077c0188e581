"""Helpdesk markdown -> WhatsApp formatting, table-driven."""

from __future__ import annotations

import pytest

from adapter.bridge.markdown import to_whatsapp

CASES: list[tuple[str, str, str]] = [
    # (id, helpdesk markdown, WhatsApp text)
    # --- plain text is left alone
    ("empty", "", ""),
    ("plain", "Hello, how can I help?", "Hello, how can I help?"),
    ("plain-multiline", "Hi João\n\nYour order 123 shipped.", "Hi João\n\nYour order 123 shipped."),
    ("plain-punctuation", "Price: $5 (approx.) - ok? 100% sure!", "Price: $5 (approx.) - ok? 100% sure!"),
    ("emoji", "Thanks 🙏 see you", "Thanks 🙏 see you"),
    ("hashtag", "#hashtag stays", "#hashtag stays"),
    ("snake-case", "call snake_case_words here", "call snake_case_words here"),
    ("arithmetic", "2 * 3 * 4 = 24", "2 * 3 * 4 = 24"),
    ("lone-star", "rated 5 * stars", "rated 5 * stars"),
    ("lone-tildes", "about ~5 minutes", "about ~5 minutes"),
    ("email", "write to john_doe@example.com", "write to john_doe@example.com"),
    ("unclosed-bold", "**not closed", "**not closed"),
    ("unclosed-code", "a `b", "a `b"),
    ("unclosed-bracket", "see [note", "see [note"),
    ("brackets-no-link", "[x] done", "[x] done"),
    # --- emphasis
    ("bold-stars", "**bold**", "*bold*"),
    ("bold-underscores", "__bold__", "*bold*"),
    ("italic-star", "*italic*", "_italic_"),
    ("italic-underscore", "_italic_", "_italic_"),
    ("strike", "~~gone~~", "~gone~"),
    ("strike-single", "~gone~", "~gone~"),
    ("bold-in-sentence", "This is **very** important.", "This is *very* important."),
    ("italic-inside-bold", "**bold with _italic_ inside**", "*bold with _italic_ inside*"),
    ("star-italic-inside-bold", "**bold with *italic* inside**", "*bold with _italic_ inside*"),
    ("bold-inside-italic", "_italic **bold** end_", "_italic *bold* end_"),
    ("bold-italic", "***both***", "_*both*_"),
    ("strike-bold", "~~**gone**~~", "~*gone*~"),
    ("dunder-is-bold", "__init__", "*init*"),
    ("bold-across-lines", "a **b\nc** d", "a *b*\n*c* d"),
    # --- code
    ("inline-code", "run `pip install`", "run `pip install`"),
    ("code-keeps-markers", "use `**kwargs` and `a_b_c`", "use `**kwargs` and `a_b_c`"),
    ("code-double-ticks", "``a ` b``", "```a ` b```"),
    ("code-escape-literal", r"`a\*b`", r"`a\*b`"),
    ("fence", "```\nx = 1\n```", "```x = 1```"),
    ("fence-lang", "```python\nprint('**x**')\nfoo_bar(2 * 3)\n```", "```print('**x**')\nfoo_bar(2 * 3)```"),
    ("fence-tilde", "~~~\n# not a heading\n~~~", "```# not a heading```"),
    ("fence-unclosed", "```\na *b*", "```a *b*```"),
    ("fence-between", "before **x**\n```\n**y**\n```\nafter **z**", "before *x*\n```**y**```\nafter *z*"),
    # --- links and URLs
    ("link", "[our docs](https://example.com/docs)", "our docs (https://example.com/docs)"),
    ("link-text-is-url", "[https://example.com](https://example.com)", "https://example.com"),
    ("link-underscores", "[guide](https://x.com/a_b_c/*d*)", "guide (https://x.com/a_b_c/*d*)"),
    ("link-escaped-url", r"[guide](https://x.com/a\_b)", "guide (https://x.com/a_b)"),
    ("link-title", '[a](https://x.com "Title")', "a (https://x.com)"),
    (
        "link-parens",
        "[wiki](https://en.wikipedia.org/wiki/Foo_(bar))",
        "wiki (https://en.wikipedia.org/wiki/Foo_(bar))",
    ),
    ("link-bold-text", "[**Buy** now](https://x.com)", "*Buy* now (https://x.com)"),
    ("link-mailto", "[a@b.co](mailto:a@b.co)", "a@b.co"),
    ("link-empty-text", "[](https://x.com)", "https://x.com"),
    ("link-empty-url", "[just text]()", "just text"),
    ("image", "![logo](https://x.com/l.png)", "logo (https://x.com/l.png)"),
    ("autolink", "<https://x.com/a_b_c>", "https://x.com/a_b_c"),
    ("autolink-email", "<john_doe@example.com>", "john_doe@example.com"),
    (
        "bare-url-underscores",
        "see https://x.com/snake_case_path_ now",
        "see https://x.com/snake_case_path_ now",
    ),
    (
        "bare-url-star",
        "go to https://x.com/*a*b and http://y.io/__init__",
        "go to https://x.com/*a*b and http://y.io/__init__",
    ),
    ("bare-url-in-bold", "**https://x.com/a_b**", "*https://x.com/a_b*"),
    ("bare-url-in-italic", "_see https://x.com/a_b_", "_see https://x.com/a_b_"),
    ("bare-url-period", "Visit www.example.com/a_b.", "Visit www.example.com/a_b."),
    ("bare-url-in-parens", "(https://x.com/a_b)", "(https://x.com/a_b)"),
    # --- headings
    ("h1", "# Heading", "*Heading*"),
    ("h3", "### Small heading", "*Small heading*"),
    ("heading-closing-hashes", "## Title ##", "*Title*"),
    ("heading-with-bold", "## **Bold** heading", "*Bold heading*"),
    ("heading-with-italic", "# A _quiet_ title", "*A _quiet_ title*"),
    ("heading-then-text", "# Hi\nthere", "*Hi*\nthere"),
    # --- lists
    ("dash-bullets", "- one\n- two", "- one\n- two"),
    ("star-bullets", "* one\n* **two**", "- one\n- *two*"),
    ("plus-bullets", "+ one", "- one"),
    ("nested-list", "- fruit\n  - apple_pie\n  - *pear*\n- veg", "- fruit\n  - apple_pie\n  - _pear_\n- veg"),
    ("numbered", "1. first\n2. **second**\n10. tenth", "1. first\n2. *second*\n10. tenth"),
    ("numbered-paren", "1) first", "1) first"),
    ("nested-numbered", "1. a\n   - b\n2. c", "1. a\n   - b\n2. c"),
    ("list-item-continuation", "- **a\n  b**", "- *a*\n  *b*"),
    ("thematic-break", "a\n\n---\n\nb", "a\n\n---\n\nb"),
    ("star-break", "* * *", "* * *"),
    # --- quotes
    ("quote", "> quoted **text**", "> quoted *text*"),
    ("quote-multi", "> one\n>\n> two", "> one\n>\n> two"),
    ("quote-list", "> - item\n> - _other_", "> - item\n> - _other_"),
    ("nested-quote", "> > deep", "> > deep"),
    ("quote-then-text", "> q\nafter", "> q\nafter"),
    # --- breaks and escapes
    ("hard-break", "line one\\\nline two", "line one\nline two"),
    ("hard-break-trailing", "end\\", "end"),
    ("crlf", "a\r\nb", "a\nb"),
    ("escaped-star", r"\*not italic\*", "*not italic*"),
    ("escaped-underscore", r"snake\_case", "snake_case"),
    ("escaped-hash", r"\# not a heading", "# not a heading"),
    ("escaped-backslash", "a\\\\b", "a\\b"),
    ("backslash-before-letter", r"C:\Users", r"C:\Users"),
    ("escaped-bracket", r"\[x\](y)", "[x](y)"),
    # --- a realistic agent reply
    (
        "agent-reply",
        "Hi **João**,\n\nYour order is on its way:\n\n1. Track it at [our site](https://acme.test/t?id=a_1)\n"
        "2. Reply `STOP` to opt out\n\n> _Thanks for shopping!_",
        "Hi *João*,\n\nYour order is on its way:\n\n1. Track it at our site (https://acme.test/t?id=a_1)\n"
        "2. Reply `STOP` to opt out\n\n> _Thanks for shopping!_",
    ),
    # --- what WhatsApp cannot show stays as typed
    ("html-and-entities", "<b>hi</b> &amp; co", "<b>hi</b> &amp; co"),
    ("reference-definition", "[docs]: https://x.com\n\nsee [docs]", "[docs]: https://x.com\n\nsee [docs]"),
    ("setext-underline", "Thanks\n---\nJohn", "Thanks\n---\nJohn"),
    ("table", "| a | b |\n|---|---|\n| 1 | 2 |", "| a | b |\n|---|---|\n| 1 | 2 |"),
    ("link-url-as-typed", "[menu](https://café.test/a%20b)", "menu (https://café.test/a%20b)"),
    ("bare-www-url-star", "www.x.com/*a*b", "www.x.com/*a*b"),
    ("empty-bullet", "*", "*"),
    ("fence-info-only", "``` is how a block starts", "``` is how a block starts"),
    ("blank-lines-kept", "\n\na\n\n\nb\n", "\n\na\n\n\nb\n"),
    ("lazy-quote-in-list", "> - a\nb", "> - a\nb"),
    ("lazy-nested-quote", "> > a\n> b\nc", "> > a\n> b\nc"),
    # --- blocks inside blocks
    ("loose-list", "- a\n\n- b", "- a\n\n- b"),
    ("heading-in-list", "- # Title", "- *Title*"),
    ("fence-in-list", "- ```\n  x\n  ```", "- ```x```"),
    ("quote-bold-across-lines", "> **a\n> b**", "> *a*\n> *b*"),
]


@pytest.mark.parametrize(("markdown", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_to_whatsapp(markdown: str, expected: str) -> None:
    assert to_whatsapp(markdown) == expected


def test_case_ids_are_unique() -> None:
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    "text",
    ["*" * 3000, "_a_" * 1500, "[" * 4000, "[a](" * 1000, "`" * 4000, "**a _b " * 600],
    ids=["stars", "underscores", "brackets", "open-links", "backticks", "mixed"],
)
def test_pathological_input_terminates(text: str) -> None:
    assert isinstance(to_whatsapp(text), str)


@pytest.mark.parametrize("text", ["> " * 100 + "deep", "- " * 100 + "deep"], ids=["quotes", "lists"])
def test_nesting_beyond_the_parser_cap_is_left_as_typed(text: str) -> None:
    assert to_whatsapp(text) == text


def test_deeply_nested_emphasis() -> None:
    assert to_whatsapp("*a " * 2000 + "b" + " a*" * 2000) == "_a " * 2000 + "b" + " a_" * 2000
