"""Attaché: a Discord bot for city-diplomacy practitioner networks."""

from __future__ import annotations

from pathlib import Path

__version__ = "0.1.0"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"
MIGRATIONS_DIR = DATA_DIR / "migrations"
COGS_DIR = PROJECT_ROOT / "cogs"
