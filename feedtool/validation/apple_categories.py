"""Apple's podcast categories (19 categories, 91 subcategories), spelled exactly as Apple lists them.

Source: https://podcasters.apple.com/support/1691-apple-podcasts-categories, as collected in
shared/reference/standards.md section 1.9 (it includes Religion under Religion & Spirituality, which
the W3C validator wrongly rejects). Values are the decoded text ("&", not "&amp;").
"""

from __future__ import annotations

APPLE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts": ("Books", "Design", "Fashion & Beauty", "Food", "Performing Arts", "Visual Arts"),
    "Business": ("Careers", "Entrepreneurship", "Investing", "Management", "Marketing", "Non-Profit"),
    "Comedy": ("Comedy Interviews", "Improv", "Stand-Up"),
    "Education": ("Courses", "How To", "Language Learning", "Self-Improvement"),
    "Fiction": ("Comedy Fiction", "Drama", "Science Fiction"),
    "Government": (),
    "History": (),
    "Health & Fitness": ("Alternative Health", "Fitness", "Medicine", "Mental Health", "Nutrition", "Sexuality"),
    "Kids & Family": ("Education for Kids", "Parenting", "Pets & Animals", "Stories for Kids"),
    "Leisure": ("Animation & Manga", "Automotive", "Aviation", "Crafts", "Games", "Hobbies", "Home & Garden",
                "Video Games"),
    "Music": ("Music Commentary", "Music History", "Music Interviews"),
    "News": ("Business News", "Daily News", "Entertainment News", "News Commentary", "Politics", "Sports News",
             "Tech News"),
    "Religion & Spirituality": ("Buddhism", "Christianity", "Hinduism", "Islam", "Judaism", "Religion",
                                "Spirituality"),
    "Science": ("Astronomy", "Chemistry", "Earth Sciences", "Life Sciences", "Mathematics", "Natural Sciences",
                "Nature", "Physics", "Social Sciences"),
    "Society & Culture": ("Documentary", "Personal Journals", "Philosophy", "Places & Travel", "Relationships"),
    "Sports": ("Baseball", "Basketball", "Cricket", "Fantasy Sports", "Football", "Golf", "Hockey", "Rugby",
               "Running", "Soccer", "Swimming", "Tennis", "Volleyball", "Wilderness", "Wrestling"),
    "Technology": (),
    "True Crime": (),
    "TV & Film": ("After Shows", "Film History", "Film Interviews", "Film Reviews", "TV Reviews"),
}

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
