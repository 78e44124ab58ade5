"""Everything outside the servers that a run depends on: tools, peers, the machine.

* ``ensure_tool`` installs ``wrk`` / ``h2load`` with apt-get when missing.
* ``ensure_peers`` creates ``bench/.venv-peers`` and installs the exact pins of
  ``bench/requirements-peers.txt`` there (never into the project venv). A
  stamp file holding the requirements' hash makes the check instant when
  nothing changed.
* ``describe_machine`` / ``versions`` record what a stranger needs to
  reproduce a result: cores, RAM, CPU model, kernel, Python, tool and package
  versions, and the load average before and after the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.servers import PEERS_VENV, REPO

REQUIREMENTS = REPO / "bench" / "requirements-peers.txt"
_STAMP = PEERS_VENV / ".bench-requirements.sha256"


def ensure_tool(tool: str, apt_package: str) -> str:
    """The path of ``tool``, installing ``apt_package`` first if it is missing."""
    found = shutil.which(tool)
    if found:
        return found
    print(f"bench: {tool} not found; installing {apt_package} with apt-get", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", apt_package], check=True, env=env)
    found = shutil.which(tool)
    if not found:
        raise RuntimeError(f"{apt_package} installed but {tool} still not on PATH")
    return found


def ensure_peers() -> None:
    """Create/refresh ``bench/.venv-peers`` with the pinned peer servers and py-spy."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    python = PEERS_VENV / "bin" / "python"
    if python.exists() and _STAMP.exists() and _STAMP.read_text().strip() == digest:
        return
    if not python.exists():
        print(f"bench: creating {PEERS_VENV.relative_to(REPO)}", flush=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(PEERS_VENV)], check=True)
    print(f"bench: installing pinned peers from {REQUIREMENTS.relative_to(REPO)}", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(REQUIREMENTS)], check=True)
    _STAMP.write_text(digest + "\n")


def raise_fd_limit() -> int:
    """Lift the soft open-files limit to the hard one (inherited by servers and clients)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _first_line(argv: list[str]) -> str | None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else None


def describe_machine() -> dict[str, Any]:
    """Cores, memory, CPU model, kernel and current load of this machine."""
    cpu_model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "kernel": platform.release(),
        "os": _os_release(),
        "python": platform.python_version(),
        "loadavg": list(os.getloadavg()),
    }


def _os_release() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def versions(peers: bool) -> dict[str, Any]:
    """Versions of pagi, its parser libraries, the peers (if used) and the load tools."""
    from importlib import metadata

    project: dict[str, str] = {}
    dists = ("pagi-server", "uvloop", "httptools", "h11", "msgpack", "websockets", "wsproto")
    for dist in dists:
        try:
            # pagi is reported as "pagi" (its distribution is named pagi-server)
            project[dist.removesuffix("-server")] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    result: dict[str, Any] = {
        "project_venv": project,
        "wrk": _first_line(["wrk", "-v"]),
        "h2load": _first_line(["h2load", "--version"]) if shutil.which("h2load") else None,
    }
    if peers and (PEERS_VENV / "bin" / "python").exists():
        out = subprocess.run(
            [str(PEERS_VENV / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        try:
            result["peers_venv"] = {p["name"]: p["version"] for p in json.loads(out)}
        except json.JSONDecodeError:
            result["peers_venv"] = None
        result["peers_python"] = _first_line([str(PEERS_VENV / "bin" / "python"), "--version"])
    return result
