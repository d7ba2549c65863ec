"""ISO 639-1 language codes, for the channel's <language> (Apple: "ISO 639 code, optional region")."""

from __future__ import annotations

import re

ISO_639_1 = frozenset(["aa", "ab", "ae", "af", "ak", "am", "an", "ar", "as", "av", "ay", "az", "ba", "be", "bg", "bh", "bi", "bm", "bn", "bo", "br", "bs", "ca", "ce", "ch", "co", "cr", "cs", "cu", "cv", "cy", "da", "de", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi", "fj", "fo", "fr", "fy", "ga", "gd", "gl", "gn", "gu", "gv", "ha", "he", "hi", "ho", "hr", "ht", "hu", "hy", "hz", "ia", "id", "ie", "ig", "ii", "ik", "io", "is", "it", "iu", "ja", "jv", "ka", "kg", "ki", "kj", "kk", "kl", "km", "kn", "ko", "kr", "ks", "ku", "kv", "kw", "ky", "la", "lb", "lg", "li", "ln", "lo", "lt", "lu", "lv", "mg", "mh", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "na", "nb", "nd", "ne", "ng", "nl", "nn", "no", "nr", "nv", "ny", "oc", "oj", "om", "or", "os", "pa", "pi", "pl", "ps", "pt", "qu", "rm", "rn", "ro", "ru", "rw", "sa", "sc", "sd", "se", "sg", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su", "sv", "sw", "ta", "te", "tg", "th", "ti", "tk", "tl", "tn", "to", "tr", "ts", "tt", "tw", "ty", "ug", "uk", "ur", "uz", "ve", "vi", "vo", "wa", "wo", "xh", "yi", "yo", "za", "zh", "zu"])

_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{2}|[0-9]{3}|[A-Za-z]{4}))?(?:-[A-Za-z0-9]{2,8})*$")


def language_problem(value: str) -> str | None:
    """Why a <language> value is not an ISO 639 code with an optional region; None when it is fine."""
    match = _LANGUAGE.match(value)
    if match is None:
        return f"'{value}' is not a language code such as en or en-us"
    code = match.group(1).lower()
    if len(code) == 2 and code not in ISO_639_1:
        return f"'{match.group(1)}' is not an ISO 639-1 language code"
    return None
