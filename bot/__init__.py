"""The chat platforms, one folder (or, for the local console, one module) each; each registers
itself with ``cyswllt.platforms`` when imported."""
