"""The HTTP API: translates requests to commands and answers to HTTP, nothing more."""
