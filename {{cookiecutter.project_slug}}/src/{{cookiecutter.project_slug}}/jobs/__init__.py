"""Background jobs: Dramatiq on Redis.

`broker` builds the broker from the settings, `middleware` writes the JSON log lines and the
metrics of every job, `__main__` is the worker command (`python -m <package>.jobs`),
`dead_letters` the operator's command for jobs that failed for good, `health` the worker's
liveness check.
"""

# The modules that declare actors: the worker imports them, and so do the dead-letter command
# and the tests. Here, not in `broker`: the worker's parent process reads this without
# building a broker, whose id its forked processes would otherwise share.
ACTOR_MODULES = ("{{ cookiecutter.project_slug }}.{{ "items.jobs" if cookiecutter.database != "none" else "jobs.tasks" }}",)
