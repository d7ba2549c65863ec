"""Hostile show notes: nothing that runs code, changes the page or links outside http(s)/mailto
reaches the feed; what podcasters use in show notes stays; control characters never crash the
build or reach the feed.

Checked on the HTML feedtool publishes, read back by lxml's HTML parser (as a browser or an app
would read it), and on the feed a real `feedtool build` writes.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lxml_html

from feedtool.notes import apple_description, describe, plain_text, render_html
from feedtool.sanitize import clean_html

NS = {"content": "http://purl.org/rss/1.0/modules/content/"}

#: Hostile notes: raw HTML an author (or whoever wrote the text they pasted) put in Markdown.
HOSTILE = [
    '<img src="https://example.com/a.jpg" onerror="alert(1)">',
    "<img src=x onerror=alert(1)>",
    '<body onload="alert(1)">text</body>',
    '<p onclick="alert(1)" style="position:fixed;top:0">click</p>',
    '<a href="javascript:alert(1)">js link</a>',
    '<a href="JaVaScRiPt:alert(1)">mixed case</a>',
    '<a href="java&#x09;script:alert(1)">tab entity</a>',
    '<a href="&#106;avascript:alert(1)">entity j</a>',
    '<a href=" javascript:alert(1)">leading space</a>',
    "[markdown js](javascript:alert(1))",
    "[markdown js, spaced](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data link</a>',
    "![data image](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '<a href="vbscript:msgbox(1)">vbscript</a>',
    '<a href="file:///etc/passwd">file</a>',
    '<a href="/relative/path">relative</a>',
    '<a href="//evil.example/x">protocol-relative</a>',
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<style>body{display:none}</style>",
    '<svg onload="alert(1)"><circle r="10"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><script>alert(1)</script></mtext></math>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object>',
    '<embed src="https://evil.example/x.swf">',
    '<form action="https://evil.example/"><input name="q"><button formaction="javascript:alert(1)">Go</button></form>',
    '<details open ontoggle="alert(1)"><summary>s</summary></details>',
    '<video src="https://e.example/v.mp4" onerror="alert(1)"></video>',
    '<audio src=x onerror=alert(1)></audio>',
    '<a href="https://example.com/" target="_blank" rel="opener">target</a>',
    '<div id="__proto__" class="x" data-x="1" aria-hidden="true">attributes</div>',
    '<img src="https://example.com/a.jpg" srcset="javascript:alert(1) 1x">',
    "<!-- a comment --><![CDATA[ cdata ]]>",
    "<template><script>alert(1)</script></template>",
    "<noscript><img src=x onerror=alert(1)></noscript>",
    "<textarea><script>alert(1)</script></textarea>",
    '<table background="javascript:alert(1)"><tr><td style="x">cell</td></tr></table>',
    '<a href="https://example.com/" onmouseover="alert(1)">hover</a>',
    "<scr<script>ipt>alert(1)</script>",
    '"><script>alert(1)</script>',
    "<img src=`x` onerror=alert(1)>",
    '<a href="https://example.com/&quot; onmouseover=&quot;alert(1)">quoted</a>',
]

#: Elements that must never reach the feed's HTML.
FORBIDDEN_TAGS = {
    "script", "style", "svg", "math", "iframe", "frame", "object", "embed", "meta", "base", "link",
    "form", "input", "button", "textarea", "select", "template", "noscript", "video", "audio", "body",
    "details", "title",
}
ALLOWED_SCHEMES = ("http://", "https://", "mailto:")


def assert_harmless(fragment: str) -> None:
    """Read like a browser would: no forbidden element, no handler or style, only safe URLs."""
    if not fragment.strip():
        return
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag not in FORBIDDEN_TAGS, (element.tag, fragment)
        for name, value in element.attrib.items():
            assert not name.startswith("on") and name not in ("style", "class", "id", "srcset", "target",
                                                              "formaction", "background"), (name, fragment)
            if name in ("href", "src", "cite"):
                assert value.strip().lower().startswith(ALLOWED_SCHEMES), (value, fragment)


def assert_apple_subset(description: str) -> None:
    """Apple's description holds only p, ol, ul, li and a with an http(s)/mailto href."""
    assert_harmless(description)
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", description))
    assert tags <= {"p", "ol", "ul", "li", "a"}, (tags, description)
    assert all(attribute == "href" for attribute in re.findall(r"<a ([a-z-]+)=", description))


