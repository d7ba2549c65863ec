"""The publish workflow `feedtool init` writes, run as GitHub would run it, against SeaweedFS.

A podcaster's repository here holds only what `feedtool init` made plus one episode with real
audio (force-added, the README's way for a small show), or, for the audio-outside-git tests,
only text: the episode's `audio:` is an s3:// master in a "masters" bucket on the same SeaweedFS.
The repository is pushed to a bare "GitHub" origin, which each run clones and the workflow's
"Commit feedtool.lock" step pushes to. feedtool comes from a wheel built from this
checkout and installed into a venv once per module; the workflow's own install step runs with
the repository variable FEEDTOOL_PIP_SPEC pointing at that wheel (the override the workflow
documents), so nothing is fetched from a registry during a run. Each run starts from a fresh
clone, like a hosted runner. tests/workflow_runner.py is the emulator: every `run:` step is run
with exactly GitHub's command line for its shell, `uses:` steps are minimal equivalents.

The job must fail when publishing fails (wrong key, unreachable endpoint, no credentials, a
folder target, validation errors) and publish otherwise; a scheduled run releases an episode
whose date has come and one without changes uploads nothing; the storage credentials reach
only Build and Publish, the push token only the step that commits feedtool.lock; a published
run commits episodes/feedtool.lock back (alone, as github-actions[bot]) when the build recorded
something new, a refused push is a warning on a green run, and nothing goes into the Actions cache.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path

import feedparser
import pytest
import yaml
from seaweed_server import ACCESS_KEY, SECRET_KEY, SeaweedServer, free_port_pair, start_seaweed
from workflow_runner import JobResult, Runner, load_workflow

from feedtool import __version__

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
TITLE = 'Talk: The "Show" #1'
_numbers = itertools.count()


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def feedtool_wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(bin folder of a venv with feedtool installed from a wheel of this checkout, the wheel)."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "feedtool", source / "feedtool", ignore=shutil.ignore_patterns("__pycache__"))
    quiet = ["--quiet", "--disable-pip-version-check"]
    subprocess.run([sys.executable, "-m", "pip", "wheel", *quiet, "--no-deps", "-w", str(base / "dist"),
                    str(source)], check=True)
    (wheel,) = (base / "dist").glob("feedtool-*.whl")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", *quiet, str(wheel)], check=True)
    return venv / "bin", wheel


@pytest.fixture(scope="module")
def seaweed() -> Iterator[SeaweedServer]:
    server = start_seaweed()
    yield server
    server.stop()


@pytest.fixture
def bucket(seaweed: SeaweedServer) -> str:
    name = f"show-{os.getpid()}-{next(_numbers)}"
    seaweed.make_public_bucket(name)
    return name


@pytest.fixture(scope="module")
def clock_ahead() -> Callable[[int], dict[str, str]]:
    """The runner machine's clock moved forward (libfaketime, from Debian's faketime package)."""
    found = glob("/usr/lib/*/faketime/libfaketime.so.1") + glob("/usr/lib/faketime/libfaketime.so.1")
    if not found:
        pytest.fail("libfaketime is missing: run `bash .ci/run` (it installs Debian's faketime package)")

    def env(seconds: int) -> dict[str, str]:
        return {"LD_PRELOAD": found[0], "FAKETIME": f"+{seconds}", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}

    return env


BOT = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
LOCK = "episodes/feedtool.lock"


class Show:
    """A podcaster's repository: `feedtool init` output plus episodes, committed with git and
    pushed to ``origin``, a bare repository next to it (GitHub, as far as the runs know)."""

    def __init__(self, root: Path, feedtool_bin: Path) -> None:
        self.root = root
        self.origin = root.parent / "origin.git"
        self.feedtool = str(feedtool_bin / "feedtool")

    def cli(self, *args: str) -> str:
        done = subprocess.run([self.feedtool, *args], cwd=self.root, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def add_episode(self, title: str, audio: Path | str, *, date: datetime) -> Path:
        """A ready episode whose master is ``audio``: a file copied next to episode.md, or an
        address (s3://, https://) written into ``audio:``."""
        out = self.cli("new", title, "--date", date.strftime("%Y-%m-%dT%H:%M:%SZ"))
        folder = self.root / re.search(r"created (\S+)/episode\.md", out).group(1)
        md = folder / "episode.md"
        text = md.read_text(encoding="utf-8").replace("draft: true\n", "")
        if isinstance(audio, Path):
            shutil.copyfile(audio, folder / "episode.mp3")
        else:
            text = text.replace("audio: episode.mp3\n", f"audio: {audio}\n")
        md.write_text(text, encoding="utf-8")
        return folder

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True).stdout

    def commit(self, message: str, *, with_audio: bool = True) -> None:
        """Commit everything and push it to origin (made on the first push)."""
        self.git("add", "-A")
        if with_audio:  # audio is ignored by default (.gitignore); a small show force-adds it
            for audio in (self.root / "episodes").glob("*/*.mp3"):
                self.git("add", "-f", str(audio.relative_to(self.root)))
        self.git("commit", "--quiet", "-m", message)
        if not self.origin.exists():
            subprocess.run(["git", "init", "--quiet", "--bare", "-b", "main", str(self.origin)], check=True)
            self.git("remote", "add", "origin", str(self.origin))
        self.git("push", "--quiet", "origin", "main")

    def pull(self) -> None:
        self.git("pull", "--quiet", "--ff-only", "origin", "main")

    def origin_git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.origin, capture_output=True, text=True, check=True).stdout

    def guid_of(self, folder: Path) -> str:
        front = folder.joinpath("episode.md").read_text(encoding="utf-8").split("---")[1]
        return str(yaml.safe_load(front)["guid"])


