"""The engine's machinery: normalise, compare, model, columnar coding and registry-wide pairing."""
