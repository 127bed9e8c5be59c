"""Backward-walking profiles: file models, loading, safety checks, the timeline engine and the
session summary. Pure: standard library plus pydantic and PyYAML for files."""
