"""Second readings of a plan or a case: the independent verifier, the infeasibility diagnosis, explain (why / why
not)."""
