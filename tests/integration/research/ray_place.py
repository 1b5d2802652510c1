"""Run `tradewright` commands next to a Ray cluster, for the sweep tests.

Ray 2.60 binds its servers on every interface and offers no setting to keep them on 127.0.0.1. Where
the tests run as root they therefore run Ray, and the commands that talk to it, inside a private
network namespace that has only loopback (`unshare --net`, then `nsenter` into the namespace of the
cluster's head). Elsewhere (e.g. CI containers without that privilege) they run Ray directly.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.integration.research import netns_exec

PORT = 6390


class RayPlace:
    """Where the Ray commands run: inside one network namespace (as root) or directly."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.isolated = (
            os.geteuid() == 0 and shutil.which("unshare") is not None and shutil.which("nsenter") is not None
        )
        self.head: subprocess.Popen[str] | None = None

    def start_head(self) -> str:
        ray = str(Path(sys.executable).parent / "ray")
        cmd = [
            ray,
            "start",
            "--head",
            "--block",
            f"--port={PORT}",
            "--num-cpus=2",
            "--include-dashboard=false",
            "--disable-usage-stats",
            "--node-ip-address=127.0.0.1",
        ]
        if self.isolated:
            cmd = ["unshare", "--net", "--", sys.executable, netns_exec.__file__, *cmd]
        self.head = subprocess.Popen(
            cmd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        assert self.head.stdout is not None
        deadline = time.monotonic() + 120
        seen = []
        for line in self.head.stdout:
            seen.append(line)
            if "Ray runtime started" in line:
                break
            assert time.monotonic() < deadline and self.head.poll() is None, "".join(seen[-30:])
        else:
            raise AssertionError("ray start ended:\n" + "".join(seen[-30:]))
        return f"127.0.0.1:{PORT}"

    def stop_head(self) -> None:
        head = self.head
        if head is None:
            return
        head.terminate()  # `ray start --block` stops the processes it started when it is terminated
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
            head.wait(timeout=30)
        for pid in _session_members(head.pid):  # anything of that cluster still alive, by pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        cmd = [sys.executable, "-m", "tradewright.cli.main", *args]
        if self.isolated:
            if self.head is not None and self.head.poll() is None:
                cmd = ["nsenter", f"--net=/proc/{self.head.pid}/ns/net", "--", *cmd]
            else:
                cmd = ["unshare", "--net", "--", sys.executable, netns_exec.__file__, *cmd]
        return subprocess.run(cmd, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=600)


def _session_members(sid: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid:
            pids.append(int(stat.parent.name))
    return pids
