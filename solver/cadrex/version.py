"""The package version (one place; every layer may read it)."""

__version__ = "0.1.0"