def new_show(root: Path, feedtool_bin: Path, artwork_jpg: Path) -> Show:
    """`feedtool init` by the wheel's feedtool, with real artwork, a real e-mail address and a base
    URL on the bucket's CDN, in a git repository with no commit yet."""
    made = Show(root, feedtool_bin)
    subprocess.run([made.feedtool, "init", str(root), "--title", TITLE, "--author", "Ana & Bo",
                    "--base-url", CDN_URL], check=True, capture_output=True)
    shutil.copyfile(artwork_jpg, root / "episodes" / "artwork.jpg")  # the podcaster's real cover
    show_file = root / "episodes" / "podcast.yaml"  # and their real e-mail address
    show_file.write_text(show_file.read_text(encoding="utf-8").replace("you@example.com", "ana@feedtool-test.net"),
                         encoding="utf-8")
    made.git("init", "--quiet", "-b", "main")
    made.git("config", "user.email", "podcaster@example.org")
    made.git("config", "user.name", "Podcaster")
    return made


@pytest.fixture
def show(tmp_path: Path, feedtool_wheel: tuple[Path, Path], seaweed: SeaweedServer, bucket: str,
         tone: Callable[..., Path], artwork_jpg: Path) -> Show:
    """A show with one published-ready episode (dated yesterday) whose audio is committed."""
    made = new_show(tmp_path / "show", feedtool_wheel[0], artwork_jpg)
    made.add_episode("The first one: hello", tone("mp3", 5), date=datetime.now(UTC) - timedelta(days=1))
    made.commit("A new show")
    return made


#: The show's https address (its CDN, as in real life); the CDN's origin is the bucket's prefix.
CDN_URL = "https://cdn.feedtool-test.net/show/"


def public_url(seaweed: SeaweedServer, bucket: str) -> str:
    return f"{seaweed.endpoint_url}/{bucket}/show/"


def from_origin(url: str, seaweed: SeaweedServer, bucket: str) -> str:
    """A URL of the feed fetched from the CDN's origin (the bucket on 127.0.0.1)."""
    assert url.startswith(CDN_URL), url
    return public_url(seaweed, bucket) + url[len(CDN_URL):]


def settings(seaweed: SeaweedServer, bucket: str, wheel: Path) -> dict[str, str]:
    """The repository variables a podcaster sets (plus FEEDTOOL_PIP_SPEC: the wheel, not PyPI)."""
    return {
        "FEEDTOOL_PIP_SPEC": str(wheel),
        "FEEDTOOL_PUBLISH_TO": f"s3://{bucket}/show",
        "FEEDTOOL_ENDPOINT_URL": seaweed.endpoint_url,
        "FEEDTOOL_REGION": "us-east-1",
        "FEEDTOOL_ADDRESSING_STYLE": "path",
    }


KEYS = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}


class Actions:
    """GitHub for one repository: runs its workflow, keeps its Actions cache between runs."""

    def __init__(self, show: Show, base: Path, python_bin: Path) -> None:
        self.show, self.base, self.python_bin = show, base, python_bin
        self.cache = base / "actions-cache"
        self.runs = itertools.count(1)

    def run_on(self, event: str = "push", *, vars: dict[str, str], secrets: dict[str, str] | None = None,
               sts: dict[str, dict[str, str]] | None = None, machine_env: dict[str, str] | None = None,
               edit: Callable[[dict], None] | None = None,
               before_step: dict[str, Callable[[], None]] | None = None) -> JobResult:
        number = next(self.runs)
        runner = Runner(
            origin=self.show.origin, workspace=self.base / f"run-{number}" / "work",
            temp=self.base / f"run-{number}" / "temp", python_bin=self.python_bin, cache_store=self.cache,
            event_name=event, vars=vars, secrets=secrets or {}, sts=sts or {}, machine_env=machine_env or {},
            step_timeout_s=240, before_step=before_step or {},
        )
        workflow = load_workflow(self.show.root / ".github" / "workflows" / "publish.yml")
        if edit:
            edit(workflow)
        return runner.run_job(workflow, "publish")


