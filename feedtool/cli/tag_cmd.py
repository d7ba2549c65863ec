"""`feedtool tag`: put an episode's chapters, titles and artwork into an audio file."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.argument("audio", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--episode",
    "episode_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The episode folder (with episode.md) whose metadata goes into the file.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the tagged file. Default: NAME.tagged.EXT next to AUDIO.",
)
@click.option("--in-place", is_flag=True, help="Replace AUDIO itself (atomically) instead.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def tag(audio: Path, episode_dir: Path, output: Path | None, in_place: bool, force: bool) -> None:
    """Write an episode's chapters, titles and cover art into AUDIO.

    For audio that is hosted elsewhere: the file gets exactly the tags `feedtool build` writes
    into its own copies (ID3 CHAP/CTOC for MP3, chapter track + Nero chapters for M4A,
    CHAPTERxxx comments for Ogg, Opus and FLAC). The audio itself is copied, never re-encoded.

    \b
    Example:
        feedtool tag ~/export/ep42.mp3 --episode episodes/ep42
        # -> ~/export/ep42.tagged.mp3
        feedtool tag ep42.m4a --episode episodes/ep42 --output upload/ep42.m4a
    """
    from feedtool.tagging import tag_file

    written, meta = tag_file(audio, episode_dir, output=output, in_place=in_place, force=force)
    listed = sum(1 for chapter in meta.chapters if chapter.toc)
    cover = "with cover art" if meta.cover else "no cover art"
    click.echo(f"wrote {written} ({listed} chapter{'s' if listed != 1 else ''}, {cover})")
