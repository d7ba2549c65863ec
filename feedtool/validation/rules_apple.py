"""Apple Podcasts rules: required tags and their allowed values, categories, lengths, HTML, numbers."""

from __future__ import annotations

import re
from typing import Any

from feedtool.apple import EPISODE_TYPES, SHOW_TYPES
from feedtool.validation.apple_categories import APPLE_CATEGORIES, OBSOLETE, suggest
from feedtool.validation.document import CONTENT, Context, Node, it
from feedtool.validation.languages import language_problem
from feedtool.validation.rules_rss import is_http_url, url_problem

DESCRIPTION_MAX_BYTES = 4000
SHORT_TEXT_MAX = 255
_DURATION = re.compile(r"^\d+(:[0-5]\d(:[0-5]\d)?)?$")
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)")
#: what Apple renders in show notes (APPLE-GUIDE; transistor.fm/rendering); br is harmless
HTML_RENDERED = frozenset({"p", "ol", "ul", "li", "a", "br"})
HTML_UNSAFE = frozenset({"script", "style", "iframe", "frame", "frameset", "form", "input", "button", "object",
                         "embed", "meta", "link", "base", "applet"})
_IT_CATEGORY = it("category")
_SHORT_CHANNEL = ("title", it("title"), it("author"), it("subtitle"), it("keywords"))
_SHORT_ITEM = ("title", it("title"), it("author"), it("subtitle"), it("keywords"))


def _name(tag: str) -> str:
    """'{itunes-uri}author' -> 'itunes:author' for messages."""
    if tag.startswith("{"):
        uri, local = tag[1:].split("}", 1)
        prefix = "itunes" if "itunes" in uri else "content" if uri == CONTENT else "podcast"
        return f"{prefix}:{local}"
    return tag


# --- channel -----------------------------------------------------------------------------------
def check_channel(ctx: Context, ch: Node) -> None:
    language = ch.first("language")
    if language is None or not (language.text or "").strip():
        ctx.emit("apple.language", "the channel has no <language>", node=ch, el=language, subject="language")
    else:
        problem = language_problem(language.text.strip())
        if problem:
            ctx.emit("apple.language", f"<language> {problem}", el=language, subject="language")

    _check_categories(ctx, ch)

    explicit = ch.first(it("explicit"))
    if explicit is None:
        ctx.emit("apple.explicit.missing", "the channel has no <itunes:explicit>", node=ch, subject="itunes:explicit")
    else:
        _check_explicit(ctx, explicit, None)

    author = ch.text(it("author"))
    if author is None or not author.strip():
        ctx.emit("apple.author.missing", "the channel has no <itunes:author>", node=ch, el=ch.first(it("author")),
                 subject="itunes:author")

    show_type = ch.first(it("type"))
    if show_type is not None and (show_type.text or "").strip() not in SHOW_TYPES:
        ctx.emit("apple.type.value", f"<itunes:type> is '{show_type.text}'; write episodic or serial", el=show_type,
                 subject="itunes:type")

    for tag in (it("block"), it("complete")):
        el = ch.first(tag)
        if el is not None:
            _check_yes(ctx, el, tag, None)

    new_url = ch.first(it("new-feed-url"))
    if new_url is not None and not is_http_url((new_url.text or "").strip()):
        ctx.emit("apple.new-feed-url", f"<itunes:new-feed-url> '{(new_url.text or '').strip()}' is not an absolute URL",
                 el=new_url, subject="itunes:new-feed-url")

    image = ch.first(it("image"))
    if image is None:
        ctx.emit("apple.artwork.missing", "the channel has no <itunes:image>", node=ch, subject="itunes:image")
    else:
        _check_image_url(ctx, image, None)

    _check_short_texts(ctx, ch, _SHORT_CHANNEL)
    _check_description(ctx, ch)


