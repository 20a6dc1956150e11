"""`manage.py check --deploy` as someone deploying the server runs it."""
from __future__ import annotations

from tests.settings.conftest import manage

PRODUCTION = {"DEBUG": "false", "HTTPS": "true", "ALLOWED_HOSTS": "orch.example.com"}


def test_production_settings_pass_the_deploy_check_with_no_issues(home):
    out = manage(home, "check", "--deploy", "--fail-level", "DEBUG", **PRODUCTION)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues (0 silenced)." in out.stdout


def test_without_https_the_deploy_check_names_what_is_missing(home):
    out = manage(home, "check", "--deploy", "--fail-level", "WARNING", DEBUG="false", ALLOWED_HOSTS="orch.example.com")
    assert out.returncode != 0
    for check in ["security.W004", "security.W008", "security.W012", "security.W016"]:
        assert check in out.stderr, check
