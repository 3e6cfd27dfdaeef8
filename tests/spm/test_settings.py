"""Settings come from the environment; production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env_overrides: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SPM_", "DATABASE_URL", "CELERY_", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_outside_debug_a_missing_secret_key_stops_start_up_with_a_clear_message():
    result = run_check(SPM_DEBUG="false", SPM_ALLOWED_HOSTS="spm.example.com")
    assert result.returncode != 0
    assert "SPM_SECRET_KEY is not set" in result.stderr


def test_outside_debug_missing_allowed_hosts_stops_start_up():
    result = run_check(SPM_DEBUG="false", SPM_SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "SPM_ALLOWED_HOSTS is not set" in result.stderr


def test_a_nonsense_debug_flag_is_refused_rather_than_guessed():
    result = run_check(SPM_DEBUG="maybe")
    assert result.returncode != 0
    assert "SPM_DEBUG must be true or false" in result.stderr


def test_production_settings_pass_check_deploy_without_warnings():
    result = run_check(
        SPM_DEBUG="false",
        SPM_SECRET_KEY="a-long-random-production-secret-" + "k" * 40,
        SPM_ALLOWED_HOSTS="spm.example.com",
        SPM_EMAIL_URL="smtp://mail.example.com:587?tls=1",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_database_url_selects_postgresql_through_psycopg():
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL")}
    env["DATABASE_URL"] = "postgres://spm:pw@db.internal:5432/spm"
    env["DJANGO_SETTINGS_MODULE"] = "spm.settings"
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.split() == ["django.db.backends.postgresql", "spm"], result.stderr


def test_without_a_broker_celery_runs_tasks_eagerly(settings):
    from spm.celery import app

    if "CELERY_BROKER_URL" in os.environ:
        assert os.environ["CELERY_BROKER_URL"] == settings.CELERY_BROKER_URL
        assert not settings.CELERY_TASK_ALWAYS_EAGER
    else:
        assert settings.CELERY_TASK_ALWAYS_EAGER
        assert app.conf.broker_url == "memory://"


def test_production_without_a_real_mail_server_is_flagged_by_check_deploy():
    result = run_check(
        SPM_DEBUG="false",
        SPM_SECRET_KEY="a-long-random-production-secret-" + "k" * 40,
        SPM_ALLOWED_HOSTS="spm.example.com",
    )
    assert result.returncode != 0
    assert "mail.E001" in result.stdout + result.stderr  # the console mailer only prints: set SPM_EMAIL_URL


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_hold_of_no_periods_is_refused_at_start_up(value):
    result = run_check(SPM_ALERT_HOLD_PERIODS=value)
    assert result.returncode != 0
    assert "SPM_ALERT_HOLD_PERIODS must be a whole number of periods, 1 or more." in result.stderr
