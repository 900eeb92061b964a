"""``python -m pygent`` runs the command line."""

from pygent.cli import cli

if __name__ == "__main__":
    cli()