@pytest.fixture
def actions(show: Show, tmp_path: Path, feedtool_wheel: tuple[Path, Path]) -> Actions:
    return Actions(show, tmp_path / "github", feedtool_wheel[0])


# ------------------------------------------------------------------------------------------ helpers


def http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def live_feed(seaweed: SeaweedServer, bucket: str) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(http_get(public_url(seaweed, bucket) + "feed.xml"))
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def objects(seaweed: SeaweedServer, bucket: str) -> dict[str, tuple[str, object]]:
    """key -> (ETag, LastModified) of everything in the bucket."""
    listed = seaweed.client().list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: (o["ETag"], o["LastModified"]) for o in listed}


def publish_report(job: JobResult) -> dict:
    path = Path(job.step("Publish").env["RUNNER_TEMP"]) / "publish.json"
    return json.loads(path.read_text(encoding="utf-8"))


def outcomes(job: JobResult) -> dict[str, str]:
    return {step.name: step.outcome for step in job.steps}


def steps_that_saw(job: JobResult, *values: str) -> list[str]:
    """Steps whose environment, action inputs, script or log contain any of these values."""
    seen = []
    for step in job.steps:
        blob = json.dumps([step.env, step.inputs, step.script or "", step.log])
        if any(value in blob for value in values):
            seen.append(step.name)
    return seen


def assert_success(job: JobResult) -> None:
    assert job.status == "success", job.log


def pushed_commit(show: Show, sha: str) -> tuple[str, list[str], str]:
    """(author, files changed, message) of a commit on the origin."""
    author = show.origin_git("log", "-1", "--format=%an <%ae>", sha).strip()
    files = show.origin_git("diff-tree", "--no-commit-id", "--name-only", "-r", sha).split()
    return author, files, show.origin_git("log", "-1", "--format=%B", sha)


def origin_head(show: Show) -> str:
    return show.origin_git("rev-parse", "main").strip()


def checked_out(job: JobResult) -> str:
    return job.step("Build").env["GITHUB_SHA"]


# ------------------------------------------------------------------------------------------ tests


def test_the_workflow_pins_the_feedtool_that_wrote_it(show: Show) -> None:
    workflow = load_workflow(show.root / ".github" / "workflows" / "publish.yml")
    assert workflow["env"]["FEEDTOOL_PIP_SPEC"] == f"${{{{ vars.FEEDTOOL_PIP_SPEC || 'feedtool=={__version__}' }}}}"
    assert __version__ == "0.2.0"
    assert workflow["on"]["schedule"] == [{"cron": "17 * * * *"}]
    assert workflow["concurrency"] == {"group": "feedtool-publish", "cancel-in-progress": False}
    job = workflow["jobs"]["publish"]
    assert job["defaults"]["run"]["shell"] == "bash"
    assert all("shell" not in step or step["shell"] == "bash" for step in job["steps"])
    assert not any("| tee" in str(step.get("run", "")) for step in job["steps"])
    assert workflow["permissions"] == {"contents": "write", "id-token": "write"}
    # No Actions cache: audio must never go there, and a build needs none once the lock is committed.
    assert not any(str(step.get("uses", "")).startswith("actions/cache") for step in job["steps"])
    assert job["steps"][0] == {"uses": "actions/checkout@v6", "with": {"persist-credentials": False}}


