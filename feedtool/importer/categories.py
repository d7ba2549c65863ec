"""An old feed's itunes:category values mapped onto Apple's current list (feedtool.apple.CATEGORIES).

Apple renamed, merged and dropped categories in 2019; old feeds still carry the old names. A
category that is current is kept (spelling and ``&amp;`` fixed with the validator's own
``suggest``); a retired one is mapped to its successor with a warning; one with no successor is
dropped with a warning.
"""

from __future__ import annotations

from feedtool import apple
from feedtool.validation.apple_categories import OBSOLETE, suggest

#: Retired (category, subcategory) pairs -> the current "Category" or "Category > Subcategory".
#: From Apple's 2019 change (podcasters.apple.com/support/1691, the old list it replaced).
RETIRED_PAIRS: dict[tuple[str, str | None], str] = {
    ("Arts", "Literature"): "Arts > Books",
    ("Business", "Business News"): "News > Business News",
    ("Business", "Management & Marketing"): "Business > Management",
    ("Business", "Shopping"): "Business",
    ("Education", "Educational Technology"): "Education",
    ("Education", "Higher Education"): "Education",
    ("Education", "K-12"): "Education",
    ("Education", "Language Courses"): "Education > Language Learning",
    ("Education", "Training"): "Education > How To",
    ("Games & Hobbies", None): "Leisure",
    ("Games & Hobbies", "Automotive"): "Leisure > Automotive",
    ("Games & Hobbies", "Aviation"): "Leisure > Aviation",
    ("Games & Hobbies", "Hobbies"): "Leisure > Hobbies",
    ("Games & Hobbies", "Other Games"): "Leisure > Games",
    ("Games & Hobbies", "Video Games"): "Leisure > Video Games",
    ("Government & Organizations", None): "Government",
    ("Government & Organizations", "Local"): "Government",
    ("Government & Organizations", "National"): "Government",
    ("Government & Organizations", "Regional"): "Government",
    ("Government & Organizations", "Non-Profit"): "Business > Non-Profit",
    ("Health", None): "Health & Fitness",
    ("Health", "Alternative Health"): "Health & Fitness > Alternative Health",
    ("Health", "Fitness & Nutrition"): "Health & Fitness > Fitness",
    ("Health", "Self-Help"): "Education > Self-Improvement",
    ("Health", "Sexuality"): "Health & Fitness > Sexuality",
    ("News & Politics", None): "News",
    ("Religion & Spirituality", "Other"): "Religion & Spirituality",
    ("Science & Medicine", None): "Science",
    ("Science & Medicine", "Medicine"): "Health & Fitness > Medicine",
    ("Science & Medicine", "Natural Sciences"): "Science > Natural Sciences",
    ("Science & Medicine", "Social Sciences"): "Science > Social Sciences",
    ("Society & Culture", "History"): "History",
    ("Sports & Recreation", None): "Sports",
    ("Sports & Recreation", "Amateur"): "Sports",
    ("Sports & Recreation", "College & High School"): "Sports",
    ("Sports & Recreation", "Outdoor"): "Sports > Wilderness",
    ("Sports & Recreation", "Professional"): "Sports",
    ("Technology", "Gadgets"): "Technology",
    ("Technology", "Tech News"): "News > Tech News",
    ("Technology", "Podcasting"): "Technology",
    ("Technology", "Software How-To"): "Technology",
    ("TV & Film", None): "TV & Film",
}


def _current(name: str, choices: tuple[str, ...] | list[str]) -> str | None:
    return name if name in choices else suggest(name, choices)


def _successor_of_name(name: str) -> str | None:
    """The first current category the validator's OBSOLETE table names for a retired name."""
    text = OBSOLETE.get(name)
    if text is None:
        return None
    first = text.split(", or ")[0].split(" (")[0].strip()
    return first or None


def map_category(top: str, sub: str | None) -> tuple[str | None, str | None]:
    """(the current category as "Top" or "Top > Sub", a warning or None) for one itunes:category.

    None as the category means there is nothing current to map it to (the warning says so).
    """
    shown = f"{top} > {sub}" if sub else top
    current_top = _current(top, list(apple.CATEGORIES))
    if current_top is not None:
        subs = apple.CATEGORIES[current_top]
        if not sub:
            return current_top, None
        current_sub = _current(sub, subs)
        if current_sub is not None:
            return f"{current_top} > {current_sub}", None
    for key in ((top, sub), (top, None)) if sub else ((top, None),):
        successor = RETIRED_PAIRS.get(key)
        if successor is not None:
            return successor, f"category '{shown}' was retired by Apple in 2019; mapped to '{successor}'"
    for name in (sub, top):
        if name:
            successor = _successor_of_name(name)
            if successor is not None:
                return successor, f"category '{shown}' was retired by Apple in 2019; mapped to '{successor}'"
    if current_top is not None:  # a current category with an unknown subcategory: keep the category
        return current_top, f"'{sub}' is not a subcategory of '{current_top}' in Apple's list; kept '{current_top}'"
    return None, f"category '{shown}' is not in Apple's list and has no successor; left out"
