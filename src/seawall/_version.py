"""The version of Seawall, in one place."""

__version__ = "0.1.0"
