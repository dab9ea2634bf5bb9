"""Eligibility (E1–E10), hard rules (H1–H7) and objective terms as numpy arrays; no solver import here."""

from cadrex.rules.context import Context
from cadrex.rules.model import Model, build_model

__all__ = ["Context", "Model", "build_model"]
