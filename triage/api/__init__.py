"""The routing API: ``create_app(settings)`` builds the FastAPI application that ``triage serve`` runs."""

from triage.api.app import create_app

__all__ = ["create_app"]
