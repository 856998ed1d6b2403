"""The platform: what every service made from the template does for every request.

Logging and the access log, request IDs, the client's address behind proxies, security
headers, rate limiting, metrics, the error shape and its handlers, the operational endpoints
(health, metrics, status) and the gunicorn worker. `docs/contract.md` says what it promises.
A template update (`cruft update`) changes code here; the team's own code lives in a resource
folder beside this one.
"""
