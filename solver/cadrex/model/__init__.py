"""The one model builder (SPEC §5–§6): pair set, objective terms, rule rows, assembled into a :class:`Model` that
every backend translates. See docs/architecture.md for its parts and how to add terms and rows."""

from cadrex.model.core import Model, Pairs, all_pairs, build_model

__all__ = ["Model", "Pairs", "all_pairs", "build_model"]
