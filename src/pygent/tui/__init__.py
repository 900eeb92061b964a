"""The Textual terminal frontend (``pygent chat``): a client of ``pygent serve``."""
