"""Page families: one module each."""
