"""Runs the `squrl` command as a subprocess, with a config directory of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@dataclass
class SqurlCli:
    config_dir: Path
    url: str

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SQURL_")}
        env.update({"SQURL_CONFIG_DIR": str(self.config_dir), "NO_COLOR": "1", "COLUMNS": "200"})
        return env

    def __call__(self, *args: str, input: str | None = None, timeout: float = 60) -> Run:
        done = subprocess.run(
            [sys.executable, "-m", "squrl_cli", *args],
            cwd=ROOT,
            env=self.env(),
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    def ok(self, *args: str, input: str | None = None) -> Run:
        run = self(*args, input=input)
        assert run.code == 0, f"squrl {' '.join(args)} -> {run.code}\n{run.stdout}\n{run.stderr}"
        return run

    def login(self, token: str) -> Run:
        return self.ok("--url", self.url, "login", "--token", token)