@pytest.mark.parametrize("notes", HOSTILE)
def test_hostile_notes_are_harmless_in_content_and_description(notes: str) -> None:
    content = render_html(f"Before.\n\n{notes}\n\nAfter.")
    assert_harmless(content)
    description, text = describe(content)
    assert_apple_subset(description)
    assert "Before." in text and "After." in text


def test_the_whole_corpus_at_once() -> None:
    content = render_html("\n\n".join(HOSTILE))
    assert_harmless(content)
    assert_apple_subset(apple_description(content))


def test_apple_description_cleans_html_it_is_given_directly() -> None:
    """apple_description and describe take any HTML (the show description, a summary) safely."""
    hostile = '<p>x <a href="javascript:alert(1)">js</a> <img src=x onerror=alert(1)></p><script>y()</script>'
    assert apple_description(hostile) == "<p>x js</p>"
    assert describe(hostile) == ("<p>x js</p>", "x js")


def test_what_podcasters_write_is_kept() -> None:
    notes = (
        "# Episode 12\n\n"
        "Our guest **Ada** talks about _compilers_ and ~~old~~ `new` ideas.\n\n"
        "## Links\n\n"
        "- [Ada's site](https://ada.example/ \"Her site\")\n"
        "- Mail us: <mailto:show@example.com> or show@example.com\n"
        "- Bare URL: https://example.com/?a=1&b=2\n\n"
        "1. first\n2. second\n\n"
        "> A quote from the episode.\n\n"
        "```python\nprint('hi')\n```\n\n"
        "![Cover of the book](https://example.com/book.jpg)\n\n"
        "| Time | Topic |\n|:-----|------:|\n| 00:00 | Intro |\n\n"
        "Written in HTML: <b>bold</b>, <i>italic</i>, <sup>1</sup>, <br>line break, <a href=\"https://x.example/\">a link</a>.\n"
    )
    content = render_html(notes)
    for kept in (
        "<h1>Episode 12</h1>", "<h2>Links</h2>", "<strong>Ada</strong>", "<em>compilers</em>", "<del>old</del>",
        "<code>new</code>", '<a href="https://ada.example/" title="Her site">Ada\'s site</a>',
        '<a href="mailto:show@example.com">show@example.com</a>',
        '<a href="https://example.com/?a=1&amp;b=2">https://example.com/?a=1&amp;b=2</a>',
        "<ol>\n<li>first</li>", "<blockquote>\n<p>A quote from the episode.</p>\n</blockquote>",
        "<pre><code>print('hi')\n</code></pre>", '<img src="https://example.com/book.jpg" alt="Cover of the book">',
        '<th align="left">Time</th>', '<td align="right">Intro</td>', "<b>bold</b>", "<i>italic</i>",
        "<sup>1</sup>", "<br>line break", '<a href="https://x.example/">a link</a>',
    ):
        assert kept in content, kept
    description = apple_description(content)
    assert_apple_subset(description)
    assert '<a href="https://ada.example/">Ada\'s site</a>' in description
    assert '<a href="mailto:show@example.com">show@example.com</a>' in description


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    *"<>/=\"' &#;:abcdefghijlnoprstvx\t\n\x01", "<a ", "<img ", "<script>", "</script>", "href=", "src=",
    "onerror=", "javascript:", "data:", "<svg ", "style=", "&#1;", "&#x1b;", "<p>", "</p>", "<!--", "-->",
])).map("".join))
def test_cleaning_is_harmless_and_idempotent(html_text: str) -> None:
    cleaned = clean_html(html_text)
    assert clean_html(cleaned) == cleaned
    assert_harmless(cleaned)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", cleaned)
    description, text = describe(html_text)  # given raw HTML directly, too
    assert_apple_subset(description)
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", description + text.replace("\n", ""))


