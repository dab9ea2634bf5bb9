"""Eligibility (E1–E10), objective terms and the short list as numpy arrays over one case context; no solver
import here, no model."""

from cadrex.rules.context import Context

__all__ = ["Context"]
