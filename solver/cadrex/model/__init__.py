"""The one model builder (SPEC §5–§6): pair set, objective terms, rule rows, assembled into a :class:`Model` that
every backend translates, with extension points for added terms and rows (:class:`Extension`). Import from here,
not from the modules inside (their split may change); :mod:`cadrex.model.core` documents the parts and how to add
terms and rows."""

from cadrex.model.change import CAP_RULE, Change, fewest_changes_model
from cadrex.model.columns import core_dot, count_attr, pair_columns
from cadrex.model.core import Extension, Model, assemble, build_model, build_rows
from cadrex.model.evaluate import (
           STRUCTURE_RULES,
           TERM_NAMES,
           PlanValues,
           best_aux,
           plan_values,
           status_quo_activity,
)
from cadrex.model.pairs import BLOCK_RULES, Pairs, all_pairs, pair_objective
from cadrex.model.rows import RowIndex, Summary, summarize

__all__ = ["BLOCK_RULES", "CAP_RULE", "Change", "STRUCTURE_RULES", "TERM_NAMES", "Extension", "Model", "Pairs", "PlanValues", "RowIndex", "Summary",
           "all_pairs", "assemble", "best_aux", "build_model", "build_rows", "core_dot", "count_attr", "fewest_changes_model", "pair_columns",
           "pair_objective", "plan_values", "status_quo_activity", "summarize"]