# --- control characters ------------------------------------------------------------------------

#: Control characters as HTML entities (load reads them as plain text), and DEL and a C1 control
#: written raw (valid XML, so load lets them through; still nothing anyone means to publish).
CONTROL_NOTES = (
    "Raw \x7f delete and \x85 next-line characters.\n\n"
    "As entities: &#1; &#x1b; &#x7F; &#0; &#xFFFE; &#65535; &#xD800; &#x85;\n\n"
    "[00:00] Intro &#1;\n[00:02] Entity &#x1b; title\n\n"
    '<a href="https://example.com/&#1;">link</a> <img src="https://example.com/a.jpg" alt="&#x1b;">\n'
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def test_control_characters_are_removed_from_the_html() -> None:
    content = render_html(CONTROL_NOTES + "\nRaw \x01 control and \x1b escape.\n")
    description, text = describe(content)
    for out in (content, description, text):
        assert not _CONTROL.search(out) and "&#" not in out.replace("&#x27;", ""), repr(out)
    assert "Raw delete and next-line characters." in text and "Raw control and escape." in text


def feed_of(podcast, runner) -> tuple[int, str, bytes]:
    from conftest import run_cli

    result = run_cli(runner, "build", "--episodes", podcast.episodes, "--out", podcast.public)
    feed = podcast.public / "feed.xml"
    return result.exit_code, result.output, feed.read_bytes() if feed.exists() else b""


def assert_clean_feed(raw: bytes) -> etree._Element:
    root = etree.fromstring(raw, etree.XMLParser(resolve_entities=False, no_network=True))
    text = raw.decode("utf-8")
    assert not _CONTROL.search(text) and not re.search(r"&#(x0*1b|0*1|x0*7f);", text, re.IGNORECASE)
    return root


def test_build_with_hostile_and_control_character_notes(podcast, runner) -> None:
    """Through the CLI: exit 0, the feed parses as XML, and none of it reaches the feed."""
    podcast.add("hostile", number=3, notes=CONTROL_NOTES + "\n\n" + "\n\n".join(HOSTILE) + "\n",
                extra="summary: 'Short &#1; <a href=\"javascript:alert(1)\">js</a> <b onclick=x>summary</b>'")
    podcast.set_show(description="'Show <img src=x onerror=alert(1)> [js](javascript:alert(1)) &#x1b; end'")
    code, output, raw = feed_of(podcast, runner)
    assert code == 0, output
    channel = assert_clean_feed(raw).find("channel")
    assert channel.findtext("description") == "<p>Show js end</p>"
    for item in channel.findall("item"):
        assert_apple_subset(item.findtext("description"))
        assert_harmless(item.findtext("content:encoded", default="", namespaces=NS))
    hostile = channel.find("item[title='Episode hostile']")
    assert hostile.findtext("description") == "<p>Short js summary</p>"
    assert "Raw delete and next-line characters." in plain_text(hostile.findtext("content:encoded", namespaces=NS))


def test_build_with_a_raw_control_character_never_publishes_it(podcast, runner) -> None:
    """A raw U+0001 in the notes: refused with a message (load's rule) or left out, never a
    traceback, never in the feed."""
    podcast.add("raw", number=3, notes="Raw \x01 control and \x1b escape.\n\n[00:00] A \x01\n[00:02] B\n")
    code, output, raw = feed_of(podcast, runner)
    if code == 0:
        assert_clean_feed(raw)
    else:
        assert code == 2 and "U+0001" in output and "Traceback" not in output
