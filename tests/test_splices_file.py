"""public/.feedtool/splices.json as publish reads it: every field checked, clear errors, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from feedtool.errors import InputError
from feedtool.publish.splices import read_splices

KEY = "ep-1/ep-1-1a2b3c4d.mp3"


def write(public: Path, splices: Any, *, head: bytes = b"ID3" + bytes(997), tail: bytes | None = b"TAG" + bytes(125)) -> None:
    heads = public / ".feedtool" / "heads"
    heads.mkdir(parents=True, exist_ok=True)
    (heads / "h.bin").write_bytes(head)
    if tail is not None:
        (heads / "t.bin").write_bytes(tail)
    (public / ".feedtool" / "splices.json").write_text(json.dumps(splices) if not isinstance(splices, str) else splices)


def entry(**changes: Any) -> dict[str, Any]:
    value: dict[str, Any] = {"size": 1000 + 4000 + 128, "head": "h.bin", "tail": "t.bin",
                             "source": {"key": "ep-1/ep-1-99887766.mp3", "size": 9000, "start": 100, "end": 4100}}
    for name, new in changes.items():
        if name.startswith("source_"):
            value["source"][name[len("source_"):]] = new
        else:
            value[name] = new
    return value


def test_no_file_means_no_splices(tmp_path: Path) -> None:
    assert read_splices(tmp_path) == {}


def test_a_good_file_is_read_with_its_head_and_tail(tmp_path: Path) -> None:
    write(tmp_path, {"version": 1, "splices": {KEY: entry(), "ep-2/x-12345678.mp3": entry(tail=None, size=5000)}})
    found = read_splices(tmp_path)
    splice = found[KEY]
    assert (splice.source_key, splice.source_size, splice.start, splice.end, splice.size) == (
        "ep-1/ep-1-99887766.mp3", 9000, 100, 4100, 5128)
    made = splice.composition()
    assert made.head == b"ID3" + bytes(997) and made.tail.startswith(b"TAG") and made.size == 5128
    assert found["ep-2/x-12345678.mp3"].composition().tail == b""
    assert splice.headers.content_type == "audio/mpeg"


@pytest.mark.parametrize(("body", "message"), [
    ("{not json", "cannot be read as JSON"),
    ({"version": 2, "splices": {}}, "is not a version 1 splices file"),
    ({"splices": []}, "is not a version 1 splices file"),
    ({"version": 1, "splices": {"../escape.mp3": entry()}}, "'..' path segment"),
    ({"version": 1, "splices": {".hidden/x.mp3": entry()}}, "hidden name"),
    ({"version": 1, "splices": {KEY: "nope"}}, "needs size, head, tail and source"),
    ({"version": 1, "splices": {KEY: entry(size="5128")}}, "size must be a whole number"),
    ({"version": 1, "splices": {KEY: entry(source_start=True)}}, "source.start must be a whole number"),
    ({"version": 1, "splices": {KEY: entry(source_start=5000)}}, "source.start <= source.end <= source.size"),
    ({"version": 1, "splices": {KEY: entry(source_end=9001)}}, "source.start <= source.end <= source.size"),
    ({"version": 1, "splices": {KEY: entry(source_key="/abs.mp3")}}, "source.key: refusing"),
    ({"version": 1, "splices": {KEY: entry(source_key=KEY)}}, "cannot be made from itself"),
    ({"version": 1, "splices": {KEY: entry(head="../../feed.xml")}}, "head must name a file"),
    ({"version": 1, "splices": {KEY: entry(head="gone.bin")}}, "head file gone.bin is missing"),
    ({"version": 1, "splices": {KEY: entry(tail="gone.bin")}}, "tail file gone.bin is missing"),
    ({"version": 1, "splices": {KEY: entry(size=5129)}}, "head + source range + tail make 5128 bytes"),
])
def test_a_bad_file_is_one_clear_error(tmp_path: Path, body: Any, message: str) -> None:
    write(tmp_path, body)
    with pytest.raises(InputError, match=r"splices\.json") as caught:
        read_splices(tmp_path)
    assert message in caught.value.message
    assert caught.value.hint and "feedtool build" in caught.value.hint


def test_a_head_changed_after_the_plan_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"version": 1, "splices": {KEY: entry()}})
    splice = read_splices(tmp_path)[KEY]
    (tmp_path / ".feedtool" / "heads" / "h.bin").write_bytes(b"ID3" + bytes(10))
    with pytest.raises(InputError, match="changed since build"):
        splice.composition()


def test_publish_with_a_broken_splices_file_exits_2_and_changes_nothing(podcast: Any, runner: Any,
                                                                         tmp_path: Path) -> None:
    site = tmp_path / "site"
    first = run_cli(runner, "publish", "--episodes", podcast.episodes, "--out", podcast.public, "--to", site,
                    "--no-validate")
    assert first.exit_code == 0, first.output
    before = (site / "feed.xml").read_bytes()
    write(podcast.public, {"version": 1, "splices": {KEY: entry(head="gone.bin")}})
    result = run_cli(runner, "publish", "--episodes", podcast.episodes, "--out", podcast.public, "--to", site,
                     "--no-validate", "--no-build")
    assert result.exit_code == 2
    assert "splices.json" in result.output and "gone.bin" in result.output and "Traceback" not in result.output
    assert (site / "feed.xml").read_bytes() == before


def test_apply_stops_starting_re_tags_after_a_failure(podcast: Any, runner: Any, tmp_path: Path) -> None:
    """Sources gone between the plan and apply (a folder target whose compose calls are counted):
    one clear error, the live feed kept, and not every one of 40 copies attempted."""
    from feedtool.errors import StorageError
    from feedtool.publish import apply_plan, make_plan, scan_public
    from feedtool.storage import LocalFolderTarget

    site = tmp_path / "site"
    first = run_cli(runner, "publish", "--episodes", podcast.episodes, "--out", podcast.public, "--to", site,
                    "--no-validate")
    assert first.exit_code == 0, first.output
    source = next(p for p in site.rglob("*.mp3"))
    source_key = source.relative_to(site).as_posix()
    size = source.stat().st_size
    entries = {f"extra/copy-{n:08x}.mp3": {"size": 1000 + size - 10, "head": "h.bin", "tail": None,
                                           "source": {"key": source_key, "size": size, "start": 10, "end": size}}
               for n in range(40)}
    write(podcast.public, {"version": 1, "splices": entries}, tail=None)

    class Counting(LocalFolderTarget):
        calls = 0

        def compose(self, *args: Any, **kwargs: Any) -> Any:
            Counting.calls += 1
            return super().compose(*args, **kwargs)

    target = Counting(site)
    plan = make_plan(scan_public(podcast.public), target, splices=read_splices(podcast.public))
    assert len(plan.retags) == 40
    before = (site / "feed.xml").read_bytes()
    source.unlink()
    with pytest.raises(StorageError, match=r"re-tagging extra/copy-.* failed: .* is not in") as caught:
        apply_plan(plan, target, check_ranges=False)
    assert "put the master back" in (caught.value.hint or "")
    assert Counting.calls < 20
    assert not (site / "extra").exists() or not list((site / "extra").iterdir())
    assert (site / "feed.xml").read_bytes() == before
