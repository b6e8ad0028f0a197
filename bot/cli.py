"""The command line: `python -m bot <command>` (also installed as `safe-abroad`).

Each command lives in the module it belongs to, imported only when used, so `detect`
does not load the web stack and `serve` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

#: command -> (module, help). The module has `<command>_arguments` and `<command>_command`.
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("bot.serve", "run the web chat, widget, API, admin and (with a token) Telegram"),
    "chat": ("bot.console", "talk to the bot in the terminal (works from a pipe)"),
    "detect": ("bot.detector", "read texts on stdin, print danger signals as JSON lines"),
    "scan": ("bot.scanner", "read a job ad on stdin, print its red flags as JSON"),
    "validate": ("bot.validate", "check flows, data files and translations"),
    "devset": ("bot.devset", "measure the danger detector on the labelled development set"),
    "train": ("bot.train", "train the detector's (or with --ads the scanner's) statistical layer"),
    "migrate": ("bot.store", "upgrade the database schema"),
    "purge": ("bot.store", "delete conversations older than the retention period"),
    "stats": ("bot.stats", "print aggregate statistics (small counts suppressed)"),
    "qr": ("bot.campaigns", "write a QR code for a campaign link"),
}


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if argv and argv[0] == name:
            getattr(importlib.import_module(module), f"{name}_arguments")(command)
    args = parser.parse_args(argv)
    from bot.logs import setup_logging

    setup_logging()
    module = importlib.import_module(COMMANDS[args.command][0])
    from pydantic import ValidationError

    try:
        return int(getattr(module, f"{args.command}_command")(args) or 0)
    except ValidationError as error:  # a setting is wrong: say which, not a traceback
        for problem in error.errors():
            where = ".".join(str(p) for p in problem["loc"]).upper()
            message = str(problem["msg"]).removeprefix("Value error, ")
            print(f"error: {where} {message}", file=sys.stderr)
        return 2
