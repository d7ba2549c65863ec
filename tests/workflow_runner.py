"""A small, honest emulator of one GitHub Actions job: the publish workflow as a user gets it, run here.

What it does the way GitHub's runner does:

- A ``run:`` step's script, with its ``${{ }}`` expressions substituted, is written to a file and
  run with exactly the command line of the step's shell: ``bash -e {0}`` when no shell is set
  (no pipefail: ``cmd | tee x`` passes when cmd fails), ``bash --noprofile --norc -eo pipefail {0}``
  for ``shell: bash``, ``sh -e {0}`` for ``sh``. ``defaults.run`` of the job and workflow apply.
- A step's environment: the runner's own variables (GITHUB_*, RUNNER_*, CI, PATH, HOME ...), then
  what earlier steps wrote to GITHUB_ENV, then the workflow's, the job's and the step's ``env:``
  (each later one wins). GITHUB_PATH entries go in front of PATH for later steps; GITHUB_OUTPUT
  becomes ``steps.<id>.outputs``; each step's GITHUB_STEP_SUMMARY is appended to the job summary.
  With ``permissions: id-token: write`` every step gets ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN.
- ``if:`` is an expression; without a status function in it, it means ``success() && (...)``.
  Steps have an outcome and a conclusion (continue-on-error); the job fails when a step's
  conclusion is failure.
- Expressions: literals, the contexts github, env, vars, secrets, steps, runner, job (property
  names are case-insensitive and may contain '-'; unset vars and secrets are ''), ``!``, ``==`` and
  ``!=`` (strings compared ignoring case, mixed types as numbers), ``<`` ``<=`` ``>`` ``>=``,
  ``&&`` and ``||`` (which return an operand, not a boolean: ``vars.X || 'default'``), parentheses,
  and the functions success, failure, always, cancelled, contains, startsWith, endsWith, format.
  Anything else raises, so a workflow can never pass here by using something this file fakes.

``uses:`` steps are emulated by minimal equivalents, and any other action raises:

- actions/checkout: a fresh clone of the test's repository (its "GitHub" origin, e.g. a bare
  repository that a workflow's ``git push origin`` then updates) into the empty workspace. With
  ``persist-credentials`` (the default) the job's token is left in the clone's .git/config as the
  action leaves it (``http.https://github.com/.extraheader``), so a test can see who could push.
- actions/setup-python: the test's Python (a venv) goes first on PATH, as the action's does.
- actions/cache/restore and actions/cache/save: a folder of saved copies, looked up like GitHub's
  cache (the exact key, then each restore-keys prefix, newest entry first); an existing key is
  never overwritten (the save is skipped with a warning, as on GitHub). ``!`` exclusions and
  globs in ``path:`` are refused (not emulated).
- aws-actions/configure-aws-credentials: for ``role-to-assume`` without keys, a fake STS (role ARN
  -> credentials given by the test) that refuses unless the job may request an OIDC token
  (``id-token: write``); access-key inputs are used as given. Credentials become step outputs
  and/or GITHUB_ENV exports exactly as ``output-credentials`` / ``output-env-credentials`` say.

Every step records the environment its process saw, so a test can check which steps got secrets.
``github.token`` is a fake token (``Runner.token``) that no step gets unless the workflow hands it out.
A test may run code of its own just before a named step (``Runner.before_step``), e.g. to land a
newer commit on the origin while the job runs.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# --------------------------------------------------------------------------------------------
# Shells, as GitHub runs them on Linux

SHELLS = {
    None: ["bash", "-e", "{0}"],
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail", "{0}"],
    "sh": ["sh", "-e", "{0}"],
    "python": ["python", "{0}"],
}
SCRIPT_SUFFIX = {"python": ".py"}


def shell_command(shell: str | None, script: Path) -> list[str]:
    """The command line GitHub uses for a run step with this ``shell:`` (documented table)."""
    if shell in SHELLS:
        template = SHELLS[shell]
    elif shell and "{0}" in shell:
        template = shell.split()
    else:
        raise NotImplementedError(f"shell {shell!r} is not emulated")
    return [str(script) if part == "{0}" else part for part in template]


# --------------------------------------------------------------------------------------------
# Expressions

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<string>'(?:[^']|'')*')
    | (?P<op>==|!=|<=|>=|&&|\|\||[<>!().\[\],*])
    | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""", re.VERBOSE)
STATUS_FUNCTIONS = {"success", "failure", "always", "cancelled"}


class ExpressionError(Exception):
    pass


