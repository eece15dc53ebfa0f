"""What the operator installs beside the binary: the version it reports, the systemd units
(checked by systemd-analyze where it is installed) and the example environment file."""
import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from conftest import BINARY, ROOT, Gateway, run_cli

DEPLOY = ROOT / "deploy"


def source_version():
    """The one committed version constant."""
    text = (ROOT / "Sources" / "StableGateApp" / "Operations" / "BuildInfo.swift").read_text()
    return re.search(r'public static let version = "([^"]+)"', text).group(1)


def test_version_is_reported_by_the_cli_and_healthz(tmp_path):
    version = source_version()
    # A build made without scripts/package.sh names no commit: "dev".
    assert run_cli("--version").stdout.strip() == f"stablegate {version} (commit dev)"
    gateway = Gateway(f"sqlite:{tmp_path}/db.sqlite", tmp_path).start()
    try:
        with urllib.request.urlopen(gateway.base_url + "/healthz", timeout=10) as reply:
            assert json.loads(reply.read()) == {"status": "ok", "version": version, "commit": "dev"}
    finally:
        gateway.stop()


def unit_root(tmp_path):
    """A root directory for `systemd-analyze verify --root`: this machine's system units (for
    the targets the units name), the units under test, and a stand-in executable at every
    absolute path their Exec lines start — the installed binary, which a test machine has not."""
    root = tmp_path / "root"
    system = root / "usr" / "lib" / "systemd" / "system"
    system.mkdir(parents=True)
    for unit in Path("/usr/lib/systemd/system").iterdir():
        if unit.is_file():
            shutil.copy(unit, system / unit.name)
    installed = root / "etc" / "systemd" / "system"
    installed.mkdir(parents=True)
    for unit in sorted(DEPLOY.glob("*.service")):
        shutil.copy(unit, installed / unit.name)
        for line in unit.read_text().splitlines():
            match = re.match(r"Exec\w+=[-@:+!]*(/\S+)", line)
            if match:
                stand_in = root / match.group(1).lstrip("/")
                stand_in.parent.mkdir(parents=True, exist_ok=True)
                stand_in.write_text("#!/bin/sh\n")
                stand_in.chmod(0o755)
    return root


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (Debian package systemd; scripts/bootstrap.sh test installs it)")
def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    units = sorted(DEPLOY.glob("*.service"))
    assert [unit.name for unit in units] == ["stablegate-sandbox-chain.service", "stablegate.service"]
    root = unit_root(tmp_path)
    result = subprocess.run(["systemd-analyze", "verify", f"--root={root}", *[f"/etc/systemd/system/{unit.name}" for unit in units]],
                            capture_output=True, text=True, timeout=60)
    # Unknown or misspelt directives are only warnings: any line naming a unit is a failure.
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and output == "", output


def test_the_gateway_unit_is_hardened_and_writes_only_its_data_directory():
    unit = (DEPLOY / "stablegate.service").read_text()
    settings = {}
    for line in unit.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    for key, value in [("User", "stablegate"), ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("Restart", "on-failure"), ("EnvironmentFile", "/etc/stablegate/stablegate.env"),
                       ("ReadWritePaths", "/var/lib/stablegate"), ("ExecStart", "/opt/stablegate/bin/stablegate serve")]:
        assert settings.get(key) == [value], (key, settings.get(key))
    assert "STABLEGATE_DATA_DIR=/var/lib/stablegate" in settings["Environment"]


def loader_keys():
    """Every key ConfigurationLoader reads (`mode` and the dotted ones)."""
    source = (ROOT / "Sources" / "StableGateApp" / "Configuration" / "ConfigurationLoader.swift").read_text()
    return {"mode", *re.findall(r'"([a-z]+(?:\.[a-z]+)+)"', source)}


def test_the_readme_table_documents_every_setting():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("## The API")]
    assert "trusted.proxies" in loader_keys()
    assert sorted(key for key in loader_keys() if f"`{key}`" not in table) == []


def test_the_example_environment_file_names_every_setting_and_starts_production(tmp_path):
    example = (DEPLOY / "stablegate.env.example").read_text()
    named = set(re.findall(r"^#? ?(STABLEGATE_[A-Z_]+)=", example, re.MULTILINE))
    settings = {"STABLEGATE_" + key.upper().replace(".", "_") for key in loader_keys()}
    assert settings - named == set()
    assert named - settings == set()
    # Read as systemd reads it (KEY=value lines, comments ignored), it is refused until the
    # master key is filled in; then it is a production configuration the gateway accepts (with
    # the data directory moved out of /var/lib for the test).
    env = {"PATH": "/usr/bin:/bin"}
    for line in example.splitlines():
        if line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value
    assert env["STABLEGATE_MODE"] == "production" and env["STABLEGATE_MASTER_KEY"] == ""
    refused = subprocess.run([str(BINARY), "migrate", "--data-dir", str(tmp_path)], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "master key" in refused.stderr, refused.stderr
    env["STABLEGATE_MASTER_KEY"] = "A" * 43 + "="
    migrated = subprocess.run([str(BINARY), "migrate", "--data-dir", str(tmp_path), "--database", f"sqlite:{tmp_path}/db.sqlite"],
                              env=env, capture_output=True, text=True, timeout=60)
    assert migrated.returncode == 0, migrated.stderr