def _check_categories(ctx: Context, ch: Node) -> None:
    categories = ch.all(_IT_CATEGORY)
    if not categories:
        ctx.emit("apple.category.missing", "the channel has no <itunes:category>", node=ch, subject="itunes:category")
        return
    for el in categories:
        name = el.get("text")
        if name is None:
            ctx.emit("apple.category.invalid", "an <itunes:category> has no text attribute", el=el,
                     subject="itunes:category")
            continue
        subs = [c for c in el if c.tag == _IT_CATEGORY]
        if name not in APPLE_CATEGORIES:
            ctx.emit("apple.category.invalid", _unknown_category(name, list(APPLE_CATEGORIES), None), el=el,
                     subject="itunes:category")
            continue
        if len(subs) > 1:
            ctx.emit("apple.category.nesting", f"'{name}' has {len(subs)} subcategories; Apple reads only the first",
                     el=subs[1], subject="itunes:category")
        for sub in subs:
            sub_name = sub.get("text")
            if sub_name is None:
                ctx.emit("apple.category.invalid", "an <itunes:category> has no text attribute", el=sub,
                         subject="itunes:category")
            elif sub_name not in APPLE_CATEGORIES[name]:
                ctx.emit("apple.category.invalid", _unknown_category(sub_name, list(APPLE_CATEGORIES[name]), name),
                         el=sub, subject="itunes:category")
            if any(c.tag == _IT_CATEGORY for c in sub):
                ctx.emit("apple.category.nesting", f"'{name} > {sub_name}' nests a third level; Apple has two",
                         el=sub, subject="itunes:category")


def _unknown_category(name: str, choices: list[str], parent: str | None) -> str:
    what = f"'{name}' is not a subcategory of '{parent}'" if parent else f"'{name}' is not an Apple category"
    close = suggest(name, choices)
    if close:
        return f"{what}; did you mean '{close}'?"
    if name in OBSOLETE:
        return f"{what} (it is from the pre-2019 list); use {OBSOLETE[name]}"
    for top, subs in APPLE_CATEGORIES.items():
        if name in subs and top != parent:
            return f"{what}; it belongs under '{top}'"
    return what


def _check_explicit(ctx: Context, el: Any, node: Node | None) -> None:
    value = (el.text or "").strip()
    if value in ("true", "false"):
        return
    if value.lower() in ("yes", "no", "clean", "true", "false", "explicit"):
        right = "true" if value.lower() in ("yes", "true", "explicit") else "false"
        ctx.emit("apple.explicit.legacy", f"<itunes:explicit> is '{value}'; write {right}", node=node, el=el,
                 subject="itunes:explicit")
    else:
        ctx.emit("apple.explicit.value", f"<itunes:explicit> is '{value}'; write true or false", node=node, el=el,
                 subject="itunes:explicit")


def _check_yes(ctx: Context, el: Any, tag: str, node: Node | None) -> None:
    value = (el.text or "").strip()
    name = _name(tag)
    if value in ("Yes", "yes"):
        what = ("the show is marked complete (no more episodes)" if tag.endswith("complete")
                else "this episode is hidden from Apple Podcasts" if node is not None
                else "the whole show is hidden from Apple Podcasts")
        ctx.emit("apple.block.set", f"<{name}>Yes: {what}", node=node, el=el, subject=name)
    elif value not in ("No", "no"):
        ctx.emit("apple.block.value", f"<{name}> is '{value}'; only Yes has an effect", node=node, el=el, subject=name)


def _check_image_url(ctx: Context, el: Any, node: Node | None) -> None:
    href = (el.get("href") or "").strip()
    if not href:
        text = (el.text or "").strip()
        message = ("<itunes:image> has the URL as text; Apple reads only the href attribute" if text
                   else "<itunes:image> has no href")
        ctx.emit("apple.artwork.url", message, node=node, el=el, subject="itunes:image@href")
        return
    if not is_http_url(href):
        ctx.emit("apple.artwork.url", f"<itunes:image href> '{href}' is not an absolute http(s) URL", node=node, el=el,
                 subject="itunes:image@href")
        return
    problem = url_problem(href)
    if problem:
        ctx.emit("apple.artwork.url", f"<itunes:image href> '{href}' {problem}", node=node, el=el,
                 subject="itunes:image@href")
        return
    path = href.split("?", 1)[0].split("#", 1)[0].lower()
    if not path.endswith((".jpg", ".jpeg", ".png")):
        ctx.emit("apple.artwork.url", f"<itunes:image href> '{href}' does not end in .jpg or .png", node=node, el=el,
                 subject="itunes:image@href")


def _check_short_texts(ctx: Context, node: Node, tags: tuple[str, ...]) -> None:
    item_node = node if node.index is not None else None
    for tag in tags:
        el = node.first(tag)
        if el is None or el.text is None:
            continue
        text = el.text
        if len(text) > SHORT_TEXT_MAX:
            ctx.emit("apple.text.length", f"<{_name(tag)}> is {len(text)} characters; Apple allows {SHORT_TEXT_MAX}",
                     node=item_node, el=el, subject=_name(tag))
        if tag in ("title", it("title")) and text and text != text.strip() and text.strip():
            ctx.emit("apple.text.whitespace", f"<{_name(tag)}> has leading or trailing whitespace", node=item_node,
                     el=el, subject=_name(tag))


