"""gunicorn settings for the web process (`make serve`, `make load`, docker-compose): one place to tune them.

https://docs.gunicorn.org/en/stable/settings.html — every value can be overridden by the environment variable
named beside it.
"""

import multiprocessing
import os

# Pages are CPU-bound in Python (templates, ORM) with short waits on PostgreSQL: two processes per core keep both
# cores busy while one waits. Threads did not help: under the GIL they share a process's core, and at 50 users on
# 2 cores `make load` measured the same throughput with a p95 of 1.4-3.2 s for 4 processes x 2 threads against
# 0.8-0.9 s for 4 single-threaded ones (docs/benchmarks.md). Sync workers hold a connection per request: in
# production they sit behind a proxy that buffers slow clients.
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2)
threads = int(os.environ.get("GUNICORN_THREADS") or 1)
worker_class = "gthread" if threads > 1 else "sync"
keepalive = 5  # for gthread workers (GUNICORN_THREADS > 1); sync workers close each connection
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
