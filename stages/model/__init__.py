"""Model code shared by the model stages and the season calibration (features, fits, simulation)."""
