"""The campaign's rules: aggregates, the lifecycle table and validated values. No I/O."""
