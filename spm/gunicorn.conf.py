"""gunicorn settings for the web process (`make serve`, `make load`, docker-compose): one place to tune them.

https://docs.gunicorn.org/en/stable/settings.html — every value can be overridden by the environment variable
named beside it.
"""

import multiprocessing
import os

# Pages are CPU-bound in Python (templates, ORM) with short waits on PostgreSQL: about two processes per core
# keep both cores busy while one waits, and a few threads each let keep-alive connections and the waits overlap
# without more memory. Measured on the 2-core machine with `make load`: see docs/benchmarks.md.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 2)
worker_class = "gthread" if threads > 1 else "sync"
keepalive = 5
# A request that outlives this is killed and its worker replaced; the statement timeout below answers first.
timeout = 30
graceful_timeout = 10
# Re-use memory and guard against slow leaks: a worker is replaced after this many requests (jittered so they
# do not all restart at once).
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None

# The web processes cancel any query that runs longer than this (spm/settings.py: STATEMENT_TIMEOUT_MS), so a
# slow query answers a friendly 503 instead of holding a worker. Celery keeps no limit: its full recompute runs
# long statements on purpose.
os.environ.setdefault("SPM_STATEMENT_TIMEOUT_MS", "5000")
