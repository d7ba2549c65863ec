"""The command line: click commands only.

Each command parses its arguments, calls one core function, and prints. Commands live in small
modules next to this one and are imported only when used, so ``feedtool --help`` stays fast and
never imports boto3, PyAV or lxml. ``FeedtoolError`` is turned into a message and an exit code
here, in one place.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from feedtool import __version__
from feedtool.errors import FeedtoolError

#: command name -> (module, attribute); the order is the order in --help.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("feedtool.cli.build_cmds", "init"),
    "new": ("feedtool.cli.build_cmds", "new"),
    "import": ("feedtool.cli.import_cmd", "import_"),
    "build": ("feedtool.cli.build_cmds", "build"),
    "chapters": ("feedtool.cli.build_cmds", "chapters"),
    "tag": ("feedtool.cli.tag_cmd", "tag"),
    "validate": ("feedtool.cli.validate_cmd", "validate"),
    "publish": ("feedtool.cli.publish_cmds", "publish"),
    "serve": ("feedtool.cli.publish_cmds", "serve"),
}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class FeedtoolGroup(click.Group):
    """A group that loads commands lazily and reports FeedtoolError without a traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        try:
            module = importlib.import_module(target[0])
        except ModuleNotFoundError as error:
            if error.name != target[0]:
                raise
            return None  # a command whose module is not part of this install
        command: click.Command = getattr(module, target[1])
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FeedtoolError as error:
            click.secho(f"Error: {error}", err=True, fg="red")
            ctx.exit(error.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=FeedtoolGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="feedtool")
def cli() -> None:
    """Turn a folder of episodes into a podcast.

    episodes/ (a podcast.yaml and one folder per episode) becomes public/: an RSS feed that meets
    Apple's requirements and carries the Podcasting 2.0 tags, a JSON chapters file per episode,
    and audio with chapters and artwork in its own tags. Then validate it and publish it.

    \b
    Start here:
        feedtool init my-show && cd my-show
        feedtool new "Our first episode"
        feedtool build && feedtool validate && feedtool publish
    """


def main() -> None:
    """Console-script entry point."""
    try:
        cli(prog_name="feedtool")
    except KeyboardInterrupt:  # during start-up, before a command runs
        click.echo("Interrupted.", err=True)
        sys.exit(130)
