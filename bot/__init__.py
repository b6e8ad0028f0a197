"""Safe Abroad: a chatbot against human trafficking (engine, channels, content tools)."""

from pathlib import Path

__version__ = "0.1.0"

#: The repository root, where `dialogs/` and `locales/` live next to the package.
ROOT = Path(__file__).resolve().parent.parent
DIALOGS_DIR = ROOT / "dialogs"
LOCALES_DIR = ROOT / "locales"
LANGUAGES = ("lt", "ru", "uk", "en")
DEFAULT_LANGUAGE = "en"
