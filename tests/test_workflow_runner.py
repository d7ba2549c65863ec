"""The workflow emulator itself (tests/workflow_runner.py): it must behave as GitHub does where the
publish workflow's correctness depends on it, or the end-to-end tests prove nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from workflow_runner import Contexts, ExpressionError, Runner


def run(tmp_path: Path, steps: list[dict], *, defaults: dict | None = None, permissions: dict | None = None,
        vars: dict | None = None, secrets: dict | None = None, sts: dict | None = None):
    origin = tmp_path / "origin"
    if not origin.exists():
        origin.mkdir()
        subprocess.run(["git", "init", "--quiet", "-b", "main", str(origin)], check=True)
        (origin / "README.md").write_text("show\n")
        subprocess.run(["git", "-C", str(origin), "add", "README.md"], check=True)
        subprocess.run(["git", "-C", str(origin), "-c", "user.name=t", "-c", "user.email=t@example.org",
                        "commit", "--quiet", "-m", "x"], check=True)
    job: dict = {"runs-on": "ubuntu-latest", "steps": [{"uses": "actions/checkout@v6"}, *steps]}
    if defaults:
        job["defaults"] = defaults
    workflow = {"on": "push", "jobs": {"j": job}}
    if permissions:
        workflow["permissions"] = permissions
    number = len(list(tmp_path.glob("run-*")))
    runner = Runner(origin=origin, workspace=tmp_path / f"run-{number}/work", temp=tmp_path / f"run-{number}/temp",
                    python_bin=tmp_path / "bin", cache_store=tmp_path / "cache", vars=vars or {},
                    secrets=secrets or {}, sts=sts or {})
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
