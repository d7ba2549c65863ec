"""The workflow emulator itself (tests/workflow_runner.py): it must behave as GitHub does where the
publish workflow's correctness depends on it, or the end-to-end tests prove nothing.
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import yaml
from workflow_runner import Contexts, ExpressionError, Runner


def run(tmp_path: Path, steps: list[dict], *, defaults: dict | None = None, permissions: dict | None = None,
        vars: dict | None = None, secrets: dict | None = None, sts: dict | None = None,
        checkout: dict | None = None, before_step: dict | None = None):
    """Run a job of these steps after a checkout of tmp_path/origin.git (a bare repository with
    one commit, made on first use)."""
    origin = tmp_path / "origin.git"
    if not origin.exists():
        work = tmp_path / "podcaster"
        subprocess.run(["git", "init", "--quiet", "-b", "main", str(work)], check=True)
        (work / "README.md").write_text("show\n")
        subprocess.run(["git", "-C", str(work), "add", "README.md"], check=True)
        subprocess.run(["git", "-C", str(work), "-c", "user.name=t", "-c", "user.email=t@example.org",
                        "commit", "--quiet", "-m", "x"], check=True)
        subprocess.run(["git", "clone", "--quiet", "--bare", str(work), str(origin)], check=True)
    first: dict = {"uses": "actions/checkout@v6", **({"with": checkout} if checkout else {})}
    job: dict = {"runs-on": "ubuntu-latest", "steps": [first, *steps]}
    if defaults:
        job["defaults"] = defaults
    workflow = {"on": "push", "jobs": {"j": job}}
    if permissions:
        workflow["permissions"] = permissions
    number = len(list(tmp_path.glob("run-*")))
    runner = Runner(origin=origin, workspace=tmp_path / f"run-{number}/work", temp=tmp_path / f"run-{number}/temp",
                    python_bin=tmp_path / "bin", cache_store=tmp_path / "cache", vars=vars or {},
                    secrets=secrets or {}, sts=sts or {}, before_step=before_step or {})
    return runner.run_job(yaml.safe_load(yaml.safe_dump(workflow)), "j")


def test_a_step_without_shell_has_no_pipefail_and_shell_bash_has(tmp_path: Path) -> None:
    """The bug in feedtool's old workflow: `publish | tee` passed when publish failed."""
    job = run(tmp_path, [{"name": "piped", "run": "false | cat\necho after"}])
    assert job.status == "success" and "after" in job.step("piped").stdout
    assert job.step("piped").command[:2] == ["bash", "-e"]
    job = run(tmp_path, [{"name": "piped", "shell": "bash", "run": "false | cat\necho after"}])
    assert job.status == "failure" and job.step("piped").exit_code == 1
    job = run(tmp_path, [{"name": "piped", "run": "false | cat"}], defaults={"run": {"shell": "bash"}})
    assert job.status == "failure"


def test_conditions_outputs_env_and_the_summary(tmp_path: Path) -> None:
    job = run(tmp_path, [
        {"id": "a", "run": 'echo "k=v" >> "$GITHUB_OUTPUT"; echo "EXPORTED=1" >> "$GITHUB_ENV"; echo hi >> "$GITHUB_STEP_SUMMARY"'},
        {"id": "b", "if": "vars.UNSET != ''", "run": "echo never"},
        {"id": "c", "env": {"FROM_OUTPUT": "${{ steps.a.outputs.k }}", "DEFAULTED": "${{ vars.UNSET || 'dflt' }}"},
         "run": 'test "$FROM_OUTPUT$DEFAULTED$EXPORTED" = "vdflt1"'},
        {"id": "d", "run": "exit 3"},
        {"id": "e", "run": "echo skipped because a step failed"},
        {"id": "f", "if": "failure()", "env": {"B": "${{ steps.b.outcome }}", "D": "${{ steps.d.outcome }}"},
         "run": 'test "$B/$D" = "skipped/failure"'},
        {"id": "g", "if": "always() && steps.d.outcome == 'FAILURE'", "run": "true"},
    ])
    outcomes = {step.id: step.outcome for step in job.steps[1:]}
    assert outcomes == {"a": "success", "b": "skipped", "c": "success", "d": "failure", "e": "skipped",
                        "f": "success", "g": "success"}
    assert job.status == "failure" and job.summary == "hi\n" and job.step("d").exit_code == 3


