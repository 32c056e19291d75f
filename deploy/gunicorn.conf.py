"""gunicorn for one newsroom app server: `gunicorn -c deploy/gunicorn.conf.py`.

Run it with the production environment (docs/operations.md, "Production deployment").
Behind the nginx balancer in deploy/nginx/newsroom.conf, each app server listens on an address
only the balancer reaches: the vote rate limit trusts the X-Forwarded-For that the proxies append.
"""

import os

wsgi_app = "newsroom.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
# Sync workers: every request is short (a cached page, one upsert), and the benchmarks in
# bench/ measure this set-up. About two per core; WEB_CONCURRENCY overrides.
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * (os.cpu_count() or 1)))
worker_class = "sync"
# A worker stuck longer than this is killed and replaced; nginx gives up on it after 30 s.
timeout = 30
# On SIGTERM (a deploy), requests in flight get this long to finish.
graceful_timeout = 20
# Replace each worker now and then, so a slow leak in any dependency cannot grow unbounded;
# the jitter keeps workers from restarting all at once.
max_requests = 10_000
max_requests_jitter = 1_000
# Workers' heartbeat files on tmpfs: a slow disk must not get healthy workers killed.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# X-Forwarded-Proto is trusted from the balancer only.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Requests are logged by nginx; gunicorn logs errors to stderr (the journal, under systemd).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
proc_name = "newsroom"
