"""After the feed is live: tell apps (feedtool.notify), with the pending list on the target.

Which services: ``notify:`` in podcast.yaml, read before anything is uploaded (a bad setting
stops the publish while nothing has changed yet); ``--notify`` alone means the keyless Podcast
Index ping; ``--no-notify`` sends nothing (and leaves the pending list as it is).

What: only the feeds this publish uploaded with new bytes (a feed re-sent for its headers did
not change for anyone), plus whatever an earlier publish could not deliver.

The pending list is ``.feedtool/notify.json`` on the target, so the next publish sends it again
from whatever machine it runs on. It is target state like the manifest, so it is written only
while this publish still holds the target's lease (feedtool.publish.lease): a publish that lost
the lease leaves the list to the one that took over, and says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feedtool.storage import ObjectHeaders

if TYPE_CHECKING:
    from feedtool.model import NotifySettings, Show
    from feedtool.notify import NotifyReport
    from feedtool.publish.apply import ApplyResult

_STATE_HEADERS = ObjectHeaders("application/json", "no-cache", "other")


def notify_settings(show: Show | None, flag: bool | None) -> NotifySettings | None:
    """Who to tell: podcast.yaml's ``notify:``, the flag's default, or nobody (None)."""
    from feedtool.model import NotifySettings

    if flag is False:
        return None
    settings = show.notify if show is not None else None
    if settings is None and flag:
        return NotifySettings(podcastindex=True)  # --notify alone: the keyless Podcast Index ping
    return settings


def notify_apps(settings: NotifySettings | None, result: ApplyResult, target: Any,
                lease: Any = None) -> NotifyReport | None:
    """Tell apps about the feeds whose bytes changed (and retry what failed before); None: not asked to."""
    from feedtool.notify import STATE_KEY, notify_after_publish

    if settings is None:
        return None
    changed = [(u.file.key, u.file.path.read_bytes()) for u in result.uploaded
               if u.file.kind == "feed" and u.reason != "headers"]

    def get_state() -> bytes | None:
        fetched = target.get(STATE_KEY)
        return fetched.data if fetched is not None else None

    def put_state(data: bytes) -> None:
        if lease is not None:
            lease.check()  # BusyError (reported, not raised) when another publish took the target
        target.put_bytes(STATE_KEY, data, _STATE_HEADERS)

    return notify_after_publish(settings, changed, get_state=get_state, put_state=put_state)
