"""The web page's own words (buttons, labels, notes), translatable like every bot text.

The chat page and the widget receive these as JSON for all four languages, so switching
language in the page needs no round trip. Bot messages are not here: the engine sends them.
"""

from __future__ import annotations

from bot import LANGUAGES
from bot.i18n import LANGUAGE_NAMES, N_, Translator

#: key -> English source. Keys are what chat.js and widget.js look up.
PAGE: dict[str, str] = {
    "brand": N_("Safe Abroad"),
    "title": N_("Safe Abroad: chat"),
    "quick_exit": N_("Quick exit"),
    "quick_exit_hint": N_(
        "Leave this page now and erase the chat. Shortcut: press Shift three times."
    ),
    "erase": N_("Erase chat"),
    "erased": N_("This chat has been erased. Nothing about it is kept."),
    "start_again": N_("Start a new chat"),
    "language": N_("Language"),
    "input_label": N_("Your message"),
    "placeholder": N_("Type here…"),
    "send": N_("Send"),
    "log_label": N_("Conversation"),
    "you": N_("You"),
    "languages_spoken": N_("Speaks: {languages}"),
    "call": N_("Call {phone}"),
    "error_network": N_("I could not reach the server. Check your connection and try again."),
    "error_busy": N_("Please try again in a minute."),
    "error_rate": N_("That was a lot of messages at once. Please wait a few seconds."),
    "error_too_long": N_("That message is too long. Please make it shorter."),
    "error_other": N_("Sorry, something went wrong. Please try again."),
    "error_gone": N_("This chat has ended or was erased."),
    "privacy": N_("Privacy"),
    "back_to_chat": N_("Back to the chat"),
    "noscript": N_("This chat needs JavaScript. You can also call a hotline directly."),
}

#: The widget's words on the host page.
WIDGET: dict[str, str] = {
    "brand": PAGE["brand"],
    "open": N_("Safe work abroad? Ask here"),
    "open_label": N_("Open the Safe Abroad chat"),
    "frame_title": N_("Safe Abroad chat"),
    "close": N_("Close the chat"),
}

#: The 503 answer when the database cannot be reached.
TRY_AGAIN = PAGE["error_busy"]


def translated(translator: Translator, source: dict[str, str]) -> dict[str, dict[str, str]]:
    """Return `{lang: {key: text}}` for every language."""
    return {
        lang: {key: translator.gettext(lang, text) for key, text in source.items()}
        for lang in LANGUAGES
    }


def language_names() -> dict[str, str]:
    """Return each language's name as its speakers write it."""
    return dict(LANGUAGE_NAMES)
