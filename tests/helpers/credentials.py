"""The API key the template's tests call baked services with (auth=api-key, the default).

Known to everyone who reads this file, so never a real one. `running_service.start` puts its
entry in API_KEYS, and the helpers that talk to a service send it: a project baked with
auth=none ignores the header.
"""

import hashlib

API_KEY = "template-tests-only-key-4sZq8LwN2xVb7RkT0pYe"
API_KEYS = f"template-tests:items:read items:write:{hashlib.sha256(API_KEY.encode()).hexdigest()}"
HEADERS = {"X-API-Key": API_KEY}
