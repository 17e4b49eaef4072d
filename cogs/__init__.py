"""Feature extensions: each sub-package is a discord.py extension with a `setup()`."""
