"""Reading and validating cases (SPEC §2–§4)."""

from cadrex.io.case import Case, load_case
from cadrex.io.errors import CaseError, Problem

__all__ = ["Case", "CaseError", "Problem", "load_case"]
