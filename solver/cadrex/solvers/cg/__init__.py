"""Column generation (price-and-branch) for national-scale cases, in five parts: :mod:`.pool` (the pair pool,
forced stays :func:`_drop_dead`, the short list, the first master), :mod:`.master` (the HiGHS master LP, its
artificials and the phase I of :meth:`~.master.MasterLP.confirm_infeasible`), :mod:`.pricing` (reduced costs and
top-k selections), :mod:`.dive` (a first plan from the LP) and :mod:`.driver` (:func:`solve_scaled`: the LP loop
of :class:`LPRound` records, the dive, the closure MIP). Import from here; ``new_highs`` is looked up here by the
master (tests replace it here)."""

from cadrex.solvers.cg.driver import ColumnGeneration, LPOutcome, LPRound, solve_scaled
from cadrex.solvers.cg.master import BIG_M, MasterLP, serial_resolves
from cadrex.solvers.cg.pool import _drop_dead, peak_mb
from cadrex.solvers.cg.pricing import _top_k
from cadrex.solvers.highs import new_highs

__all__ = ["BIG_M", "ColumnGeneration", "LPOutcome", "LPRound", "MasterLP", "_drop_dead", "_top_k", "new_highs", "peak_mb",
           "serial_resolves", "solve_scaled"]