class _Missing(dict):
    """vars and secrets: an unset name reads as '' (GitHub's documented behaviour)."""

    def lookup(self, name: str) -> Any:
        for key, value in self.items():
            if key.lower() == name.lower():
                return value
        return ""


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    """Recursive descent over the token list, producing a small tree of tuples."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ExpressionError(f"expected {value or 'more'} in {self.text!r}")
        self.position += 1
        return token

    def parse(self) -> Any:
        tree = self.or_()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()} in {self.text!r}")
        return tree

    def or_(self) -> Any:
        left = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            left = ("or", left, self.and_())
        return left

    def and_(self) -> Any:
        left = self.equality()
        while self.peek() == ("op", "&&"):
            self.take()
            left = ("and", left, self.equality())
        return left

    def equality(self) -> Any:
        left = self.comparison()
        while self.peek() in (("op", "=="), ("op", "!=")):
            operator = self.take()[1]
            left = (operator, left, self.comparison())
        return left

    def comparison(self) -> Any:
        left = self.unary()
        while self.peek() in (("op", "<"), ("op", "<="), ("op", ">"), ("op", ">=")):
            operator = self.take()[1]
            left = (operator, left, self.unary())
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return ("not", self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        node = self.primary()
        while True:
            token = self.peek()
            if token == ("op", "."):
                self.take()
                kind, name = self.take()
                if kind != "name":
                    raise ExpressionError(f"expected a property name in {self.text!r}")
                node = ("get", node, ("lit", name))
            elif token == ("op", "["):
                self.take()
                index = self.or_()
                self.take("]")
                node = ("get", node, index)
            else:
                return node

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "number":
            return ("lit", float(value) if any(c in value for c in ".eE") else int(value))
        if kind == "string":
            return ("lit", value[1:-1].replace("''", "'"))
        if kind == "op" and value == "(":
            node = self.or_()
            self.take(")")
            return node
        if kind == "name":
            if value in ("true", "false"):
                return ("lit", value == "true")
            if value == "null":
                return ("lit", None)
            if self.peek() == ("op", "("):
                self.take()
                args = []
                while self.peek() != ("op", ")"):
                    args.append(self.or_())
                    if self.peek() == ("op", ","):
                        self.take()
                self.take(")")
                return ("call", value, args)
            return ("context", value)
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")


def _calls(node: Any) -> Iterator[str]:
    if isinstance(node, tuple):
        if node[0] == "call":
            yield node[1].lower()
        for part in node[1:]:
            if isinstance(part, list):
                for item in part:
                    yield from _calls(item)
            else:
                yield from _calls(part)


def truthy(value: Any) -> bool:
    if isinstance(value, float) and math.isnan(value):
        return False
    return value not in (False, 0, "", None)


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return 0.0
        return float(text) if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", text) else math.nan
    return math.nan


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if isinstance(left, dict | list) or isinstance(right, dict | list):
        return left is right
    if type(left) is type(right) and not isinstance(left, float):
        return bool(left == right)
    a, b = _number(left), _number(right)
    return not (math.isnan(a) or math.isnan(b)) and a == b


def to_text(value: Any) -> str:
    """An expression's value as GitHub puts it into a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2)
    return str(value)


