"""Use cases of the campaign, its settings and its composition."""