def test_a_push_publishes_and_a_run_without_changes_uploads_nothing(
    show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str, feedtool_wheel: tuple[Path, Path]
) -> None:
    variables = settings(seaweed, bucket, feedtool_wheel[1])
    job = actions.run_on("push", vars=variables, secrets=KEYS)
    assert_success(job)
    assert outcomes(job) == {
        "actions/checkout@v6": "success", "actions/setup-python@v6": "success", "Install feedtool": "success",
        "AWS credentials (OIDC)": "skipped", "Build": "success", "Validate": "success", "Publish": "success",
        "Commit feedtool.lock": "success", "Summary of a failed run": "skipped",
    }
    # What a podcast app sees: the feed, with the episode and the guid from its own front matter.
    feed = live_feed(seaweed, bucket)
    assert feed.feed.title == TITLE
    (entry,) = feed.entries
    folder = next(p for p in (show.root / "episodes").iterdir() if p.name.startswith("the-first-one"))
    assert entry.id == show.guid_of(folder)
    audio = http_get(from_origin(entry.enclosures[0].href, seaweed, bucket))
    assert audio[:3] == b"ID3" and len(audio) == int(entry.enclosures[0].length)
    # Every run: step with GitHub's command line for `shell: bash` (pipefail), the script in a file.
    run_steps = [step for step in job.steps if step.command]
    assert [step.name for step in run_steps] == ["Install feedtool", "Build", "Validate", "Publish",
                                                 "Commit feedtool.lock"]
    for step in run_steps:
        assert step.command[:5] == ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
        assert re.fullmatch(r".*/[0-9a-f-]{36}\.sh", step.command[5])
    # The log says it in one line, the summary lists what went out.
    report = publish_report(job)
    assert job.step("Publish").stdout.strip().splitlines() == [
        f"Published {len(report['uploaded'])} file(s), "
        f"{sum(u['size'] for u in report['uploaded']) / 1e6:.1f} MB, to {report['target']}."]
    assert report["target"].startswith(f"s3://{bucket}/show")
    assert "### Published to" in job.summary and "feed.xml" in job.summary
    assert "No episode is scheduled." in job.summary
    assert "Build: Built public/feed.xml: 1 episode(s), 1 audio file(s) tagged" in job.summary
    # The keys reached Build and Publish only (the only steps that may need the bucket), and no
    # log printed them; the push token reached only the step that commits the lock file.
    assert steps_that_saw(job, ACCESS_KEY, SECRET_KEY) == ["Build", "Publish"]
    assert not any(ACCESS_KEY in step.log or SECRET_KEY in step.log for step in job.steps)
    assert job.step("Publish").env["AWS_ACCESS_KEY_ID"] == ACCESS_KEY
    for step in job.steps:
        if step.name not in ("Build", "Publish"):
            assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & set(step.env), step.name
    token = Runner.token
    assert steps_that_saw(job, token) == ["Commit feedtool.lock"]
    workspace = Path(job.step("Build").env["GITHUB_WORKSPACE"])
    assert token not in (workspace / ".git" / "config").read_text(encoding="utf-8")
    # The build recorded the new episode in feedtool.lock; the run committed that file alone.
    bot_commit = origin_head(show)
    assert bot_commit != checked_out(job)
    assert show.origin_git("rev-parse", f"{bot_commit}^").strip() == checked_out(job)
    author, files, message = pushed_commit(show, bot_commit)
    assert (author, files) == (BOT, [LOCK])
    assert message.startswith(f"feedtool.lock: record what was published (1 episode(s): {folder.name})")
    assert f"Committed {LOCK} (" in job.step("Commit feedtool.lock").stdout
    assert f"Recorded the published episodes in `{LOCK}`" in job.summary
    assert job.annotations("warning") == []

    before = objects(seaweed, bucket)
    again = actions.run_on("schedule", vars=variables, secrets=KEYS)
    assert_success(again)
    assert publish_report(again)["uploaded"] == []
    assert again.step("Publish").stdout == f"Nothing to publish: {report['target']} is up to date.\n"
    assert "### Nothing to publish" in again.summary and "Published" not in again.summary
    assert objects(seaweed, bucket) == before  # not one object written again
    # The lock file the first run committed is what this run checked out: nothing to commit.
    assert checked_out(again) == bot_commit == origin_head(show)
    assert again.step("Commit feedtool.lock").stdout == f"{LOCK} is unchanged: nothing to commit.\n"
    assert not any(actions.cache.iterdir())  # nothing ever went into the Actions cache


