"""What an inspection offers and its defaults, torch-free: the command line's help reads them."""

__all__ = ["METHODS", "STATISTICS_SIZE", "STEPS"]

# The attribution methods, by the names results and files use.
METHODS = ("integrated_gradients", "occlusion")

# Integrated Gradients' integration steps (Gauss-Legendre nodes): Captum's default; a trained text model's
# completeness gap is then far below its score (docs/tutorials/inside-the-cell.md shows it).
STEPS = 50

# Sequences of the test set that the statistics read by default: enough for a unit's rates to two decimals.
STATISTICS_SIZE = 256
