"""`feedtool publish` and `feedtool serve`: thin commands over feedtool.publish and feedtool.serve."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command()
@click.option("--to", "to", metavar="TARGET", envvar="FEEDTOOL_PUBLISH_TO",
              help="A folder or s3://bucket/prefix. Default: publish.to in episodes/podcast.yaml, else site/.")
@click.option("--endpoint-url", envvar="FEEDTOOL_ENDPOINT_URL", metavar="URL",
              help="S3-compatible service (R2, B2, MinIO, Spaces, Wasabi); overrides podcast.yaml.")
@click.option("--region", envvar="FEEDTOOL_REGION", help="Bucket region; overrides podcast.yaml.")
@click.option("--addressing-style", type=click.Choice(["auto", "path", "virtual"]), envvar="FEEDTOOL_ADDRESSING_STYLE",
              help="S3 addressing style; overrides podcast.yaml.")
@click.option("--episodes", "episodes_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("episodes"), show_default=True, help="The episodes folder (for build and settings).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("public"), show_default=True, help="The built folder to publish.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--delete", is_flag=True, help="Also remove objects that are no longer in public/ (after the feed).")
@click.option("--yes", is_flag=True, help="Allow more deletions than publish.max_deletes.")
@click.option("--no-build", is_flag=True, help="Publish public/ as it is, even if it is stale.")
@click.option("--no-validate", is_flag=True, help="Do not run the feed validator first.")
@click.option("--allow-removals", is_flag=True,
              help="Replace the live feed even if episodes disappear or guids change.")
@click.option("--force", is_flag=True,
              help="Publish despite validation errors, removals or a target without byte ranges.")
@click.option("--check-remote", is_flag=True,
              help="Also compare each object's ETag with the one recorded when feedtool uploaded it, so "
                   "objects overwritten by hand (even with the same size) are found and uploaded again.")
@click.option("--grace-days", type=click.FloatRange(min=0), metavar="DAYS",
              help="With --delete: keep what a feed live within this many days references "
                   "(default: publish.grace_days in podcast.yaml, else 7).")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0), default=10, show_default=True, metavar="SECONDS",
              help="How long to wait for another build or publish using public/ or the target.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text", show_default=True,
              help="json: a machine-readable summary on stdout; github: text plus workflow annotations.")
@click.option("--notify/--no-notify", "notify", default=None,
              help="After the feed is up, tell apps it changed (Podping, WebSub, Podcast Index; see notify: in "
                   "podcast.yaml). Default: when podcast.yaml has notify:.")
@click.option("--progress/--quiet", "progress", default=None,
              help="Progress bar on stderr (default: only on a terminal).")
def publish(
    to: str | None, endpoint_url: str | None, region: str | None, addressing_style: str | None,
    episodes_dir: Path, out_dir: Path, dry_run: bool, delete: bool, yes: bool, no_build: bool,
    no_validate: bool, allow_removals: bool, force: bool, check_remote: bool, grace_days: float | None,
    wait_s: float, fmt: str, notify: bool | None, progress: bool | None,
) -> None:
    """Upload public/ to a folder or S3-compatible storage, feed last.

    Builds first when public/ is missing or stale and refuses a feed that fails validation.
    Compares content hashes with what the target holds, uploads only what changed (media,
    artwork, chapters, transcripts), checks that everything the new feed references is there,
    keeps the previous feed under .feedtool/feeds/, and replaces the feed last. Refuses when
    episodes would vanish or guids change. One publish at a time per target (a lease in
    .feedtool/ on the target); --delete keeps what recently live feeds reference.
    Credentials come only from the AWS environment/profile/role, never from podcast.yaml.

    \b
    Examples:
        feedtool publish                      # to publish.to in podcast.yaml, or ./site
        feedtool publish --dry-run
        feedtool publish --to s3://my-bucket/show --format json
        feedtool publish --delete --yes
        feedtool publish --notify             # then ping Podping / WebSub / the Podcast Index
    """
    from feedtool.publish import PublishOptions, render_plan
    from feedtool.publish import publish as run_publish

    options = PublishOptions(
        episodes_dir=episodes_dir, out_dir=out_dir, to=to, endpoint_url=endpoint_url, region=region,
        addressing_style=addressing_style, dry_run=dry_run, delete=delete, yes=yes,
        build=not no_build, validate=not no_validate, force=force, allow_removals=allow_removals,
        check_remote=check_remote, grace_days=grace_days, wait_s=wait_s,
        progress=False if fmt == "json" and progress is None else progress,
        cache_dir=episodes_dir.resolve().parent / ".feedtool-cache",
        notify=notify,
    )
    report = run_publish(options, echo=lambda line: click.secho(line, err=True, fg="yellow"))
    if fmt == "json":
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    if report.built:
        click.echo(f"Built {out_dir} (it was missing or older than {episodes_dir}).")
    for line in render_plan(report):
        click.echo(line)
    if fmt == "github" and report.notifications is not None:
        for line in report.notifications.github():
            click.echo(line)


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; 0.0.0.0 lets a phone on the same network subscribe.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option("--as-published", is_flag=True,
              help="Serve the feed byte for byte (its URLs then point at the real host, not here).")
@click.option("--quiet", is_flag=True, help="Do not log requests.")
def serve(directory: Path | None, host: str, port: int, as_published: bool, quiet: bool) -> None:
    """Preview public/ (or a published folder) over HTTP, as a CDN would serve it.

    Answers HEAD and byte-range requests (206), with the same Content-Type and Cache-Control
    as publish sets. The feed's URLs are rewritten to this server so episodes play from it.

    \b
    Examples:
        feedtool serve                        # http://127.0.0.1:8000/feed.xml
        feedtool serve site --host 0.0.0.0    # subscribe from a phone on the same Wi-Fi
    """
    from feedtool.errors import InputError
    from feedtool.serve import PublicServer, feed_names, lan_address

    root = directory or Path("public")
    if not root.is_dir():
        raise InputError(f"{root} does not exist", hint="run `feedtool build` first, or name a folder")
    try:
        server = PublicServer(root, host, port, as_published=as_published, quiet=quiet)
    except OSError as error:
        raise InputError(f"cannot listen on {host}:{port}: {error.strerror or error}",
                         hint="pick another --port (0 picks a free one)") from error
    shown_host = host
    if host in ("0.0.0.0", "::"):
        shown_host = lan_address() or "127.0.0.1"
    click.echo(f"Serving {root} on http://{shown_host}:{server.port}/ (Ctrl-C to stop)")
    for name in feed_names(root):
        click.echo(f"  feed: http://{shown_host}:{server.port}/{name}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()