@dataclass
class Contexts:
    values: dict[str, Any]
    status: Callable[[str], bool]

    def evaluate(self, text: str) -> Any:
        return self._eval(_Parser(text).parse())

    def condition(self, raw: Any) -> bool:
        """A step's ``if:`` (implicit ``success() &&`` when it calls no status function)."""
        if raw is None:
            return self.status("success")
        if isinstance(raw, bool):
            return self.status("success") and raw
        text = str(raw).strip()
        whole = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.DOTALL)
        if whole and "${{" not in whole.group(1):
            text = whole.group(1)
        elif "${{" in text:
            return truthy(self.interpolate(text))  # a string with text around ${{ }}: truthy
        tree = _Parser(text).parse()
        if not STATUS_FUNCTIONS & set(_calls(tree)):
            return self.status("success") and truthy(self._eval(tree))
        return truthy(self._eval(tree))

    def interpolate(self, text: str) -> str:
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: to_text(self.evaluate(m.group(1))), text, flags=re.DOTALL)

    def _eval(self, node: Any) -> Any:
        kind = node[0]
        if kind == "lit":
            return node[1]
        if kind == "context":
            name = node[1].lower()
            if name not in self.values:
                raise ExpressionError(f"unknown context {node[1]!r}")
            return self.values[name]
        if kind == "get":
            container, key = self._eval(node[1]), self._eval(node[2])
            if isinstance(container, _Missing):
                return container.lookup(str(key))
            if isinstance(container, dict):
                for name, value in container.items():
                    if str(name).lower() == str(key).lower():
                        return value
                return None
            if isinstance(container, list) and isinstance(key, int | float) and 0 <= int(key) < len(container):
                return container[int(key)]
            return None
        if kind == "not":
            return not truthy(self._eval(node[1]))
        if kind == "and":
            left = self._eval(node[1])
            return self._eval(node[2]) if truthy(left) else left
        if kind == "or":
            left = self._eval(node[1])
            return left if truthy(left) else self._eval(node[2])
        if kind in ("==", "!="):
            equal = _equal(self._eval(node[1]), self._eval(node[2]))
            return equal if kind == "==" else not equal
        if kind in ("<", "<=", ">", ">="):
            left, right = self._eval(node[1]), self._eval(node[2])
            if isinstance(left, str) and isinstance(right, str):
                a: Any = left.lower()
                b: Any = right.lower()
            else:
                a, b = _number(left), _number(right)
                if math.isnan(a) or math.isnan(b):
                    return False
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[kind]
        if kind == "call":
            return self._call(node[1].lower(), [self._eval(arg) for arg in node[2]])
        raise ExpressionError(f"cannot evaluate {node!r}")

    def _call(self, name: str, args: list[Any]) -> Any:
        if name in STATUS_FUNCTIONS:
            return self.status(name)
        if name == "contains":
            haystack, needle = args
            if isinstance(haystack, list):
                return any(_equal(item, needle) for item in haystack)
            return to_text(needle).lower() in to_text(haystack).lower()
        if name == "startswith":
            return to_text(args[0]).lower().startswith(to_text(args[1]).lower())
        if name == "endswith":
            return to_text(args[0]).lower().endswith(to_text(args[1]).lower())
        if name == "format":
            text = to_text(args[0])
            return re.sub(r"\{(\d+)\}", lambda m: to_text(args[int(m.group(1)) + 1]), text)
        raise ExpressionError(f"function {name}() is not emulated")


# --------------------------------------------------------------------------------------------
# The job


@dataclass
class StepResult:
    index: int
    name: str
    id: str | None
    uses: str | None
    outcome: str  # success | failure | skipped
    conclusion: str
    exit_code: int | None = None
    command: list[str] | None = None
    script: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, str] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""

    @property
    def log(self) -> str:
        return self.stdout + self.stderr


@dataclass
class JobResult:
    steps: list[StepResult]
    status: str
    summary: str

    def step(self, name: str) -> StepResult:
        for step in self.steps:
            if name in (step.name, step.id):
                return step
        raise KeyError(f"no step {name!r}; steps: {[s.name for s in self.steps]}")

    @property
    def log(self) -> str:
        return "".join(f"--- {s.name} ({s.outcome})\n{s.log}" for s in self.steps)

    def annotations(self, level: str = "error") -> list[str]:
        return [line for step in self.steps for line in step.stdout.splitlines()
                if line.startswith(f"::{level}")]


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


@dataclass
class Runner:
    """One emulated hosted runner: the machine, the repository's settings and the event."""

    #: The repository as pushed; checkout clones it into ``workspace`` (an empty folder), so each
    #: run starts from a fresh clone: no public/, no cache, new file times.
    origin: Path
    workspace: Path
    temp: Path
    python_bin: Path
    cache_store: Path
    event_name: str = "push"
    vars: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    #: role ARN -> {"AccessKeyId", "SecretAccessKey", "SessionToken"}: the fake STS.
    sts: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Added to every step's environment, like the runner machine's own (e.g. its clock).
    machine_env: dict[str, str] = field(default_factory=dict)
    repository: str = "podcaster/show"
    step_timeout_s: float = 300.0
    #: ``github.token``: what GitHub hands the job (contents: write lets it push).
    token: str = "ghs_emulatedJobToken0123456789abcdef"
    #: step name -> a function called just before that step (whether it then runs or is skipped).
    before_step: dict[str, Callable[[], None]] = field(default_factory=dict)

    def run_job(self, workflow: dict[str, Any], job_id: str) -> JobResult:
        return _Job(self, workflow, job_id).run()


