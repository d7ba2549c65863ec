"""Publish public/ to a target so that the live show stays consistent, whatever happens.

One module per job:

- ``local.py``: the files of public/ with their sha256 and headers (hashed once per content);
- ``state.py``: the target's own state under ``.feedtool/`` (manifest, reference history);
- ``references.py``: which objects a feed (and its RFC 5005 archive pages) points at;
- ``plan.py``: what to upload, skip, delete and keep, and every refusal, before anything changes;
- ``lease.py``: one publish at a time per target;
- ``apply.py``: the order that keeps the live feed pointing only at objects that exist;
- ``notifications.py``: after the feed is live, tell apps (feedtool.notify), pending list on the target;
- ``guards.py``: where a local target may not be;
- ``report.py``: progress, text and JSON output;
- ``run.py``: the whole command.
"""

from feedtool.publish.apply import ApplyResult, apply_plan
from feedtool.publish.local import HashCache, LocalFile, scan_public
from feedtool.publish.plan import Plan, Upload, make_plan
from feedtool.publish.report import ProgressMeter, PublishReport, human_size, render_plan
from feedtool.publish.run import PublishOptions, publish

__all__ = [
    "ApplyResult", "HashCache", "LocalFile", "Plan", "ProgressMeter", "PublishOptions", "PublishReport", "Upload",
    "apply_plan", "human_size", "make_plan", "publish", "render_plan", "scan_public",
]
