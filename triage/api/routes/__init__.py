"""The API's routes, a few per file: complaints and decisions, reference data (taxonomy, model, stats),
health."""
