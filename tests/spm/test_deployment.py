"""docker-compose.yml has the production topology the README promises."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_postgres_redis_web_worker_and_beat():
    services = compose()["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "spm", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "spm", "beat"]


def test_every_long_running_service_has_a_health_check_and_the_database_a_named_volume():
    config = compose()
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in config["services"][name], name
    assert "pgdata" in config["volumes"]
    assert config["services"]["db"]["volumes"] == ["pgdata:/var/lib/postgresql/data"]


def test_the_app_reads_its_settings_from_the_environment_and_keeps_no_secret():
    environment = compose()["services"]["web"]["environment"]
    assert environment["SPM_DEBUG"] == "false"
    assert environment["SPM_SECRET_KEY"].startswith("${SPM_SECRET_KEY:?")
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["CELERY_BROKER_URL"].startswith("redis://")