def test_a_scheduled_run_publishes_an_episode_when_its_date_comes(
    show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str, feedtool_wheel: tuple[Path, Path],
    tone: Callable[..., Path], clock_ahead: Callable[[int], dict[str, str]],
) -> None:
    due = (datetime.now(UTC) + timedelta(minutes=5)).replace(microsecond=0)
    later = show.add_episode("Coming soon", tone("mp3", 4, 660), date=due)
    show.commit("Schedule the second episode")
    variables = settings(seaweed, bucket, feedtool_wheel[1])

    job = actions.run_on("push", vars=variables, secrets=KEYS)
    assert_success(job)
    assert len(live_feed(seaweed, bucket).entries) == 1
    assert f"Next scheduled episode: {later.name} at {due.strftime('%Y-%m-%dT%H:%M:%SZ')}" in job.summary

    # Ten minutes later (the runner's clock; within S3's allowed clock skew), the hourly run.
    scheduled = actions.run_on("schedule", vars=variables, secrets=KEYS, machine_env=clock_ahead(600))
    assert_success(scheduled)
    entries = live_feed(seaweed, bucket).entries
    assert [e.id for e in entries] == [show.guid_of(later), *(e.id for e in entries[1:])] and len(entries) == 2
    uploaded = [u["key"] for u in publish_report(scheduled)["uploaded"]]
    assert any(key.startswith(f"{later.name}/") and key.endswith(".mp3") for key in uploaded)
    assert "### Published to" in scheduled.summary and "No episode is scheduled." in scheduled.summary
    # Each run committed what its build recorded: the scheduled one, the released episode.
    assert show.origin_git("log", "--format=%an", "main").split("\n")[:2] == ["github-actions[bot]"] * 2
    author, files, message = pushed_commit(show, origin_head(show))
    assert (author, files) == (BOT, [LOCK]) and f"{later.name})" in message.splitlines()[0]
    assert show.origin_git("rev-parse", "main^").strip() == checked_out(scheduled)