def test_expressions_follow_github_s_rules() -> None:
    ctx = Contexts({"vars": {}, "github": {"event_name": "schedule"}, "steps": {}}, lambda name: name != "failure")
    assert ctx.evaluate("github.EVENT_NAME == 'Schedule'") is True  # names and strings ignore case
    assert ctx.evaluate("null == ''") is True and ctx.evaluate("0 == ''") is True
    assert ctx.evaluate("'' || 'b'") == "b" and ctx.evaluate("'a' && 'b'") == "b"
    assert ctx.evaluate("steps.x.outputs.y") is None
    assert ctx.interpolate("a-${{ github.event_name }}-${{ null }}") == "a-schedule-"
    assert ctx.condition("github.event_name == 'push'") is False
    with pytest.raises(ExpressionError):
        ctx.evaluate("hashFiles('x')")
    with pytest.raises(ExpressionError):
        ctx.evaluate("matrix.os")


def test_unknown_actions_are_refused(tmp_path: Path) -> None:
    with pytest.raises(NotImplementedError):
        run(tmp_path, [{"uses": "someone/deploy@v1"}])


def test_configure_aws_credentials_like_the_real_action(tmp_path: Path) -> None:
    role = "arn:aws:iam::1:role/r"
    creds = {"AccessKeyId": "AKID", "SecretAccessKey": "SECRET", "SessionToken": "TOKEN"}
    oidc = {"id": "aws", "uses": "aws-actions/configure-aws-credentials@v6",
            "with": {"role-to-assume": role, "aws-region": "us-east-1"}}
    after = {"id": "after", "run": "true"}
    job = run(tmp_path, [oidc, after], sts={role: creds})  # no id-token: write
    assert job.step("aws").outcome == "failure"
    job = run(tmp_path, [oidc, after], permissions={"id-token": "write"}, sts={role: creds})
    assert job.step("after").env["AWS_SECRET_ACCESS_KEY"] == "SECRET"  # exported to every later step
    quiet = dict(oidc, **{"with": dict(oidc["with"], **{"output-credentials": True, "output-env-credentials": False})})
    job = run(tmp_path, [quiet, after], permissions={"id-token": "write"}, sts={role: creds})
    assert job.step("aws").outputs["aws-secret-access-key"] == "SECRET"
    assert "AWS_SECRET_ACCESS_KEY" not in job.step("after").env



def test_checkout_leaves_the_token_in_git_config_unless_told_not_to(tmp_path: Path) -> None:
    """Like actions/checkout: persist-credentials (default true) writes the job's token into the
    clone's .git/config, where every later step can read it; false leaves it out."""
    basic = base64.b64encode(f"x-access-token:{Runner.token}".encode()).decode()
    config = {"id": "config", "run": "git config --local --get-regexp '^http\\.' || true"}
    job = run(tmp_path, [config])
    assert job.step("config").stdout == f"http.https://github.com/.extraheader AUTHORIZATION: basic {basic}\n"
    job = run(tmp_path, [config], checkout={"persist-credentials": False})
    assert job.status == "success" and job.step("config").stdout == ""
    token = {"id": "t", "env": {"T": "${{ github.token }}"}, "run": f'test "$T" = "{Runner.token}"'}
    assert run(tmp_path, [token]).status == "success"
    assert "GITHUB_TOKEN" not in run(tmp_path, [config]).step("config").env  # only when a step is given it


def test_a_step_pushes_to_the_origin_and_a_hook_lands_a_commit_before_a_step(tmp_path: Path) -> None:
    identity = "-c user.name=bot -c user.email=bot@example.org"
    push = {"id": "push", "name": "Push", "run": f"git {identity} commit -q --allow-empty -m bot && "
                                                 "git push --quiet origin HEAD:refs/heads/main"}
    job = run(tmp_path, [push])
    assert job.status == "success", job.log
    log = subprocess.run(["git", "-C", str(tmp_path / "origin.git"), "log", "--format=%an", "main"],
                         capture_output=True, text=True, check=True).stdout
    assert log.split() == ["bot", "t"]

    def land_a_commit() -> None:  # someone else pushes while the job runs: the job's push is refused
        other = tmp_path / "other"
        subprocess.run(["git", "clone", "--quiet", str(tmp_path / "origin.git"), str(other)], check=True)
        subprocess.run(["git", "-C", str(other), "-c", "user.name=o", "-c", "user.email=o@example.org",
                        "commit", "--quiet", "--allow-empty", "-m", "meanwhile"], check=True)
        subprocess.run(["git", "-C", str(other), "push", "--quiet", "origin", "main"], check=True)

    job = run(tmp_path, [push], before_step={"Push": land_a_commit})
    assert job.status == "failure" and "rejected" in job.step("push").stderr


def test_cache_path_patterns_are_refused_not_faked(tmp_path: Path) -> None:
    """actions/cache takes globs and ! exclusions; copying them as plain paths would fake them."""
    for path in (".feedtool-cache\n!.feedtool-cache/tagged", "cache/*.json"):
        with pytest.raises(NotImplementedError, match="not emulated"):
            run(tmp_path, [{"uses": "actions/cache/save@v5", "with": {"path": path, "key": "k"}}])
