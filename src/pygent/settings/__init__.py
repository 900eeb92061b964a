"""Settings: pydantic models, layered loading (defaults < user < project < env < flags), paths."""
