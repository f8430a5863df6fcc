"""HTTP API (FastAPI): the decision endpoints, sessions and health, under ``/v1``."""

from guardian.api.app import create_app

__all__ = ["create_app"]
