"""RFC 2822 dates as Apple and RSS want them: 'Wed, 15 Jun 2022 19:00:00 GMT', right weekday."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = {m: i for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                        "Nov", "Dec"), start=1)}
_ZONES = {"GMT": 0, "UT": 0, "UTC": 0, "Z": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
          "MDT": -6, "PST": -8, "PDT": -7}
_RFC2822 = re.compile(
    r"^\s*(?:(?P<dow>[A-Za-z]{3}),\s*)?(?P<day>\d{1,2})\s+(?P<mon>[A-Za-z]{3})\s+(?P<year>\d{2}|\d{4})\s+"
    r"(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s+(?P<zone>[+-]\d{4}|[A-Za-z]{1,3})\s*$")


class DateProblem(ValueError):
    """The date is not RFC 2822 (``weekday`` False) or has the wrong weekday (``weekday`` True)."""

    def __init__(self, message: str, *, weekday: bool = False) -> None:
        super().__init__(message)
        self.weekday = weekday


def parse_rfc2822(text: str) -> datetime:
    """Parse strictly; raise DateProblem saying what is wrong."""
    match = _RFC2822.match(text)
    if match is None:
        hint = " (that looks like ISO 8601)" if re.match(r"^\d{4}-\d{2}-\d{2}", text.strip()) else ""
        raise DateProblem(f"'{text}' is not an RFC 2822 date{hint}")
    mon = _MONTHS.get(match["mon"])
    if mon is None:
        raise DateProblem(f"'{text}': '{match['mon']}' is not an English month abbreviation (Jan ... Dec)")
    zone = match["zone"]
    if zone[0] in "+-":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5])) * (1 if zone[0] == "+" else -1)
    elif zone.upper() in _ZONES:
        offset = timedelta(hours=_ZONES[zone.upper()])
    else:
        raise DateProblem(f"'{text}': unknown time zone '{zone}' (write GMT or +0000)")
    year = int(match["year"])
    if year < 100:
        year += 2000 if year < 50 else 1900
    try:
        value = datetime(year, mon, int(match["day"]), int(match["h"]), int(match["m"]), int(match["s"] or 0),
                         tzinfo=timezone(offset))
    except ValueError as error:
        raise DateProblem(f"'{text}': {error}") from None
    dow = match["dow"]
    if dow is not None:
        if dow not in _DAYS:
            raise DateProblem(f"'{text}': '{dow}' is not an English weekday abbreviation (Mon ... Sun)")
        actual = _DAYS[value.weekday()]
        if dow != actual:
            raise DateProblem(f"'{text}': {value.day} {match['mon']} {value.year} is a {_DAY_NAMES[value.weekday()]}, "
                              f"not a {_DAY_NAMES[_DAYS.index(dow)]}", weekday=True)
    return value
