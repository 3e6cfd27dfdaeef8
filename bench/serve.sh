#!/usr/bin/env bash
# `make serve`: the docker-compose topology without Docker — gunicorn, a Celery worker and Celery beat on the
# local PostgreSQL and Redis, supervised together: if one stops, all stop. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/spm}"
export CELERY_BROKER_URL="${CELERY_BROKER_URL:-redis://127.0.0.1:6379/0}"
export SPM_DEBUG="${SPM_DEBUG:-false}"
export SPM_HTTPS="${SPM_HTTPS:-false}"   # plain http on 127.0.0.1; behind TLS set SPM_HTTPS=true
export SPM_ALLOWED_HOSTS="${SPM_ALLOWED_HOSTS:-127.0.0.1,localhost}"
export SPM_DEMO_PASSWORD="${SPM_DEMO_PASSWORD:-demo}"
if [ -z "${SPM_SECRET_KEY:-}" ]; then
  SPM_SECRET_KEY="$("$BIN/python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
  export SPM_SECRET_KEY
  echo "SPM_SECRET_KEY unset: using a random key for this run (sessions end when it stops)"
fi
PORT="${PORT:-8000}"

pg_isready -q -d "$DATABASE_URL" || { echo "PostgreSQL is not reachable at DATABASE_URL" >&2; exit 1; }
"$BIN/python" - <<'PY'
import os, psycopg
from urllib.parse import urlsplit
url = urlsplit(os.environ["DATABASE_URL"]); name = url.path.lstrip("/")
with psycopg.connect(os.environ["DATABASE_URL"].replace(url.path, "/postgres"), autocommit=True) as conn:
    if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        conn.execute(f'CREATE DATABASE "{name}"'); print(f"created database {name}")
PY
"$BIN/python" manage.py migrate --no-input -v 0
"$BIN/python" manage.py collectstatic --no-input -v 0
"$BIN/python" manage.py seed_demo --if-empty --products "${DEMO_PRODUCTS:-120}" --months "${DEMO_MONTHS:-12}" --seed 1

pids=()
stop() { trap - INT TERM EXIT; kill "${pids[@]}" 2>/dev/null || true; wait || true; }
trap stop INT TERM EXIT
# Workers, threads and the web processes' statement timeout: spm/gunicorn.conf.py.
"$BIN/gunicorn" spm.wsgi --config spm/gunicorn.conf.py --bind "127.0.0.1:$PORT" & pids+=($!)
"$BIN/celery" -A spm worker --loglevel=INFO --concurrency=2 & pids+=($!)
"$BIN/celery" -A spm beat --loglevel=INFO --schedule /tmp/spm-celerybeat-schedule & pids+=($!)
echo "SPM Dashboard (production shape) at http://127.0.0.1:$PORT/ — gunicorn, Celery worker, Celery beat"
wait -n
echo "a process stopped: stopping the others" >&2
