"""`feedtool import`: move a show in from its old host (a feed URL or file) without losing a subscriber."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

#: How many warnings of one run are printed before "... and N more" (all are in the summary counts).
SHOWN_WARNINGS = 25


@click.command("import")
@click.argument("feed", metavar="FEED")
@click.option("--into", "into", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="The project folder: the show goes into its episodes/.")
@click.option("--media", type=click.Choice(["remote", "download"]), default="remote", show_default=True,
              help="remote: each episode's audio: stays the old host's URL; download: fetch the audio into "
                   "the episode folders (resumable).")
@click.option("--update", is_flag=True,
              help="Add the episodes published upstream since the last import; an episode you edited is never touched.")
@click.option("--base-url", metavar="URL", help="Where the new feed will be served (podcast.yaml's base_url).")
@click.option("--probe", is_flag=True,
              help="Ask the host about every episode's audio (size, type, duration), not only where the feed is "
                   "silent.")
@click.option("--max-size", type=click.IntRange(min=1), default=32, show_default=True, metavar="MB",
              help="Refuse feeds larger than this.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              metavar="SECONDS", help="Give up on one request after this long.")
@click.option("-q", "--quiet", is_flag=True, help="Print only warnings and errors.")
def import_(feed: str, into: Path, media: str, update: bool, base_url: str | None, probe: bool, max_size: int,
            timeout_s: float, quiet: bool) -> None:
    """Import a show from its feed (FEED: a URL or a file) into episodes/.

    Writes podcast.yaml with every channel field feedtool supports (podcast:guid kept as is) and
    one folder per episode whose front matter keeps the episode's guid exactly, with its notes as
    Markdown, its artwork, transcripts and chapters. Nothing is written unless the whole import
    succeeds. Then follow the steps it prints (docs/moving.md): build, compare with the old feed,
    publish, and redirect the old feed.

    \b
    Examples:
        feedtool import https://anchor.fm/s/12345678/podcast/rss --into my-show
        feedtool import old-feed.xml --media download --base-url https://cdn.example.org/show/
        feedtool import https://feeds.example.com/show.xml --into my-show --update
    """
    from feedtool.importer.run import Options, import_feed

    options = Options(source=feed, into=into, media=media, update=update, base_url=base_url, probe=probe,
                      max_bytes=max_size * 1024 * 1024, timeout_s=timeout_s, progress=_progress(quiet))
    result = import_feed(options)
    _finish_progress()
    _print(result, feed, into, quiet)


_bar: dict[str, Any] = {}


def _progress(quiet: bool) -> Any:
    """A progress bar per download on a terminal; nothing when stderr is a file or a pipe."""
    if quiet or not sys.stderr.isatty():
        return None

    def show(name: str, done: int, total: int | None) -> None:
        if _bar.get("name") != name:
            _finish_progress()
            bar = click.progressbar(length=total or 0, label=name[:40], file=sys.stderr, show_pos=False)
            bar.__enter__()
            _bar.update(name=name, bar=bar, done=0)
        bar = _bar["bar"]
        bar.update(done - _bar["done"])
        _bar["done"] = done

    return show


def _finish_progress() -> None:
    bar = _bar.pop("bar", None)
    _bar.clear()
    if bar is not None:
        bar.__exit__(None, None, None)


def _print(result: Any, feed: str, into: Path, quiet: bool) -> None:
    notices = result.notices
    for warning in notices.warnings[:SHOWN_WARNINGS]:
        click.secho(f"Warning: {warning}", err=True, fg="yellow")
    if len(notices.warnings) > SHOWN_WARNINGS:
        click.secho(f"... and {len(notices.warnings) - SHOWN_WARNINGS} more warning(s).", err=True, fg="yellow")
    if notices.left_out:
        listed = ", ".join(f"{tag} ({count})" for tag, count in sorted(notices.left_out.items()))
        click.secho(f"Not carried over (feedtool does not write them): {listed}", err=True, fg="yellow")
    if quiet:
        return
    episodes = result.episodes_dir
    if result.refreshed or result.kept_edited or result.unchanged or result.gone_upstream:
        click.echo(f"Updated {episodes}: {len(result.added)} new episode(s), {len(result.refreshed)} refreshed "
                   f"from upstream, {result.unchanged} unchanged.")
        if result.kept_edited:
            click.echo(f"Kept your edits of {len(result.kept_edited)} episode(s) that also changed upstream: "
                       + ", ".join(result.kept_edited[:10]) + (" ..." if len(result.kept_edited) > 10 else ""))
        if result.gone_upstream:
            click.echo(f"{len(result.gone_upstream)} imported episode(s) are no longer in the feed; kept: "
                       + ", ".join(result.gone_upstream[:10]))
    else:
        click.echo(f"Imported '{result.channel.title}': {len(result.added)} episode(s) into {episodes}.")
    if result.chapters_from:
        click.echo("Chapters from: " + ", ".join(f"{k} ({v})" for k, v in sorted(result.chapters_from.items())))
    if result.facts_from:
        labels = {"feed": "the feed's enclosure and itunes:duration", "host": "the host (HEAD and Range)",
                  "file": "the downloaded file"}
        click.echo("Audio facts from: " + ", ".join(f"{labels.get(k, k)} ({v})" for k, v in
                                                     sorted(result.facts_from.items())))
    if result.added or result.refreshed:
        click.echo(_next_steps(result, feed, into))


def _next_steps(result: Any, feed: str, into: Path) -> str:
    old = result.feed.url or feed
    show = result.channel.show
    where = "" if into == Path(".") else f"cd {into}\n     "
    lines = ["", "Next, to move the show without losing a subscriber (docs/moving.md):"]
    step = 1
    if result.placeholder_base:
        lines.append(f"  {step}. Set base_url in {result.episodes_dir}/podcast.yaml to where the new feed "
                     "will be served.")
        step += 1
    lines += [
        f"  {step}. {where}feedtool build && feedtool validate --against {old}",
        "     (every guid and episode of the old feed must still be there)",
        f"  {step + 1}. feedtool publish",
        f"  {step + 2}. At the old host, redirect the old feed to the new one: a 301 redirect and",
        "     <itunes:new-feed-url> set to the new feed's address (hosts call it \"redirect feed\" or",
        "     \"move podcast\"). Keep the redirect for good; apps follow it on their next refresh.",
        f"  {step + 3}. After the apps have moved: feedtool validate --against {old} once more.",
    ]
    locked = show.get("locked")
    owner = (show.get("owner") or {}).get("email")
    if locked is not None or owner:
        state = "yes" if locked else "no"
        lines.append(f"  podcast:locked ({state}) and the owner e-mail ({owner or 'none'}) were carried over.")
    return "\n".join(lines)
