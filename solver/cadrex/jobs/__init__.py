"""Jobs a user runs: solve a case, run a batch of scenarios, generate a synthetic case."""
