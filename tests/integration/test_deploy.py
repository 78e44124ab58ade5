"""The shipped systemd units: valid for systemd, and rated OK for exposure."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from harness import REPO

UNITS = REPO / "deploy" / "systemd"
SERVICES = ["pagi-front.service", "pagi-worker@.service"]

needs_systemd = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="needs systemd-analyze (Debian: systemd)"
)


def _installed_units(tmp_path: Path) -> Path:
    """The units with /opt/pagi/venv replaced by this test's venv (so ExecStart exists)."""
    venv = Path(sys.executable).parent.parent
    out = tmp_path / "units"
    out.mkdir()
    for unit in UNITS.iterdir():
        if unit.suffix in (".service", ".socket", ".target"):
            (out / unit.name).write_text(unit.read_text().replace("/opt/pagi/venv", str(venv)))
    return out


@needs_systemd
def test_units_verify(tmp_path: Path) -> None:
    units = _installed_units(tmp_path)
    assert (Path(sys.executable).parent / "pagi-ctl").exists()  # ExecReload's command
    names = sorted(str(p) for p in units.iterdir())
    assert len(names) == 4
    done = subprocess.run(
        ["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.strip() == "", done.stderr


@needs_systemd
@pytest.mark.parametrize("service", SERVICES)
def test_units_are_rated_ok_by_systemd_analyze_security(tmp_path: Path, service: str) -> None:
    units = _installed_units(tmp_path)
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", "--no-pager", str(units / service)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)", done.stdout)
    assert match, done.stdout + done.stderr
    assert float(match.group(1)) <= 2.5, done.stdout
    assert match.group(2) == "OK"


def test_unit_choices() -> None:
    front = (UNITS / "pagi-front.service").read_text()
    worker = (UNITS / "pagi-worker@.service").read_text()
    socket_unit = (UNITS / "pagi-front.socket").read_text()
    assert "Type=notify" in front and "NotifyAccess=main" in front
    assert "ExecReload=" in front and "LimitNOFILE=" in front and "WatchdogSec=" in front
    assert "RuntimeDirectory=pagi" in front and "RuntimeDirectoryPreserve=yes" in front
    # Workers survive a front restart: not tied to the front's unit.
    assert not re.search(r"^(PartOf|BindsTo|Requisite)=.*pagi-front", worker, re.M)
    assert "FileDescriptorName=" in socket_unit and "Service=pagi-front.service" in socket_unit
    assert (REPO / "deploy" / "rolling-restart.sh").stat().st_mode & 0o111


def test_container_recipes_are_consistent() -> None:
    """compose and Kubernetes files parse, run only commands pagi installs, and
    point readiness at what --metrics-bind serves."""
    import tomllib

    import yaml

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    deploy = REPO / "deploy"
    compose = yaml.safe_load((deploy / "container" / "compose.yaml").read_text())
    commands = [svc["command"] for svc in compose["services"].values()]
    commands.append(compose["services"]["front"]["healthcheck"]["test"][1:])
    manifests = list(yaml.safe_load_all((deploy / "kubernetes" / "pagi.yaml").read_text()))
    pod = manifests[0]["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    commands += [c["args"] for c in containers.values()]
    commands.append(containers["front"]["livenessProbe"]["exec"]["command"])
    for argv in commands:
        assert argv[0] in scripts, argv
    front = containers["front"]
    assert "--metrics-bind" in front["args"]
    assert front["readinessProbe"]["httpGet"]["path"] == "/healthz"
    mounts = {c: [m["mountPath"] for m in containers[c]["volumeMounts"]] for c in containers}
    assert mounts == {"front": ["/run/pagi"], "worker": ["/run/pagi"]}  # the shared socket dir
    assert manifests[1]["kind"] == "Service"
    containerfile = (deploy / "container" / "Containerfile").read_text()
    assert "PAGI_SOCKET_DIR=/run/pagi" in containerfile and "[fast,metrics]" in containerfile
