"""Benchmark: `feedtool publish` vs `aws s3 sync` on a 3,000-episode public/ against SeaweedFS.

Three situations, each run 3 times per tool, interleaved, medians reported:

- first:  an empty bucket (a fresh bucket per run);
- again:  nothing changed since the last publish;
- clone:  nothing changed, but every file has a new mtime (a fresh CI checkout): ``touch`` of
  every file, and feedtool's hash cache removed (a clone does not have it).

Both tools run as a user runs them (a new process each time, credentials from the environment).
Uploads are counted from each tool's own output: feedtool's ``--format json`` and the
``upload:`` lines of aws s3 sync.

    .venv/bin/python bench/bench_publish.py            # 3,000 episodes
    .venv/bin/python bench/bench_publish.py --episodes 300 --runs 1   # a quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from seaweed_server import ACCESS_KEY, SECRET_KEY, start_seaweed

BASE_URL = "https://podcast.example.com/bench/"
NOTES = ("In this episode we talk about feeds, chapters and the small details that make podcast apps happy. "
         "We go through the guest's story, the tools they use, and what they would do differently. ") * 20


def make_public(root: Path, episodes: int) -> tuple[int, int]:
    """A public/ tree like build writes: per episode an mp3 of a few KB and chapters.json; a big feed."""
    rng = random.Random(29)
    items = []
    files = 0
    total = 0
    for number in range(1, episodes + 1):
        slug = f"ep-{number:04d}"
        folder = root / slug
        folder.mkdir(parents=True)
        audio = b"\xff\xfb\x90\x64" + rng.randbytes(rng.randint(2000, 6000))
        name = f"{slug}-{hashlib.sha256(audio).hexdigest()[:8]}.mp3"
        (folder / name).write_bytes(audio)
        chapters = json.dumps({"version": "1.2.0", "chapters": [
            {"startTime": 0, "title": "Intro"}, {"startTime": 60, "title": f"Topic {number}"}]}).encode()
        (folder / "chapters.json").write_bytes(chapters)
        files += 2
        total += len(audio) + len(chapters)
        items.append(
            f"<item><title>Episode {number}</title><guid isPermaLink=\"false\">bench-{number}</guid>"
            f"<description><![CDATA[<p>{NOTES}</p>]]></description>"
            f"<enclosure url=\"{BASE_URL}{slug}/{name}\" length=\"{len(audio)}\" type=\"audio/mpeg\"/>"
            f"<podcast:chapters url=\"{BASE_URL}{slug}/chapters.json\" type=\"application/json+chapters\"/>"
            "</item>"
        )
    feed = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:podcast="https://podcastindex.org/namespace/1.0"><channel><title>Bench</title>'
        + "".join(items) + "</channel></rss>\n"
    ).encode()
    (root / "feed.xml").write_bytes(feed)
    # Files older than a second, so aws s3 sync's whole-second mtime comparison is not tripped.
    old = time.time() - 120
    for path in root.rglob("*"):
        os.utime(path, (old, old))
    return files + 1, total + len(feed)


def touch_all(root: Path) -> None:
    now = time.time()
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (now, now))


def run_feedtool(project: Path, endpoint: str, bucket: str, env: dict[str, str]) -> tuple[float, int, int]:
    command = [sys.executable, "-m", "feedtool", "publish", "--episodes", str(project / "episodes"),
               "--out", str(project / "public"), "--no-build", "--no-validate", "--to", f"s3://{bucket}/",
               "--endpoint-url", endpoint, "--addressing-style", "path", "--format", "json", "--quiet"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=project)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"feedtool publish failed:\n{done.stdout}\n{done.stderr}")
    report = json.loads(done.stdout)
    return elapsed, len(report["uploaded"]), report["uploaded_bytes"]


def run_aws(project: Path, endpoint: str, bucket: str, env: dict[str, str]) -> tuple[float, int, int]:
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if not aws:
        raise SystemExit("awscli is missing: pip install awscli (the bench extra)")
    command = [aws, "--endpoint-url", endpoint, "s3", "sync", str(project / "public"), f"s3://{bucket}/",
               "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=project)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"aws s3 sync failed:\n{done.stdout}\n{done.stderr}")
    uploads = [line for line in done.stdout.splitlines() if line.startswith("upload:")]
    local_paths = [project / line[len("upload: "):].rsplit(" to s3://", 1)[0] for line in uploads]
    size = sum(path.stat().st_size for path in local_paths)
    return elapsed, len(uploads), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="feedtool-bench-"))
    project = work / "project"
    files, size = make_public(project / "public", args.episodes)
    feed_size = (project / "public" / "feed.xml").stat().st_size
    print(f"public/: {files} files, {size / 1e6:.1f} MB (feed {feed_size / 1e6:.1f} MB), {args.episodes} episodes")

    server = start_seaweed()
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION="us-east-1", AWS_CONFIG_FILE=str(work / "none"),
               AWS_SHARED_CREDENTIALS_FILE=str(work / "none"))
    env.pop("AWS_PROFILE", None)
    s3 = server.client()
    results: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
    tools = {"feedtool publish": run_feedtool, "aws s3 sync": run_aws}
    try:
        for run in range(args.runs):
            for tool, runner in tools.items():
                bucket = f"{'ft' if tool.startswith('feedtool') else 'aws'}-first-{run}"
                s3.create_bucket(Bucket=bucket)
                results.setdefault((tool, "first"), []).append(runner(project, server.endpoint_url, bucket, env))
        for _ in range(args.runs):
            for tool, runner in tools.items():
                bucket = f"{'ft' if tool.startswith('feedtool') else 'aws'}-first-0"
                results.setdefault((tool, "again"), []).append(runner(project, server.endpoint_url, bucket, env))
        for _ in range(args.runs):
            touch_all(project / "public")
            shutil.rmtree(project / ".feedtool-cache", ignore_errors=True)
            time.sleep(1.1)  # the new mtimes are then older than a second, as after a checkout
            for tool, runner in tools.items():
                bucket = f"{'ft' if tool.startswith('feedtool') else 'aws'}-first-0"
                results.setdefault((tool, "clone"), []).append(runner(project, server.endpoint_url, bucket, env))
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print("| situation | feedtool publish | aws s3 sync | ratio (feedtool / aws) | uploads feedtool / aws |")
    print("|---|---|---|---|---|")
    labels = {"first": "first publish", "again": "no-change republish", "clone": "no-change, fresh clone (new mtimes)"}
    for situation, label in labels.items():
        ours = results[("feedtool publish", situation)]
        theirs = results[("aws s3 sync", situation)]
        ours_s = statistics.median(r[0] for r in ours)
        theirs_s = statistics.median(r[0] for r in theirs)
        ours_n = statistics.median(r[1] for r in ours)
        theirs_n = statistics.median(r[1] for r in theirs)
        ours_b = statistics.median(r[2] for r in ours)
        theirs_b = statistics.median(r[2] for r in theirs)
        print(f"| {label} | {ours_s:.2f} s | {theirs_s:.2f} s | {ours_s / theirs_s:.2f} | "
              f"{ours_n:.0f} ({ours_b / 1e6:.1f} MB) / {theirs_n:.0f} ({theirs_b / 1e6:.1f} MB) |")
    print(f"\nmedians of {args.runs} runs; each run is a new process; SeaweedFS {server.endpoint_url} on 127.0.0.1")


if __name__ == "__main__":
    main()
