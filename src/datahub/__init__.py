"""datahub: an API-first open-data hub for territories working towards carbon neutrality."""

__version__ = "0.1.0"