class _Job:
    def __init__(self, runner: Runner, workflow: dict[str, Any], job_id: str) -> None:
        self.runner = runner
        self.workflow = workflow
        self.job = workflow["jobs"][job_id]
        self.results: list[StepResult] = []
        self.exported: dict[str, str] = {}  # GITHUB_ENV
        self.path_prefix: list[str] = []  # GITHUB_PATH, newest first
        self.summary: list[str] = []
        self.steps_context: dict[str, Any] = {}
        runner.temp.mkdir(parents=True, exist_ok=True)
        runner.workspace.mkdir(parents=True, exist_ok=True)
        runner.cache_store.mkdir(parents=True, exist_ok=True)
        self.home = runner.temp.parent / f"{runner.temp.name}-home"
        self.home.mkdir(exist_ok=True)
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=runner.origin, capture_output=True,
                             text=True, check=True).stdout.strip()
        self.github = {
            "event_name": runner.event_name, "ref": "refs/heads/main", "ref_name": "main", "sha": sha,
            "repository": runner.repository, "repository_owner": runner.repository.split("/")[0],
            "workspace": str(runner.workspace), "run_id": str(int(time.time())), "run_number": "1",
            "run_attempt": "1", "actor": runner.repository.split("/")[0], "job": job_id,
            "server_url": "https://github.com", "event": {}, "token": runner.token,
        }
        self.runner_context = {"os": "Linux", "arch": "X64", "temp": str(runner.temp),
                               "name": "emulated", "environment": "github-hosted"}
        permissions = self.job.get("permissions", workflow.get("permissions", {})) or {}
        self.id_token = isinstance(permissions, dict) and permissions.get("id-token") == "write"
        timeout_min = float(self.job.get("timeout-minutes", 360))
        self.deadline = time.monotonic() + timeout_min * 60

    # ---- status

    def status(self, name: str) -> bool:
        failed = any(r.conclusion == "failure" for r in self.results)
        return {"success": not failed, "failure": failed, "always": True, "cancelled": False}[name]

    def contexts(self, env: dict[str, str]) -> Contexts:
        return Contexts({
            "github": self.github, "env": dict(env), "vars": _Missing(self.runner.vars),
            "secrets": _Missing(self.runner.secrets), "steps": self.steps_context,
            "runner": self.runner_context, "job": {"status": "failure" if self.status("failure") else "success"},
        }, self.status)

    # ---- environment

    def base_env(self) -> dict[str, str]:
        r = self.runner
        env = {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.home), "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(r.workspace), "GITHUB_EVENT_NAME": r.event_name,
            "GITHUB_REF": self.github["ref"], "GITHUB_REF_NAME": "main", "GITHUB_SHA": self.github["sha"],
            "GITHUB_REPOSITORY": r.repository, "GITHUB_RUN_ID": self.github["run_id"],
            "GITHUB_RUN_NUMBER": self.github["run_number"], "GITHUB_ACTOR": self.github["actor"],
            "GITHUB_REF_TYPE": "branch",
            "GITHUB_SERVER_URL": "https://github.com", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
            "RUNNER_TEMP": str(r.temp),
            # Nothing answers at the instance metadata address on a hosted runner; do not wait for it.
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        if self.id_token:
            env["ACTIONS_ID_TOKEN_REQUEST_URL"] = "https://token.actions.example.invalid/"
            env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "emulated-request-token"
        env.update(r.machine_env)
        return env

    def declared_env(self, step: dict[str, Any]) -> dict[str, str]:
        """workflow env, then job env, then step env, each evaluated with the ones before it."""
        declared: dict[str, str] = {}
        for level in (self.workflow.get("env"), self.job.get("env"), step.get("env")):
            scope = dict(self.exported, **declared)
            for key, value in (level or {}).items():
                declared[key] = self.contexts(scope).interpolate(to_text(value))
        return declared

    def process_env(self, declared: dict[str, str]) -> dict[str, str]:
        env = self.base_env()
        env.update(self.exported)
        env.update(declared)
        if self.path_prefix:
            env["PATH"] = os.pathsep.join([*self.path_prefix, env["PATH"]])
        return env

    # ---- steps

    def run(self) -> JobResult:
        defaults = (self.job.get("defaults") or {}).get("run") or (self.workflow.get("defaults") or {}).get("run") or {}
        for index, step in enumerate(self.job["steps"]):
            name = step.get("name") or step.get("uses") or f"Run {str(step.get('run', '')).splitlines()[0]}"
            if name in self.runner.before_step:
                self.runner.before_step[name]()
            declared = self.declared_env(step)
            contexts = self.contexts(dict(self.exported, **declared))
            result = StepResult(index, name, step.get("id"), step.get("uses"), "skipped", "skipped")
            if contexts.condition(step.get("if")):
                env = self.process_env(declared)
                result.env = env
                files = self.step_files(index)
                env.update({key: str(path) for key, path in files.items()})
                try:
                    if "run" in step:
                        ok = self.run_script(step, defaults, contexts, env, result)
                    else:
                        ok = self.run_action(step, contexts, env, result)
                except subprocess.TimeoutExpired:
                    result.stderr += "\n(emulator: the step timed out)"
                    ok = False
                self.collect(files, result)
                result.outcome = "success" if ok else "failure"
                flag = step.get("continue-on-error", False)
                continue_on_error = flag if isinstance(flag, bool) else contexts.interpolate(str(flag)) == "true"
                result.conclusion = "success" if ok or continue_on_error else "failure"
            self.results.append(result)
            if result.id:
                self.steps_context[result.id] = {"outputs": dict(result.outputs), "outcome": result.outcome,
                                                 "conclusion": result.conclusion}
        status = "failure" if any(r.conclusion == "failure" for r in self.results) else "success"
        return JobResult(self.results, status, "".join(self.summary))

    def step_files(self, index: int) -> dict[str, Path]:
        folder = self.runner.temp / "_runner_file_commands" / f"step-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        files = {name: folder / name.lower() for name in
                 ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")}
        for path in files.values():
            path.write_text("", encoding="utf-8")
        return files

    def collect(self, files: dict[str, Path], result: StepResult) -> None:
        result.outputs.update(_read_key_values(files["GITHUB_OUTPUT"]))
        self.exported.update(_read_key_values(files["GITHUB_ENV"]))
        for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines():
            if line.strip():
                self.path_prefix.insert(0, line.strip())
        self.summary.append(files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"))

    def timeout(self, step: dict[str, Any]) -> float:
        limit = float(step.get("timeout-minutes", 360)) * 60
        return max(1.0, min(limit, self.runner.step_timeout_s, self.deadline - time.monotonic()))

    def run_script(self, step: dict[str, Any], defaults: dict[str, Any], contexts: Contexts,
                   env: dict[str, str], result: StepResult) -> bool:
        shell = step.get("shell", defaults.get("shell"))
        script = contexts.interpolate(str(step["run"]))
        path = self.runner.temp / f"{uuid.uuid4()}{SCRIPT_SUFFIX.get(shell or '', '.sh')}"
        path.write_text(script, encoding="utf-8")
        command = shell_command(shell, path)
        workdir = self.runner.workspace / contexts.interpolate(
            str(step.get("working-directory", defaults.get("working-directory", "."))))
        result.command, result.script = command, script
        done = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True,
                              timeout=self.timeout(step), stdin=subprocess.DEVNULL)
        result.exit_code, result.stdout, result.stderr = done.returncode, done.stdout, done.stderr
        return done.returncode == 0

    def run_action(self, step: dict[str, Any], contexts: Contexts, env: dict[str, str],
                   result: StepResult) -> bool:
        uses = str(step["uses"])
        result.inputs = {key: contexts.interpolate(to_text(value)) for key, value in (step.get("with") or {}).items()}
        action = uses.split("@", 1)[0]
        handler = {
            "actions/checkout": self.checkout,
            "actions/setup-python": self.setup_python,
            "actions/cache/restore": self.cache_restore,
            "actions/cache/save": self.cache_save,
            "aws-actions/configure-aws-credentials": self.configure_aws_credentials,
        }.get(action)
        if handler is None:
            raise NotImplementedError(f"the action {uses} is not emulated")
        return handler(result.inputs, result)

    # ---- the emulated actions

    def checkout(self, inputs: dict[str, str], result: StepResult) -> bool:
        workspace = self.runner.workspace
        if any(workspace.iterdir()):
            result.stderr = "the workspace is not empty"
            return False
        done = subprocess.run(["git", "clone", "--quiet", str(self.runner.origin), str(workspace)],
                              capture_output=True, text=True)
        result.stdout, result.stderr = done.stdout, done.stderr
        if done.returncode != 0:
            return False
        if inputs.get("persist-credentials", "true").lower() == "true":
            basic = base64.b64encode(f"x-access-token:{self.runner.token}".encode()).decode()
            subprocess.run(["git", "config", "--local", "http.https://github.com/.extraheader",
                            f"AUTHORIZATION: basic {basic}"], cwd=workspace, check=True)
        return True

    def setup_python(self, inputs: dict[str, str], result: StepResult) -> bool:
        if not inputs.get("python-version"):
            result.stderr = "no python-version given (the action would read .python-version, which a show has not)"
            return False
        self.path_prefix.insert(0, str(self.runner.python_bin))
        result.outputs = {"python-version": inputs["python-version"],
                          "python-path": str(self.runner.python_bin / "python")}
        return True

    def _cache_entries(self) -> list[tuple[float, str, Path]]:
        entries = []
        for folder in self.runner.cache_store.glob("*"):
            meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
            entries.append((meta["created"], meta["key"], folder))
        return sorted(entries, reverse=True)  # newest first

    @staticmethod
    def _cache_paths(inputs: dict[str, str]) -> list[str]:
        paths = [line.strip() for line in inputs["path"].splitlines() if line.strip()]
        for path in paths:
            if path.startswith("!") or any(c in path for c in "*?["):
                raise NotImplementedError(f"cache path pattern {path!r} is not emulated")
        return paths

    def cache_restore(self, inputs: dict[str, str], result: StepResult) -> bool:
        paths, key = self._cache_paths(inputs), inputs["key"]
        prefixes = [line.strip() for line in inputs.get("restore-keys", "").splitlines() if line.strip()]
        entries = self._cache_entries()
        match = next((e for e in entries if e[1] == key), None)
        for prefix in prefixes:
            match = match or next((e for e in entries if e[1].startswith(prefix)), None)
        result.outputs = {"cache-primary-key": key, "cache-hit": "false"}
        if match is None:
            result.stdout = f"Cache not found for input keys: {key}\n"
            return True
        for relative in paths:
            saved = match[2] / "data" / relative
            if saved.exists():
                target = self.runner.workspace / relative
                shutil.copytree(saved, target, dirs_exist_ok=True)
        result.outputs.update({"cache-hit": "true" if match[1] == key else "false", "cache-matched-key": match[1]})
        result.stdout = f"Cache restored from key: {match[1]}\n"
        return True

    def cache_save(self, inputs: dict[str, str], result: StepResult) -> bool:
        key = inputs["key"]
        if any(entry[1] == key for entry in self._cache_entries()):
            result.stdout = f"::warning::Failed to save: cache entry with key {key} already exists\n"
            return True
        folder = self.runner.cache_store / uuid.uuid4().hex
        for relative in self._cache_paths(inputs):
            source = self.runner.workspace / relative
            if source.exists():
                shutil.copytree(source, folder / "data" / relative)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "meta.json").write_text(json.dumps({"key": key, "created": time.time()}), encoding="utf-8")
        result.stdout = f"Cache saved with key: {key}\n"
        return True

    def configure_aws_credentials(self, inputs: dict[str, str], result: StepResult) -> bool:
        region = inputs.get("aws-region", "")
        if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
            result.stderr = f"Region is not valid: {region}"
            return False
        role, key_id = inputs.get("role-to-assume", ""), inputs.get("aws-access-key-id", "")
        if role and not key_id:
            if not self.id_token:
                result.stderr = ("Could not load credentials from any providers (no OIDC token: "
                                 "the job lacks permissions: id-token: write)")
                return False
            credentials = self.runner.sts.get(role)
            if credentials is None:
                result.stderr = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
                return False
        elif key_id:
            if not inputs.get("aws-secret-access-key"):
                result.stderr = "'aws-secret-access-key' must be provided if 'aws-access-key-id' is provided"
                return False
            credentials = {"AccessKeyId": key_id, "SecretAccessKey": inputs["aws-secret-access-key"],
                           "SessionToken": inputs.get("aws-session-token", "")}
        else:
            result.stderr = "Could not load credentials from any providers"
            return False
        if inputs.get("output-credentials", "false").lower() == "true":
            result.outputs = {"aws-access-key-id": credentials["AccessKeyId"],
                              "aws-secret-access-key": credentials["SecretAccessKey"],
                              "aws-session-token": credentials.get("SessionToken", "")}
        if inputs.get("output-env-credentials", "true").lower() == "true":
            self.exported.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region,
                                  "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
                                  "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"]})
            if credentials.get("SessionToken"):
                self.exported["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
        return True


def _read_key_values(path: Path) -> dict[str, str]:
    """name=value lines and name<<DELIMITER blocks (GITHUB_OUTPUT and GITHUB_ENV syntax)."""
    values: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values
