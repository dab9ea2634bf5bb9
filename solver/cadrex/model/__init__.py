"""The one model builder (SPEC §5–§6): pair set, objective terms, rule rows, assembled into a :class:`Model` that
every backend translates. Import from here, not from the modules inside (their split may change); see
docs/architecture.md for the parts and how to add terms and rows."""

from cadrex.model.core import (
    BLOCK_RULES,
    Model,
    Pairs,
    RowIndex,
    Summary,
    all_pairs,
    assemble,
    build_model,
    build_rows,
    core_dot,
    count_attr,
    pair_columns,
    pair_objective,
    summarize,
)

__all__ = ["BLOCK_RULES", "Model", "Pairs", "RowIndex", "Summary", "all_pairs", "assemble", "build_model", "build_rows",
           "core_dot", "count_attr", "pair_columns", "pair_objective", "summarize"]
