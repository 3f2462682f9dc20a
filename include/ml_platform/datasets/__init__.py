"""Daily data sets: schemas, deterministic demo generators, scenario switches and imports of real files."""
