"""The secret key: from SECRET_KEY, else made once under $ORCHESTRATOR_HOME and reused."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.secret_key import SecretKeyFileError, load_or_create_secret_key
from tests.settings.conftest import ROOT, read_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_unset_secret_key_is_generated_into_a_private_file(home):
    key = read_settings(home, ["SECRET_KEY"])["SECRET_KEY"]
    path = home / "secret-key"
    assert path.read_text().strip() == key
    assert len(key) >= 50
    assert mode(path) == 0o600


def test_generated_key_is_reused_by_later_processes(home):
    first = read_settings(home, ["SECRET_KEY"])["SECRET_KEY"]
    assert read_settings(home, ["SECRET_KEY"])["SECRET_KEY"] == first


def test_each_home_gets_its_own_random_key(tmp_path):
    assert load_or_create_secret_key(tmp_path / "a") != load_or_create_secret_key(tmp_path / "b")


def test_secret_key_from_the_environment_wins_and_no_file_is_written(home):
    chosen = "k" * 20 + "from-the-environment" + "x" * 20
    assert read_settings(home, ["SECRET_KEY"], SECRET_KEY=chosen)["SECRET_KEY"] == chosen
    assert not (home / "secret-key").exists()


def test_the_settings_hold_no_fallback_key():
    source = (ROOT / "orchestrator" / "settings.py").read_text()
    line = next(line for line in source.splitlines() if line.startswith("SECRET_KEY"))
    assert line == 'SECRET_KEY = os.environ.get("SECRET_KEY") or load_or_create_secret_key(ORCHESTRATOR_HOME)'


def test_processes_starting_together_share_one_key(home):
    code = "import sys; from pathlib import Path; from orchestrator.secret_key import load_or_create_secret_key as f; print(f(Path(sys.argv[1])))"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(home)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for _ in range(6)]
    keys = {proc.communicate(timeout=60)[0].strip() for proc in procs}
    assert len(keys) == 1 and "" not in keys
    assert keys == {(home / "secret-key").read_text().strip()}
    assert [p.name for p in home.iterdir()] == ["secret-key"]  # no temporary file left behind


def test_home_folder_is_created_private(home):
    load_or_create_secret_key(home)
    assert mode(home) == 0o700


def test_an_existing_key_file_readable_by_others_is_tightened(home):
    home.mkdir()
    path = home / "secret-key"
    path.write_text("s" * 60 + "\n")
    os.chmod(path, 0o644)
    assert load_or_create_secret_key(home) == "s" * 60
    assert mode(path) == 0o600


def test_a_key_file_too_short_to_be_safe_is_refused_with_what_to_do(home):
    home.mkdir()
    (home / "secret-key").write_text("short\n")
    with pytest.raises(SecretKeyFileError, match="delete the file|SECRET_KEY"):
        load_or_create_secret_key(home)


def test_a_symlink_in_place_of_the_key_file_is_refused(home, tmp_path):
    home.mkdir()
    target = tmp_path / "elsewhere"
    target.write_text("t" * 60)
    (home / "secret-key").symlink_to(target)
    with pytest.raises(OSError):
        load_or_create_secret_key(home)


def test_a_home_that_cannot_hold_the_key_says_what_to_do(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(SecretKeyFileError, match="set SECRET_KEY"):
        load_or_create_secret_key(not_a_folder / "home")
