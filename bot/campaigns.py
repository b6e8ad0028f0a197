"""Campaign codes: deep links that say where a person found us, and QR codes that carry them.

A campaign code (`[A-Za-z0-9_-]`, at most 64 characters) names a poster run, a job fair or a
partner website, never a person. It travels in the Telegram deep link
(`https://t.me/<bot>?start=<code>`, or `<code>__uk` to open in Ukrainian) and in the web link
(`/chat?c=<code>&lang=uk`). Known campaigns are data in `dialogs/campaigns.yaml`; any other
valid code is accepted and counted as "other", so a typo or a made-up code never shows up in
statistics by name.

`python -m bot qr --campaign CODE [--lang xx] [--channel telegram|web] --out FILE` writes the
QR code as PNG or SVG (by the file's extension).
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import segno

from bot import DIALOGS_DIR, LANGUAGES
from bot.i18n import normalize_language

MAX_CODE = 64
#: Telegram allows these characters, at most 64 of them, in a /start parameter.
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
LANG_SEPARATOR = "__"
#: Statistics buckets: campaign codes that are not in campaigns.yaml, and no campaign at all.
OTHER, NONE = "other", "none"
CHANNELS = ("telegram", "web")
QR_FORMATS = (".png", ".svg")


def is_valid_code(code: str | None) -> bool:
    """Tell whether `code` can be a campaign code (and so travel in a deep link)."""
    return bool(code) and _CODE.fullmatch(code) is not None


def parse_start_parameter(param: str | None) -> tuple[str | None, str | None]:
    """Split a Telegram /start parameter into (campaign, language); invalid input gives Nones.

    `fair25` -> ("fair25", None); `fair25__uk` -> ("fair25", "uk"); `__uk` -> (None, "uk").
    A suffix that is not one of our languages stays part of the code, since `_` is allowed.
    """
    if not param or _CODE.fullmatch(param) is None:
        return None, None
    code, separator, suffix = param.rpartition(LANG_SEPARATOR)
    lang = None
    if separator and suffix.isalpha() and len(suffix) <= 3:
        lang = normalize_language(suffix)
    if lang is None:
        return param, None
    return (code if is_valid_code(code) else None), lang


def start_parameter(code: str | None, lang: str | None = None) -> str:
    """Return the /start parameter for a campaign and language (`fair25__uk`)."""
    if code is not None and not is_valid_code(code):
        raise ValueError(f"not a valid campaign code: {code!r} (use A-Z, a-z, 0-9, _ and -)")
    if lang is not None and lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; use one of {', '.join(LANGUAGES)}")
    param = (code or "") + (f"{LANG_SEPARATOR}{lang}" if lang else "")
    if not param:
        raise ValueError("a link needs a campaign code, a language or both")
    if len(param) > MAX_CODE:
        raise ValueError(
            f"{param!r} is {len(param)} characters; Telegram allows {MAX_CODE} in a start "
            f"link, so keep the code to {MAX_CODE - len(LANG_SEPARATOR) - 2} when adding a language"
        )
    return param


def telegram_link(username: str, code: str | None, lang: str | None = None) -> str:
    """Return the deep link that opens the bot on Telegram with a campaign (and language)."""
    name = username.strip().lstrip("@")
    if not re.fullmatch(r"[A-Za-z0-9_]{3,64}", name):
        raise ValueError(f"not a Telegram bot username: {username!r}")
    return f"https://t.me/{name}?start={start_parameter(code, lang)}"


def web_link(base_url: str, code: str | None, lang: str | None = None) -> str:
    """Return the link to the chat page with a campaign (and language)."""
    if not base_url.startswith(("https://", "http://")):
        raise ValueError(f"the public address must start with https:// : {base_url!r}")
    start_parameter(code, lang)  # the same rules for codes and languages as on Telegram
    query = {key: value for key, value in (("c", code), ("lang", lang)) if value}
    return f"{base_url.rstrip('/')}/chat?{urlencode(query)}"


def unprintable(link: str) -> str | None:
    """Say why a link would make dead flyers (local or plain-http address), or None if fine.

    A QR code printed for `http://127.0.0.1:8000` or a laptop's `http://localhost` works on
    the laptop that made it and nowhere else; a plain-http link is refused by many phones.
    """
    parts = urlsplit(link)
    host = (parts.hostname or "").lower()
    if host in {"localhost", "testserver"} or host.endswith((".local", ".localhost", ".internal")):
        return f"{host} is a local address: phones that scan the flyer cannot reach it"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (
        address.is_private or address.is_loopback or address.is_unspecified
    ):
        return f"{host} is a private or local address: phones that scan the flyer cannot reach it"
    if parts.scheme != "https":
        return f"{parts.scheme}:// is not https: many phones refuse it, and it is not private"
    return None


def stats_bucket(code: str | None, known: Collection[str]) -> str:
    """Return the name a campaign is counted under: its code if known, else other or none."""
    if not code:
        return NONE
    return code if code in known else OTHER


# Known campaigns ----------------------------------------------------------------------


@dataclass(frozen=True)
class Campaign:
    """A campaign listed in campaigns.yaml: its code, what it is, which languages it uses."""

    code: str
    description: str
    languages: tuple[str, ...]


def load_campaigns(dialogs: Path = DIALOGS_DIR) -> dict[str, Campaign]:
    """Read `campaigns.yaml` (missing file: no campaigns); raise ValueError on a bad entry."""
    from bot.flows import load_yaml

    path = dialogs / "campaigns.yaml"
    if not path.exists():
        return {}
    data = load_yaml(path)
    if not isinstance(data, dict) or data.get("kind") != "campaigns":
        raise ValueError(f"{path.name}: expected `kind: campaigns`")
    problems: list[str] = []
    campaigns: dict[str, Campaign] = {}
    for entry in data.get("campaigns") or []:
        where = f"{path.name}:{getattr(entry, 'line', '?')}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: each campaign is a mapping with code and description")
            continue
        code = str(entry.get("code") or "")
        languages = tuple(entry.get("languages") or LANGUAGES)
        if not is_valid_code(code):
            problems.append(f"{where}: {code!r} is not a valid code (A-Z, a-z, 0-9, _, -)")
        elif code.lower() in (OTHER, NONE):
            problems.append(f"{where}: {code!r} is reserved for statistics")
        elif code in campaigns:
            problems.append(f"{where}: duplicate campaign code {code!r}")
        elif len(code) > MAX_CODE - len(LANG_SEPARATOR) - 2:
            problems.append(f"{where}: {code!r} is too long to carry a language on Telegram")
        bad = [lang for lang in languages if lang not in LANGUAGES]
        if bad:
            problems.append(f"{where}: unknown language(s) {bad}; use {list(LANGUAGES)}")
        if not str(entry.get("description") or "").strip():
            problems.append(f"{where}: say in `description` what the campaign is")
        campaigns.setdefault(code, Campaign(code, str(entry.get("description", "")), languages))
    if problems:
        raise ValueError("\n".join(problems))
    return campaigns


# QR codes -----------------------------------------------------------------------------


def qr_code(link: str) -> segno.QRCode:
    """Make the QR code for a link, with error correction for worn or dirty posters."""
    # "m" is the floor; segno raises it to "q" or "h" when that costs no extra size.
    return segno.make_qr(link, error="m")


def qr_svg(link: str, title: str = "") -> str:
    """Return the QR code as an inline <svg> that scales with CSS (no style attributes)."""
    return qr_code(link).svg_inline(
        scale=1, border=4, omitsize=True, svgclass="qr", lineclass=None, title=title or None
    )


def write_qr(link: str, out: Path) -> None:
    """Write the QR code for a link as PNG or SVG, chosen by the file's extension."""
    suffix = out.suffix.lower()
    if suffix not in QR_FORMATS:
        raise ValueError(f"write a .png or .svg file, not {out.name!r}")
    code = qr_code(link)
    if suffix == ".png":
        code.save(out, kind="png", scale=12, border=4)
    else:
        code.save(out, kind="svg", scale=10, border=4, title=link)


