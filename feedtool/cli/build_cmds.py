"""Commands that work on episodes/: init, new, build, chapters."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import click

from feedtool.scaffold import PLACEHOLDER_BASE_URL

if TYPE_CHECKING:
    from feedtool.build import BuildResult

EPISODES_OPTION = click.option(
    "--episodes",
    "episodes_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("episodes"),
    show_default=True,
    help="The folder with podcast.yaml and one folder per episode.",
)


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--title", default="My Podcast", show_default=True, help="The show's title.")
@click.option("--author", help="Who makes the show, as apps show it (default: the title).")
@click.option("--base-url", default=PLACEHOLDER_BASE_URL, show_default=True,
              help="Where the built site will be served from (a placeholder until you know it).")
def init(directory: Path, title: str, author: str | None, base_url: str) -> None:
    """Make DIRECTORY a show repository that publishes itself from GitHub Actions.

    Writes episodes/podcast.yaml, placeholder artwork, a first draft episode, .gitignore, a
    README.md for the show and .github/workflows/publish.yml. Never replaces a file that
    exists: in an existing show it adds only what is missing.

    \b
    Example:
        feedtool init my-show --title "Night Shift" --base-url https://cdn.example.org/night-shift/
        cd my-show && feedtool new "Pilot"
    """
    from feedtool.scaffold import init_podcast

    result = init_podcast(directory, title=title, author=author, base_url=base_url)
    for path in result.created:
        click.echo(f"created {path}")
    for path in result.kept:
        click.echo(f"kept    {path} (it exists)")
    for note in result.notes:
        click.secho(f"Note: {note}", err=True, fg="yellow")
    if not result.created:
        click.echo("Nothing to do: every file init makes is already there.")
        return
    click.echo("Next: set title, author, description and base_url in episodes/podcast.yaml, replace "
               "episodes/artwork.jpg, add audio to the first episode, then `feedtool build` and "
               "`feedtool serve` to preview. README.md says how to publish from GitHub.")


@click.command()
@click.argument("title")
@EPISODES_OPTION
@click.option("--date", "date_text", help="Publication date (ISO 8601); default: now.")
def new(title: str, episodes_dir: Path, date_text: str | None) -> None:
    """Create a folder for a new episode: a draft with the next number and its own guid.

    The guid in its front matter stays the episode's id in every app, also when the folder
    is renamed.

    \b
    Example:
        feedtool new "Culture and Architecture in MLOps"
        # -> episodes/culture-and-architecture-in-mlops/episode.md (draft: true)
    """
    from feedtool.scaffold import new_episode

    path = new_episode(episodes_dir, title, date_text=date_text)
    click.echo(f"created {path}")
    click.echo("Put the audio next to it, set 'audio:', write the notes, and remove 'draft: true'.")


@click.command()
@EPISODES_OPTION
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("public"), show_default=True, help="Where to write the site.")
@click.option("--base-url", help="Override base_url from podcast.yaml (e.g. for a preview).")
@click.option("--drafts", is_flag=True, help="Include drafts and future-dated episodes.")
@click.option("--force", is_flag=True, help="Rebuild even when nothing changed.")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=10, show_default=True, metavar="SECONDS",
              help="How long to wait for another build or publish using the same output or cache.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def build(episodes_dir: Path, out_dir: Path, base_url: str | None, drafts: bool, force: bool,
          wait_s: float, quiet: bool) -> None:
    """Build the feed, JSON chapters and tagged audio from episodes/ into public/.

    A failed build leaves the previous public/ as it was; an unchanged catalogue rebuilds
    in a moment without touching any audio. One build at a time per output folder: a second
    one waits (--wait), then stops with exit code 2 naming the first.

    \b
    Example:
        feedtool build
        feedtool build --episodes shows/night-shift/episodes --out build/night-shift
    """
    from feedtool.build import build_podcast

    result = build_podcast(episodes_dir, out_dir, base_url=base_url, drafts=drafts, force=force, wait_s=wait_s)
    for warning in result.warnings:
        click.secho(f"Warning: {warning}", err=True, fg="yellow")
    if quiet:
        return
    if result.up_to_date:
        click.echo(f"{result.feed_path} is up to date ({result.episodes} episode(s)).")
        _echo_next_due(result)
        return
    held = []
    if result.drafts_left_out:
        held.append(f"{result.drafts_left_out} draft(s)")
    if result.future_left_out:
        held.append(f"{result.future_left_out} scheduled")
    left_out = f"; left out {', '.join(held)} (use --drafts to include)" if held else ""
    pages = f" (the older ones in {result.archive_pages} archive page(s))" if result.archive_pages else ""
    away = []  # masters not on this machine (docs/publishing.md, "Where your audio lives")
    if result.remote:
        away.append(f"{result.remote} on the target already")
    if result.spliced:
        away.append(f"{result.spliced} to re-tag inside the bucket at publish")
    if result.masters_fetched:
        away.append(f"{result.masters_fetched} master(s) fetched")
    elsewhere = f" ({', '.join(away)})" if away else ""
    click.echo(
        f"Built {result.feed_path}: {result.episodes} episode(s){pages}, "
        f"{result.tagged} audio file(s) tagged, {result.reused} unchanged{elsewhere}{left_out}."
    )
    _echo_next_due(result)


def _echo_next_due(result: BuildResult) -> None:
    """One line the publish workflow's summary quotes: when the feed changes without a commit."""
    if result.next_due is not None:
        when = result.next_due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        click.echo(f"Next scheduled episode: {result.next_due_episode} at {when}")


@click.command()
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def chapters(source: Path, output_format: str) -> None:
    """Show the chapters feedtool reads from SOURCE.

    SOURCE is an episode folder or episode.md (its front matter, chapters file or show-note
    timestamps, as a build takes them), a Markdown file of show notes, a chapters file (JSON,
    "HH:MM:SS Title" lines, Audacity labels) or an audio file (the chapters in its tags).

    \b
    Example:
        feedtool chapters episodes/coffee-sessions-29
        feedtool chapters notes.md
        feedtool chapters public/coffee-sessions-29/chapters.json --format json
    """
    from feedtool.chapter_source import read_chapters_from

    report = read_chapters_from(source)
    click.echo(f"{len(report.chapters)} chapters from {report.origin}", err=True)
    for notice in report.notices:
        click.secho(f"Note: {notice}", err=True, fg="yellow")
    if output_format == "json":
        from feedtool.chapters import to_json

        click.echo(to_json(report.chapters).decode("utf-8"), nl=False)
        return
    from feedtool.chapters import format_timestamp

    for chapter in report.chapters:
        click.echo(f"{format_timestamp(chapter.start_s)}  {chapter.title}")
