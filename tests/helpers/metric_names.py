"""The metric families a baked service exports, as docs/contract.md ("Metrics") names them.

The live scrape test finds each of these in a real scrape; the fast tier checks that the
contract names them and that the alert rules and the dashboard use no other.
"""

# The web service's /metrics, with a database and Redis chosen.
SERVICE = (
    "http_requests_total",
    "http_request_duration_seconds",
    "http_requests_in_flight",
    "http_request_duration_objective_seconds",
    "service_build_info",
    "readiness_check_up",
    "readiness_check_duration_seconds",
    "db_pool_size",
    "db_pool_max_connections",
    "db_pool_checked_out_connections",
    "db_pool_overflow_connections",
    "db_pool_timeouts_total",
    "redis_pool_in_use_connections",
    "redis_pool_idle_connections",
    "redis_pool_max_connections",
)
# The background worker's /metrics (background_jobs).
JOBS = (
    "jobs_enqueued_total",
    "jobs_succeeded_total",
    "jobs_failed_total",
    "jobs_retried_total",
    "jobs_dead_lettered_total",
    "job_duration_seconds",
    "jobs_dead_letters",
)
# prometheus-client's process collector, in both.
PROCESS = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_max_fds",
    "process_start_time_seconds",
)
