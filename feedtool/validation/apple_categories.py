"""Apple's podcast categories (19 categories, 91 subcategories), spelled exactly as Apple lists them.

Source: https://podcasters.apple.com/support/1691-apple-podcasts-categories, as collected in
shared/reference/standards.md section 1.9 (it includes Religion under Religion & Spirituality, which
the W3C validator wrongly rejects). Values are the decoded text ("&", not "&amp;").
"""

from __future__ import annotations

from feedtool.apple import CATEGORIES

#: One list for the loader and the validator: feedtool.apple.CATEGORIES.
APPLE_CATEGORIES: dict[str, tuple[str, ...]] = CATEGORIES

#: Pre-2019 names people still write, with what Apple uses now (for the fix text).
OBSOLETE: dict[str, str] = {
    "Games & Hobbies": "Leisure",
    "Science & Medicine": "Science, or Health & Fitness > Medicine",
    "Podcasting": "Technology",
    "Literature": "Arts > Books",
    "Tech News": "News > Tech News (or Technology)",
    "Software How-To": "Technology, or Education > How To",
    "Gadgets": "Technology",
    "Sports & Recreation": "Sports",
    "Government & Organizations": "Government",
    "Video Games": "Leisure > Video Games",
    "Hobbies": "Leisure > Hobbies",
    "Personal Journals": "Society & Culture > Personal Journals",
}


def suggest(name: str, choices: tuple[str, ...] | list[str]) -> str | None:
    """The choice that differs from ``name`` only in case, spacing or '&amp;' escaping."""
    key = _fold(name)
    for choice in choices:
        if _fold(choice) == key:
            return choice
    return None


def _fold(text: str) -> str:
    return "".join(text.replace("&amp;", "&").lower().split()).replace("and", "&")