def _byte_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _check_description(ctx: Context, node: Node) -> None:
    item_node = node if node.index is not None else None
    for tag in ("description", it("summary")):
        el = node.first(tag)
        if el is None or not el.text:
            continue
        text = el.text
        if len(text) > DESCRIPTION_MAX_BYTES // 4 and _byte_length(text) > DESCRIPTION_MAX_BYTES:
            ctx.emit("apple.description.length", f"<{_name(tag)}> is {_byte_length(text):,} bytes; "
                     f"Apple allows {DESCRIPTION_MAX_BYTES:,}", node=item_node, el=el, subject=_name(tag))
        _check_html(ctx, el, text, _name(tag), item_node)
    content = node.first("{" + CONTENT + "}encoded")
    if content is not None and content.text:
        text = content.text
        if len(text) > DESCRIPTION_MAX_BYTES // 4 and _byte_length(text) > DESCRIPTION_MAX_BYTES:
            ctx.emit("apple.content.length", f"<content:encoded> is {_byte_length(text):,} bytes; some apps cut notes "
                     f"after {DESCRIPTION_MAX_BYTES:,}", node=item_node, el=content, subject="content:encoded")
        _check_html(ctx, content, text, "content:encoded", item_node)


def _check_html(ctx: Context, el: Any, text: str, name: str, node: Node | None) -> None:
    if "<" not in text:
        return
    tags = {t.lower() for t in set(_TAG.findall(text))}
    unsafe = sorted(tags & HTML_UNSAFE)
    if unsafe:
        ctx.emit("apple.html.unsafe", f"<{name}> contains {', '.join('<' + t + '>' for t in unsafe)}", node=node,
                 el=el, subject=name)
    other = sorted(tags - HTML_RENDERED - HTML_UNSAFE)
    if other:
        ctx.emit("apple.html.unsupported", f"<{name}> uses {', '.join('<' + t + '>' for t in other)}, which Apple "
                 "shows as plain text", node=node, el=el, subject=name)


# --- items -------------------------------------------------------------------------------------
def check_item(ctx: Context, item: Node, *, serial: bool) -> None:
    ch = item.children
    explicit = ch.get(it("explicit"))
    if explicit:
        _check_explicit(ctx, explicit[0], item)
    episode_type = ch.get(it("episodeType"))
    kind = "full"
    if episode_type:
        kind = (episode_type[0].text or "").strip()
        if kind not in EPISODE_TYPES:
            ctx.emit("apple.episode-type.value", f"<itunes:episodeType> is '{kind}'; write full, trailer or bonus",
                     node=item, el=episode_type[0], subject="itunes:episodeType")
    number = ch.get(it("episode"))
    for tag in ("episode", "season"):
        found = number if tag == "episode" else ch.get(it("season"))
        if found:
            value = (found[0].text or "").strip()
            if not (value.isdigit() and int(value) >= 1):
                ctx.emit("apple.number", f"<itunes:{tag}> is '{value}'; it must be a whole number from 1 up",
                         node=item, el=found[0], subject=f"itunes:{tag}")
    if serial and not number and kind == "full":
        ctx.emit("apple.serial.numbers", "the show is serial but this episode has no <itunes:episode>", node=item,
                 subject="itunes:episode")
    duration = ch.get(it("duration"))
    if not duration:
        if ch.get("enclosure"):
            ctx.emit("apple.duration.missing", "the episode has no <itunes:duration>", node=item,
                     subject="itunes:duration")
    else:
        value = (duration[0].text or "").strip()
        if not _DURATION.match(value):
            ctx.emit("apple.duration.format", f"<itunes:duration> is '{value}'; write whole seconds, e.g. 3725",
                     node=item, el=duration[0], subject="itunes:duration")
    block = ch.get(it("block"))
    if block:
        _check_yes(ctx, block[0], it("block"), item)
    image = ch.get(it("image"))
    if image:
        _check_image_url(ctx, image[0], item)
    if not (ch.get("description") or ch.get("{" + CONTENT + "}encoded") or ch.get(it("summary"))):
        ctx.emit("apple.description.missing", "the episode has no <description>", node=item, subject="description")
    _check_short_texts(ctx, item, _SHORT_ITEM)
    _check_description(ctx, item)


def duration_seconds(value: str) -> float | None:
    """itunes:duration in seconds, or None if it is not in a form Apple reads."""
    value = value.strip()
    if not _DURATION.match(value):
        return None
    seconds = 0
    for part in value.split(":"):
        seconds = seconds * 60 + int(part)
    return float(seconds)
