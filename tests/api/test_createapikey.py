"""`manage.py createapikey NAME [--scope ingest|read|admin] [--expires-in 90d]`."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.models import APIKey, hash_key


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("createapikey", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_prints_the_key_alone_on_the_last_line_of_stdout():
    out, _ = run("ci")
    raw = out.splitlines()[-1]
    assert APIKey.find(raw).name == "ci"


@pytest.mark.django_db
def test_stores_only_the_hash_of_the_key():
    out, _ = run("ci")
    raw = out.splitlines()[-1]
    key = APIKey.objects.get()
    assert key.hashed_key == hash_key(raw)
    assert raw not in {key.name, key.prefix, key.hashed_key}


@pytest.mark.django_db
def test_says_on_stderr_that_the_key_is_shown_once():
    _, err = run("ci")
    assert "shown once" in err


@pytest.mark.django_db
def test_default_scope_is_ingest():
    run("ci")
    assert APIKey.objects.get().scope == "ingest"


@pytest.mark.django_db
@pytest.mark.parametrize("scope", ["ingest", "read", "admin"])
def test_scope_option_sets_the_scope(scope):
    run("ci", "--scope", scope)
    assert APIKey.objects.get().scope == scope


@pytest.mark.django_db
def test_unknown_scope_is_refused():
    with pytest.raises(CommandError):
        run("ci", "--scope", "root")
    assert not APIKey.objects.exists()


@pytest.mark.django_db
def test_empty_name_is_refused():
    with pytest.raises(CommandError):
        run(" ")


@pytest.mark.django_db
def test_each_call_issues_a_different_key():
    first, _ = run("a")
    second, _ = run("a")
    assert first.splitlines()[-1] != second.splitlines()[-1]


@pytest.mark.django_db
@pytest.mark.parametrize("text, lifetime", [("90d", timedelta(days=90)), ("12h", timedelta(hours=12)),
                                            ("30m", timedelta(minutes=30)), ("2w", timedelta(weeks=2))])
def test_expires_in_sets_the_expiry(text, lifetime):
    before = timezone.now()
    run("ci", "--expires-in", text)
    key = APIKey.objects.get()
    assert before + lifetime <= key.expires_at <= timezone.now() + lifetime


@pytest.mark.django_db
def test_expiry_is_said_on_stderr():
    _, err = run("ci", "--expires-in", "90d")
    assert "expires" in err


@pytest.mark.django_db
def test_without_expires_in_the_key_never_expires():
    _, err = run("ci")
    assert APIKey.objects.get().expires_at is None
    assert "never expires" in err


@pytest.mark.django_db
@pytest.mark.parametrize("text", ["90", "0d", "-1d", "ninety days", "90y", ""])
def test_bad_expires_in_is_refused_with_an_example(text):
    with pytest.raises(CommandError, match="90d"):
        run("ci", f"--expires-in={text}")
    assert not APIKey.objects.exists()
