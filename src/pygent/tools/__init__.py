"""Tools: the agent's hands. ``base`` holds the mechanism; one module per tool family."""
