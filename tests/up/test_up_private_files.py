"""Secrets under ORCHESTRATOR_HOME: the key file is 0600 from the moment it exists, a readable one is
tightened before it is used, and the folders `make up` creates are 0700."""
from __future__ import annotations

import os
import stat

import pytest

from orchestrator.config import embedded_broker_options, private_dir
from orchestrator.local_setup import read_private_file, write_private_file


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    old = os.umask(0o000)  # the worst case: a file created with the default mode would be world-writable
    yield
    os.umask(old)


def test_key_file_is_created_0600(tmp_path, permissive_umask):
    path = tmp_path / "home" / "demo-api-keys" / "x.key"
    write_private_file(path, "orc_secret\n")
    assert mode(path) == 0o600 and path.read_text() == "orc_secret\n"


def test_an_existing_readable_file_is_rewritten_0600(tmp_path, permissive_umask):
    path = tmp_path / "x.key"
    path.write_text("old")
    path.chmod(0o644)
    write_private_file(path, "new")
    assert mode(path) == 0o600 and path.read_text() == "new"


def test_an_existing_world_readable_key_is_tightened_when_read(tmp_path):
    path = tmp_path / "x.key"
    path.write_text("orc_secret\n")
    path.chmod(0o644)
    assert read_private_file(path) == "orc_secret"
    assert mode(path) == 0o600


def test_a_missing_key_file_reads_as_none(tmp_path):
    assert read_private_file(tmp_path / "missing.key") is None


def test_folders_are_created_0700_including_missing_parents(tmp_path, permissive_umask):
    folder = private_dir(tmp_path / "home" / "logs")
    assert mode(tmp_path / "home") == 0o700 and mode(folder) == 0o700


def test_the_embedded_broker_folders_are_private(tmp_path, monkeypatch, permissive_umask):
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "home"))
    options = embedded_broker_options()
    assert mode(tmp_path / "home") == 0o700
    assert mode(tmp_path / "home" / "broker") == 0o700
    assert all(mode(type(tmp_path)(options[k])) == 0o700 for k in ("data_folder_in", "processed_folder", "control_folder"))
