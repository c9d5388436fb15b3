"""Secretariat: the web platform for the secretariats of city networks."""

from secretariat.app import create_app

__all__ = ["create_app"]
