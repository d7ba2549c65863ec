"""`feedtool validate`: check a feed (our build, any file, or a URL) before Apple and the apps do."""

from __future__ import annotations

import click


@click.command()
@click.argument("feed", required=False, default="public/feed.xml", metavar="[FEED]")
@click.option("--format", "output_format", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="text for people, json for tools, github for Actions annotations.")
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("--check-media/--no-check-media", default=None,
              help="Check every file the feed points to, over HTTP where needed (HEAD, Range, Content-Type). "
                   "Default: local files of a build only.")
@click.option("--against", metavar="FEED_OR_URL",
              help="The live feed: report episodes that would disappear and guids that would change.")
@click.option("--base-url", metavar="URL",
              help="The URL the feed's folder is served at (default: from its atom:link rel=self).")
@click.option("--ignore", "ignored", multiple=True, metavar="RULE",
              help="Leave out findings of this rule id (repeatable), e.g. --ignore apple.html.unsupported.")
@click.option("--max-size", type=click.IntRange(min=1), default=100, show_default=True, metavar="MB",
              help="Refuse feeds larger than this.")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0.1), default=30.0, show_default=True,
              metavar="SECONDS", help="Give up on a URL (the feed's or a media file's) after this long: "
              "connecting, headers and body together.")
@click.pass_context
def validate(ctx: click.Context, feed: str, output_format: str, strict: bool, check_media: bool | None,
             against: str | None, base_url: str | None, ignored: tuple[str, ...], max_size: int,
             timeout_s: float) -> None:
    """Validate FEED against Apple, RSS 2.0 and Podcasting 2.0 rules.

    FEED is a feed file or an http(s) URL (default: public/feed.xml, the build). Each finding has
    a rule id (see docs/validate.md), a severity, the episode and line, and how to fix it. For a
    feed feedtool built, findings name the episode.md or podcast.yaml key to change, and its line.
    Exit status: 0 clean, 1 errors (or warnings with --strict), 2 unusable input (with --format
    json or github, the reason is also printed as the one finding, rule feed.unreadable).

    \b
    Examples:
        feedtool validate
        feedtool validate https://example.com/feed.xml --check-media
        feedtool validate --against https://example.com/feed.xml --format github
        feedtool validate --strict --ignore apple.author.missing
    """
    from feedtool.errors import FeedtoolError
    from feedtool.validation import RULES, refusal_report, validate_feed

    unknown = [rule for rule in ignored if rule not in RULES]
    if unknown:
        raise click.BadParameter(f"no rule {', '.join(unknown)} (see docs/validate.md)", param_hint="--ignore")
    try:
        report = validate_feed(feed, check_media=check_media, against=against, base_url=base_url,
                               max_bytes=max_size * 1024 * 1024, timeout_s=timeout_s)
    except FeedtoolError as error:
        # A tool reading stdout gets the same structure, with the refusal as its one finding;
        # the message still goes to stderr and the exit status stays 2 (the CLI does both).
        if output_format == "json":
            click.echo(refusal_report(feed, error).to_json(), nl=False)
        elif output_format == "github":
            click.echo(refusal_report(feed, error).to_github(feed), nl=False)
        raise
    report.findings = [f for f in report.findings if f.rule not in ignored]
    if output_format == "json":
        click.echo(report.to_json(), nl=False)
    elif output_format == "github":
        click.echo(report.to_github(feed), nl=False)
    else:
        # click.echo drops the colours when stdout is not a terminal
        click.echo(report.to_text(style=click.style), nl=False)
    ctx.exit(report.exit_code(strict=strict))
