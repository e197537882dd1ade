"""The analysis tests use the consultation API fixture over real HTTP (SQLite and PostgreSQL)."""

from tests.engagement_api.conftest import api  # noqa: F401  (a fixture, shared)
