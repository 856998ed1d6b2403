"""The example resource, `/api/v1/items`: routes, schemas, models, queries and repository.

Copy this folder to add a resource of your own (README.md, "Adding a resource").
"""
