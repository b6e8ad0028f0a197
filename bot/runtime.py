"""The composition root: build the engine and the conversation service from the content."""

from __future__ import annotations

from pathlib import Path

from bot import DIALOGS_DIR, LOCALES_DIR
from bot.answers import Answers, Places
from bot.classifier import default_classifier
from bot.contacts import Directory
from bot.counsellor import Desk
from bot.destinations import Destinations
from bot.detector import Detector
from bot.engine import Engine
from bot.faq import Faq
from bot.flows import load_flows
from bot.i18n import Translator
from bot.scanner import Scanner


def build_engine(
    dialogs: Path = DIALOGS_DIR,
    locales: Path = LOCALES_DIR,
    desk: Desk | None = None,
    *,
    compile_scanner: bool = True,
) -> Engine:
    """Load flows, catalogs, detector (rules and model), scanner, FAQ, contacts and the
    typed-answer and country vocabularies into one engine."""
    return Engine(
        flows=load_flows(dialogs),
        translator=Translator.load(locales),
        detector=Detector.load(dialogs / "signals", default_classifier()),
        scanner=Scanner.load(dialogs, compile=compile_scanner),
        faq=Faq.load(dialogs),
        directory=Directory.load(dialogs),
        answers=Answers.load(dialogs / "answers.yaml"),
        places=Places.load(dialogs / "countries.yaml"),
        desk=desk,
        destinations=Destinations.load(dialogs),
    )