@pytest.mark.parametrize("failure", ["wrong key", "unreachable endpoint", "no credentials", "folder target"])
def test_the_job_fails_when_publishing_fails(
    failure: str, show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str,
    feedtool_wheel: tuple[Path, Path],
) -> None:
    variables = settings(seaweed, bucket, feedtool_wheel[1])
    secrets = dict(KEYS)
    expected_exit = 2
    if failure == "wrong key":
        secrets["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
    elif failure == "unreachable endpoint":
        closed = free_port_pair(set())  # nothing listens there
        variables["FEEDTOOL_ENDPOINT_URL"] = f"http://127.0.0.1:{closed}"
    elif failure == "no credentials":
        secrets = {}
    elif failure == "folder target":
        # An AWS user who forgot FEEDTOOL_PUBLISH_TO: podcast.yaml says `to: site`, a folder on the runner.
        for name in ("FEEDTOOL_PUBLISH_TO", "FEEDTOOL_ENDPOINT_URL", "FEEDTOOL_REGION", "FEEDTOOL_ADDRESSING_STYLE"):
            del variables[name]
        expected_exit = 1
    job = actions.run_on("push", vars=variables, secrets=secrets)
    assert job.status == "failure", job.log
    publish = job.step("Publish")
    assert publish.outcome == "failure" and publish.exit_code == expected_exit, job.log
    assert "Traceback" not in publish.stderr
    assert objects(seaweed, bucket) == {}  # nothing went out
    assert "### Not published" in job.summary and "The Publish step failed" in job.summary
    # The build wrote feedtool.lock, but nothing was published: nothing is committed either.
    assert job.step("Commit feedtool.lock").outcome == "skipped"
    assert origin_head(show) == checked_out(job)
    if failure == "folder target":
        assert job.annotations() and "FEEDTOOL_PUBLISH_TO" in job.annotations()[0]


def test_an_install_that_fails_fails_the_job_and_says_what_to_set(
    show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str, feedtool_wheel: tuple[Path, Path]
) -> None:
    variables = dict(settings(seaweed, bucket, feedtool_wheel[1]), FEEDTOOL_PIP_SPEC=str(show.root / "no-such.whl"))
    job = actions.run_on("push", vars=variables, secrets=KEYS)
    assert job.status == "failure"
    assert [step.name for step in job.steps if step.outcome == "failure"] == ["Install feedtool"]
    (annotation,) = job.annotations()
    assert "FEEDTOOL_PIP_SPEC" in annotation and "no-such.whl" in annotation
    assert "The Install step failed" in job.summary
    assert job.step("Commit feedtool.lock").outcome == "skipped"


def test_validation_errors_fail_the_job_before_anything_is_published(
    show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str, feedtool_wheel: tuple[Path, Path]
) -> None:
    from PIL import Image

    Image.new("RGB", (1000, 1000), (10, 20, 30)).save(show.root / "episodes" / "artwork.jpg", "JPEG")
    show.commit("A cover that is too small for Apple")
    job = actions.run_on("push", vars=settings(seaweed, bucket, feedtool_wheel[1]), secrets=KEYS)
    assert job.status == "failure"
    failed = [step.name for step in job.steps if step.outcome == "failure"]
    assert failed in (["Validate"], ["Build"]), job.log  # build may refuse it first one day
    assert job.step("Publish").outcome == "skipped"
    assert objects(seaweed, bucket) == {}
    if failed == ["Validate"]:
        assert job.step("Validate").exit_code == 1
        assert any("episodes/" in line or "feed.xml" in line for line in job.annotations())
    assert f"The {failed[0]} step failed" in job.summary
    assert steps_that_saw(job, ACCESS_KEY, SECRET_KEY) == ["Build"]  # Build ran; Publish did not


def test_oidc_credentials_reach_only_the_build_and_publish_steps(
    show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str, feedtool_wheel: tuple[Path, Path]
) -> None:
    role = "arn:aws:iam::123456789012:role/podcast-publisher"
    # The fake STS hands out SeaweedFS's key. No session token: SeaweedFS checks any token as one
    # of its own STS's; feedtool passes AWS's opaque token to boto3 through AWS_SESSION_TOKEN.
    session = {"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY, "SessionToken": ""}
    variables = dict(settings(seaweed, bucket, feedtool_wheel[1]), FEEDTOOL_AWS_ROLE_ARN=role)
    job = actions.run_on("push", vars=variables, secrets={}, sts={role: session})
    assert_success(job)
    assert len(live_feed(seaweed, bucket).entries) == 1
    credentials = job.step("AWS credentials (OIDC)")
    assert credentials.outcome == "success" and credentials.inputs["role-to-assume"] == role
    assert credentials.outputs["aws-access-key-id"] == ACCESS_KEY
    assert steps_that_saw(job, ACCESS_KEY, SECRET_KEY) == ["Build", "Publish"]
    assert "AWS_ACCESS_KEY_ID" not in job.step("Commit feedtool.lock").env  # nothing exported to later steps


def test_the_wheel_ships_the_templates_init_uses(feedtool_wheel: tuple[Path, Path], tmp_path: Path) -> None:
    import zipfile

    names = zipfile.ZipFile(feedtool_wheel[1]).namelist()
    for template in ("publish.yml", "podcast.yaml", "episode.md", "gitignore", "show-README.md"):
        assert f"feedtool/data/{template}" in names
    # and the installed feedtool writes the same workflow as this checkout
    subprocess.run([str(feedtool_wheel[0] / "feedtool"), "init", str(tmp_path / "s")], check=True, capture_output=True)
    from feedtool.scaffold import workflow_text

    assert (tmp_path / "s/.github/workflows/publish.yml").read_text(encoding="utf-8") == workflow_text()


def test_a_fresh_init_pushed_as_it_is_does_not_publish(
    tmp_path: Path, feedtool_wheel: tuple[Path, Path], seaweed: SeaweedServer, bucket: str
) -> None:
    root = tmp_path / "show"
    made = Show(root, feedtool_wheel[0])
    subprocess.run([made.feedtool, "init", str(root)], check=True, capture_output=True)
    made.git("init", "--quiet", "-b", "main")
    made.git("config", "user.email", "podcaster@example.org")
    made.git("config", "user.name", "Podcaster")
    made.commit("feedtool init")
    job = Actions(made, tmp_path / "github", feedtool_wheel[0]).run_on(
        "push", vars=settings(seaweed, bucket, feedtool_wheel[1]), secrets=KEYS)
    assert job.status == "failure"
    assert objects(seaweed, bucket) == {}


# ------------------------------------------------------------------------- audio outside git


def show_with_master_in_a_bucket(tmp_path: Path, feedtool_bin: Path, artwork_jpg: Path, seaweed: SeaweedServer,
                                 masters: str, master: Path) -> tuple[Show, Path]:
    """A show whose one episode's `audio:` is s3://<masters>/2026/hello.mp3 (a private bucket on
    the same SeaweedFS), pushed with no audio in git; and the episode's folder."""
    s3 = seaweed.client()
    s3.create_bucket(Bucket=masters)  # private: only the key can read it
    s3.upload_file(str(master), masters, "2026/hello.mp3")
    # Nothing about the service in podcast.yaml: the Build step reads the master with the same
    # repository variables (FEEDTOOL_ENDPOINT_URL ...) as Publish, or it would ask AWS for it.
    show = new_show(tmp_path / "show", feedtool_bin, artwork_jpg)
    folder = show.add_episode("The first one: hello", f"s3://{masters}/2026/hello.mp3",
                              date=datetime.now(UTC) - timedelta(days=1))
    show.commit("A new show, masters in the bucket", with_audio=False)
    return show, folder


def test_a_show_without_audio_in_git_publishes_its_master_from_a_bucket_then_text_edits_move_no_media(
    tmp_path: Path, feedtool_wheel: tuple[Path, Path], seaweed: SeaweedServer, bucket: str,
    tone: Callable[..., Path], artwork_jpg: Path,
) -> None:
    """The team's way (docs/publishing.md, "Where your audio lives"): masters in a bucket, the
    repository text only. The first run fetches the master (with the credentials the Build step
    has), publishes and commits feedtool.lock back; from then on a fresh clone with no audio
    builds the same feed, and a notes edit uploads no media and commits nothing."""
    import hashlib

    masters, master = f"masters-{bucket}", tone("mp3", 5)
    show, folder = show_with_master_in_a_bucket(tmp_path, feedtool_wheel[0], artwork_jpg, seaweed, masters, master)
    s3 = seaweed.client()
    assert not [name for name in show.git("ls-files").split() if name.endswith(".mp3")]
    actions = Actions(show, tmp_path / "github", feedtool_wheel[0])
    variables = settings(seaweed, bucket, feedtool_wheel[1])

    first = actions.run_on("push", vars=variables, secrets=KEYS)
    assert_success(first)
    assert "1 master(s) fetched" in first.step("Build").stdout
    assert "1 master(s) fetched" in first.summary  # the build's line, quoted in the summary
    uploaded = [u["key"] for u in publish_report(first)["uploaded"]]
    (media,) = [key for key in uploaded if key.endswith(".mp3")]
    (entry,) = live_feed(seaweed, bucket).entries
    enclosure = entry.enclosures[0].href
    assert enclosure.endswith(media)
    audio = http_get(from_origin(enclosure, seaweed, bucket))
    assert audio[:3] == b"ID3" and len(audio) == int(entry.enclosures[0].length)
    # feedtool.lock went back to the repository: one commit by the bot, holding only that file,
    # on top of the commit the run published, recording the master's bytes and the tagged copy.
    bot_commit = origin_head(show)
    assert show.origin_git("rev-parse", f"{bot_commit}^").strip() == checked_out(first)
    author, files, message = pushed_commit(show, bot_commit)
    assert (author, files) == (BOT, [LOCK])
    assert message.startswith(f"feedtool.lock: record what was published (1 episode(s): {folder.name})\n\n"
                              f"The Publish workflow published {checked_out(first)[:12]} (https://github.com/")
    lock = json.loads(show.origin_git("show", f"{bot_commit}:{LOCK}"))
    recorded = json.dumps(lock["episodes"][folder.name])
    assert hashlib.sha256(master.read_bytes()).hexdigest() in recorded and media in recorded
    assert not any(actions.cache.iterdir())  # no Actions cache, so no audio in it

    # The podcaster pulls the bot's commit, edits the show notes and pushes. The master is even
    # gone from its bucket now: the run must not need it.
    show.pull()
    episode_md = folder / "episode.md"
    episode_md.write_text(episode_md.read_text(encoding="utf-8").replace(
        "What this episode is about, in Markdown.", "Now with better show notes."), encoding="utf-8")
    show.commit("Better show notes", with_audio=False)
    s3.delete_object(Bucket=masters, Key="2026/hello.mp3")
    before = objects(seaweed, bucket)

    second = actions.run_on("push", vars=variables, secrets=KEYS)
    assert_success(second)
    assert "(1 on the target already)" in second.step("Build").stdout
    assert "fetched" not in second.step("Build").stdout
    uploaded = [u["key"] for u in publish_report(second)["uploaded"]]
    assert "feed.xml" in uploaded and not [key for key in uploaded if key.endswith(".mp3")]
    after = objects(seaweed, bucket)
    assert {key: after[key] for key in before if key.endswith(".mp3")} == \
        {key: value for key, value in before.items() if key.endswith(".mp3")}  # not written again
    assert [key for key in after if key.endswith(".mp3")] == [key for key in before if key.endswith(".mp3")]
    (entry,) = live_feed(seaweed, bucket).entries
    assert entry.enclosures[0].href == enclosure and "better show notes" in entry.summary.lower()
    # Nothing new to record: the podcaster's commit is still the branch's head.
    assert origin_head(show) == checked_out(second) != bot_commit
    assert second.step("Commit feedtool.lock").stdout == f"{LOCK} is unchanged: nothing to commit.\n"


@pytest.mark.parametrize("refusal", ["branch protection", "a newer commit"])
def test_a_refused_push_of_the_lock_file_is_a_warning_on_a_green_run(
    refusal: str, show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str,
    feedtool_wheel: tuple[Path, Path],
) -> None:
    before_step = {}
    if refusal == "branch protection":  # GitHub refuses the bot's push the way a hook does
        hook = show.origin / "hooks" / "pre-receive"
        hook.write_text("#!/bin/sh\necho 'GH006: Protected branch update failed for refs/heads/main.' >&2\nexit 1\n",
                        encoding="utf-8")
        hook.chmod(0o755)
    else:  # the podcaster pushes while the run publishes

        def push_a_newer_commit() -> None:
            readme = show.root / "README.md"
            readme.write_text(readme.read_text(encoding="utf-8") + "\nA new line.\n", encoding="utf-8")
            show.commit("Edit the README meanwhile")

        before_step["Commit feedtool.lock"] = push_a_newer_commit
    podcaster_head = origin_head(show)
    variables = settings(seaweed, bucket, feedtool_wheel[1])

    job = actions.run_on("push", vars=variables, secrets=KEYS, before_step=before_step)
    assert_success(job)  # the show was published: green
    assert len(live_feed(seaweed, bucket).entries) == 1
    step = job.step("Commit feedtool.lock")
    assert step.outcome == "success" and "rejected" in step.stderr
    (warning,) = job.annotations("warning")
    assert warning.startswith(f"::warning file={LOCK},title=feedtool.lock not committed::git push to main was refused (")
    if refusal == "branch protection":  # what the service said, first
        assert "refused (remote: GH006: Protected branch update failed for refs/heads/main.)" in warning
    assert "commit episodes/feedtool.lock yourself, or let the workflow push to main" in warning
    assert f"`{LOCK}` was not committed:" in job.summary and "branch protection" in job.summary
    assert "### Published to" in job.summary and "### Not published" not in job.summary
    authors = show.origin_git("log", "--format=%an", "main").split("\n")
    assert "github-actions[bot]" not in authors
    if refusal == "branch protection":
        assert origin_head(show) == podcaster_head
        return
    assert "GH006" not in step.stderr
    # The newer commit's own run (it waited for this one) does the work again and records it.
    newer = origin_head(show)
    assert newer != podcaster_head
    again = actions.run_on("push", vars=variables, secrets=KEYS)
    assert_success(again)
    assert checked_out(again) == newer
    assert not [u for u in publish_report(again)["uploaded"] if u["key"].endswith(".mp3")]
    author, files, _ = pushed_commit(show, origin_head(show))
    assert (author, files) == (BOT, [LOCK]) and show.origin_git("rev-parse", "main^").strip() == newer
    assert again.annotations("warning") == []


@pytest.mark.parametrize("credentials", [
    "wrong secret",
    "none",
])
def test_a_master_the_build_cannot_read_fails_the_build_step_and_publishes_nothing(
    credentials: str, tmp_path: Path, feedtool_wheel: tuple[Path, Path], seaweed: SeaweedServer, bucket: str,
    tone: Callable[..., Path], artwork_jpg: Path,
) -> None:
    masters = f"masters-{bucket}"
    show, folder = show_with_master_in_a_bucket(tmp_path, feedtool_wheel[0], artwork_jpg, seaweed, masters,
                                                tone("mp3", 5))
    actions = Actions(show, tmp_path / "github", feedtool_wheel[0])
    secrets = dict(KEYS, AWS_SECRET_ACCESS_KEY="not-the-secret") if credentials == "wrong secret" else {}
    job = actions.run_on("push", vars=settings(seaweed, bucket, feedtool_wheel[1]), secrets=secrets)
    assert job.status == "failure"
    assert [step.name for step in job.steps if step.outcome == "failure"] == ["Build"], job.log
    build = job.step("Build")
    assert build.exit_code == 2 and "Traceback" not in build.stderr, build.stderr
    assert f"{folder.name}/episode.md" in build.stderr and f"s3://{masters}/2026/hello.mp3" in build.stderr
    assert objects(seaweed, bucket) == {}
    assert job.step("Commit feedtool.lock").outcome == "skipped" and origin_head(show) == checked_out(job)
    assert "The Build step failed" in job.summary


def test_a_lock_file_the_repository_ignores_is_a_warning_not_a_commit(
    show: Show, actions: Actions, seaweed: SeaweedServer, bucket: str, feedtool_wheel: tuple[Path, Path]
) -> None:
    gitignore = show.root / ".gitignore"
    gitignore.write_text(gitignore.read_text(encoding="utf-8") + "episodes/feedtool.lock\n", encoding="utf-8")
    show.commit("Ignore the lock file (a mistake)")
    head = origin_head(show)
    job = actions.run_on("push", vars=settings(seaweed, bucket, feedtool_wheel[1]), secrets=KEYS)
    assert_success(job)
    assert len(live_feed(seaweed, bucket).entries) == 1
    (warning,) = job.annotations("warning")
    assert "git refused to add it (is it in .gitignore?)" in warning and "The show was published." in warning
    assert origin_head(show) == head