def campaign_link(
    channel: str,
    code: str | None,
    lang: str | None,
    *,
    bot_username: str = "",
    base_url: str | None = None,
) -> str:
    """Return the Telegram or web link for a campaign; explain what is missing if we cannot."""
    if channel == "telegram":
        if not bot_username:
            raise ValueError(
                "set TELEGRAM_BOT_USERNAME (or pass --bot-username) for Telegram links, "
                "or use --channel web"
            )
        return telegram_link(bot_username, code, lang)
    if channel == "web":
        if not base_url:
            raise ValueError("set PUBLIC_BASE_URL (or pass --base-url) for web links")
        return web_link(base_url, code, lang)
    raise ValueError(f"unknown channel {channel!r}; use telegram or web")


def qr_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare `qr` options."""
    parser.add_argument("--campaign", required=True, help="campaign code (A-Z a-z 0-9 _ -)")
    parser.add_argument("--lang", choices=LANGUAGES, help="open the bot in this language")
    parser.add_argument(
        "--channel",
        choices=CHANNELS,
        help="telegram (default when TELEGRAM_BOT_USERNAME is set) or web",
    )
    parser.add_argument("--out", required=True, type=Path, help="file to write: .png or .svg")
    parser.add_argument("--bot-username", help="Telegram bot username (default from settings)")
    parser.add_argument("--base-url", help="public web address (default PUBLIC_BASE_URL)")
    parser.add_argument(
        "--allow-local",
        action="store_true",
        help="write a QR code for a local or non-https address anyway (tests only: never print it)",
    )


def qr_command(args: argparse.Namespace) -> int:
    """Write a campaign's QR code and print the link it carries."""
    from bot.settings import Settings

    settings = Settings()
    username = args.bot_username or settings.telegram_bot_username
    channel = args.channel or ("telegram" if username else "web")
    try:
        link = campaign_link(
            channel,
            args.campaign,
            args.lang,
            bot_username=username,
            base_url=args.base_url or settings.public_base_url,
        )
        problem = unprintable(link)
        if problem and not args.allow_local:
            print(
                f"error: refusing to write a QR code for {link}: {problem}. Set PUBLIC_BASE_URL "
                "(or --base-url) to the bot's public https address; --allow-local writes it "
                "anyway for a test, never for print",
                file=sys.stderr,
            )
            return 2
        if problem:
            print(f"WARNING: {problem}: do not print this QR code", file=sys.stderr)
        write_qr(link, args.out)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        known = load_campaigns()
    except ValueError as exc:
        print(f"warning: campaigns.yaml: {exc}", file=sys.stderr)
        known = {}
    if args.campaign not in known:
        print(
            f"note: {args.campaign!r} is not in dialogs/campaigns.yaml, so statistics will "
            'count it as "other" until you add it there',
            file=sys.stderr,
        )
    print(f"{args.out}: {link}")
    return 0
