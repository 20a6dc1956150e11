"""The server's secret key when `SECRET_KEY` is unset: random, made once, kept in
`$ORCHESTRATOR_HOME/secret-key` (mode 0600) and shared by every server process on
this machine (Daphne, Celery, management commands). No Django imports here.

Processes on several machines must share one key: set `SECRET_KEY` there.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

FILE_NAME = "secret-key"
MIN_LENGTH = 50  # Django's deploy check asks for at least 50 characters


class SecretKeyFileError(RuntimeError):
    """The secret-key file exists but cannot be used; the message says what to do."""


def load_or_create_secret_key(home: Path) -> str:
    """Return the key stored under `home`, creating it first if it does not exist yet.

    Creation is atomic: the key is written to a private temporary file which is then
    hard-linked into place, so a concurrent process either wins the race or reads the
    winner's complete key, never a half-written one.
    """
    path = Path(home) / FILE_NAME
    try:
        return _read(path)
    except (FileNotFoundError, NotADirectoryError):
        pass  # not made yet (or the home cannot hold it: creating it says so)
    try:
        _make_private_folder(Path(home))
        _create(path, secrets.token_urlsafe(64))
    except OSError as exc:
        raise SecretKeyFileError(
            f"SECRET_KEY is unset and the key file {path} cannot be created ({exc}): "
            "set SECRET_KEY, or ORCHESTRATOR_HOME to a folder this user may write"
        ) from exc
    return _read(path)


def _read(path: Path) -> str:
    # O_NOFOLLOW: a symlink planted at the key's path is refused instead of followed.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "r", encoding="ascii") as file:
        if stat.S_IMODE(os.fstat(file.fileno()).st_mode) & 0o077:
            os.fchmod(file.fileno(), 0o600)  # an older or hand-made file readable by others is tightened
        key = file.read().strip()
    if len(key) < MIN_LENGTH:
        raise SecretKeyFileError(
            f"{path} holds a key of {len(key)} characters (at least {MIN_LENGTH} needed): "
            "delete the file to have a new key generated (this logs everyone out), or set SECRET_KEY"
        )
    return key


def _make_private_folder(home: Path) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)


def _create(path: Path, key: str) -> None:
    temporary = path.with_name(f".{FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(key + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)  # fails if another process created the key first: then its key is used
        except FileExistsError:
            pass
    finally:
        temporary.unlink(missing_ok=True)
