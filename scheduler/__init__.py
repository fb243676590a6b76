"""The scheduler entry point: phases open and close themselves on the campaign's dates."""
