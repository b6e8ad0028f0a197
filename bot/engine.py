"""The dialog engine: `advance(state, event) -> (state, replies)`, pure and channel-free.

The state is a small JSON-serialisable dict; the engine never does I/O. Every free-text
message is read by the danger detector first: a hit interrupts the flow with the help
handoff, and the person can resume afterwards. Texts are English msgids translated here,
so channels only render.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from bot import DEFAULT_LANGUAGE, LANGUAGES
from bot.counsellor import utcnow
from bot.flows import FLOW_PREFIX, MENU, Flow, Step
from bot.i18n import (
    LANGUAGE_NAMES,
    N_,
    Translator,
    format_day,
    format_money,
    format_number,
    negotiate,
    normalize_language,
)
from bot.model import (
    Action,
    Back,
    Choice,
    Contact,
    Counsel,
    Event,
    Help,
    Media,
    NoPickup,
    Note,
    Pick,
    RelayClosed,
    RelayFailed,
    RelayOpened,
    Reply,
    Restart,
    SetLanguage,
    Show,
    Start,
    Text,
)
from bot.relay_dialog import RelayDialog
from bot.text import clear_language, drop_invisible

STATE_VERSION = 1
MAX_TEXT = 4000
MAX_TRAIL = 60
MENU_FLOW, MENU_STEP = "menu", "main"
HELP_FLOW = "help"
COUNTRY_STEP = "where"
CONTACTS_STEP = "contacts"
OTHER = "OTHER"  # a country the directory does not list

#: Choice ids of the counsellor relay: offer (consent screen), agree, end the chat.
RELAY_CHOICES = ("relay", "relay:yes", "relay:end")

#: A hotline name's gloss in brackets at its end: "ROSA (national helpline ...)".
_GLOSS = re.compile(r"\s*\([^()]*\)$")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


NO_FLAGS_FOUND = N_(
    "I did not find the usual warning signs in this text. That does not mean the offer is "
    "safe: I cannot check the company, the contract or the people behind it. The checklist "
    "helps you check those."
)
#: Before the weak signs of an ad with no warning sign (no employer named, a messenger only).
CHECK_THESE = N_("Before you answer, also check:")


#: What a danger category asks for, as a topic of dialogs/destinations.yaml.
NEEDS = {"documents_taken": "passport", "wages_withheld": "inspectorate"}

#: A short result shows this many warning signs, the heaviest; "Show all" shows the rest.
TOP_FLAGS = 3

#: The MAX_ANSWER first characters of a typed text are compared with a question's choices.
MAX_ANSWER = 60

SERIOUS = N_(
    "What you describe sounds serious. It is not your fault, and you are not alone: there are "
    "people who can help, free and in confidence."
)
HELP_IS_HERE = N_("You are not alone. These people can help, free and in confidence.")

LANGUAGE_GAP = N_(
    "Not every line in this country speaks your language, so the ones that do come first."
)
ALREADY_HAPPENING = N_(
    "If something like this is already happening to you or someone you know, you can get "
    "help now, free and in confidence."
)


class Detector(Protocol):
    def detect(self, text: str) -> Any: ...


class Scanner(Protocol):
    def scan(self, text: str) -> Any: ...


class Answers(Protocol):
    def choice(self, text: str, options: list[tuple[str, str]]) -> str | None: ...

    def asks_for_help(self, text: str) -> bool: ...


class Places(Protocol):
    def country_in(self, text: str) -> str | None: ...


class Faq(Protocol):
    def match(self, text: str, lang: str | None = None) -> Any: ...


class Directory(Protocol):
    def for_person(self, country: str | None, lang: str) -> Any: ...

    def emergency(self, country: str | None) -> Any: ...


class Destinations(Protocol):
    def lines(
        self, country: str | None, topics: tuple[str, ...], today: Any, lang: str | None = None
    ) -> list[Any]: ...


class Desk(Protocol):
    organisation: str
    languages: tuple[str, ...]
    wait_minutes: int

    def is_open(self, now: datetime) -> bool: ...

    def hours_for(self, lang: str, country: str | None, now: datetime) -> tuple[str, str]: ...


@dataclass
class Turn:
    """What one event produced: the new state, the replies and anonymous notes for stats."""

    state: dict[str, Any]
    replies: list[Reply] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    #: What the service must do on the counsellors' side once the state is saved.
    actions: list[Action] = field(default_factory=list)
    #: Said at the top of the handoff's numbers (why the help screen opened).
    lead: str = ""


def clean_text(text: str) -> str:
    """Drop control and bidi characters and surrounding space from typed text."""
    return _CONTROL.sub(" ", drop_invisible(unicodedata.normalize("NFC", text))).strip()


class Engine:
    """Advance conversations through the flows; one instance serves every channel."""

    def __init__(
        self,
        flows: dict[str, Flow],
        translator: Translator,
        detector: Detector | None = None,
        scanner: Scanner | None = None,
        faq: Faq | None = None,
        directory: Directory | None = None,
        answers: Answers | None = None,
        places: Places | None = None,
        desk: Desk | None = None,
        clock: Callable[[], datetime] = utcnow,
        destinations: Destinations | None = None,
    ):
        self.flows = flows
        #: What the bot knows about a destination: minimum wage, agency checks, inspectorate.
        self.destinations = destinations
        self.answers = answers
        self.places = places
        self.translator = translator
        self.detector = detector
        self.scanner = scanner
        self.faq = faq
        self.directory = directory
        #: The counsellor desk ("Write to a counsellor"); None: the relay is off.
        self.desk = desk
        self.clock = clock
        self.relay = RelayDialog(self)

    # -- public API ---------------------------------------------------------------------

    def with_desk(self, desk: Desk | None, clock: Callable[[], datetime] = utcnow) -> Engine:
        """Return a copy of this engine with the counsellor desk (and clock) set."""
        twin = copy.copy(self)
        twin.desk, twin.clock = desk, clock
        twin.relay = RelayDialog(twin)
        return twin

    def new_state(self, lang: str | None = None, campaign: str | None = None) -> dict[str, Any]:
        """Return the state of a conversation that has not started yet."""
        return {
            "v": STATE_VERSION,
            "lang": normalize_language(lang) or DEFAULT_LANGUAGE,
            "chosen": False,
            "flow": MENU_FLOW,
            "step": MENU_STEP,
            "answers": {},
            "trail": [],
            "country": None,
            "resume": None,
            "urgent": False,
            "campaign": campaign,
        }

    def advance(self, state: dict[str, Any] | None, event: Event) -> tuple[dict, list[Reply]]:
        """Apply one event; return the new state and the replies to show."""
        turn = self.turn(state, event)
        return turn.state, turn.replies

    def turn(self, state: dict[str, Any] | None, event: Event) -> Turn:
        """Apply one event; also return anonymous notes for statistics."""
        turn = Turn(state=self.new_state())
        if state is None and not isinstance(event, Start):
            state = self.new_state()
            turn.state = state
            self._start(turn, Start())
            return turn
        if state is not None:
            checked = self._checked(state)
            if checked is None:
                # A corrupt stored state: keep what we can, say so, and show the menu.
                fresh = self.new_state(lang=_get_lang(state))
                fresh["chosen"] = True
                turn.state = fresh
                turn.replies.append(
                    self._info(
                        fresh,
                        N_(
                            "Sorry, something went wrong with our conversation, so I started again "
                            "from the menu. Nothing you need is lost."
                        ),
                    )
                )
                self._go(turn, MENU)
                return turn
            turn.state = checked
        match event:
            case Start():
                self.relay.end(turn, by_person=True, say=False)
                self._start(turn, event)
            case Pick(choice=choice):
                self._pick(turn, choice)
            case Text(text=text):
                if not self.relay.text(turn, text):
                    self._text(turn, text)
            case Back():
                self._back(turn)
            case Restart():
                self.relay.end(turn, by_person=True, say=False)
                self._go(turn, MENU)
            case SetLanguage(lang=lang):
                self._set_language(turn, lang)
            case Help():
                self._help(turn, urgent=False)
            case Show():
                if not self.relay.status(turn):
                    self._render(turn, notes=False)
            case Media():
                self._media(turn)
            case RelayOpened() | RelayFailed() | Counsel() | RelayClosed() | NoPickup():
                self.relay.event(turn, event)
            case _:
                self._render(turn, notes=False)
        return turn

    def pending(self, state: dict[str, Any]) -> list[Reply]:
        """Return the prompt the person is expected to answer (for a reload)."""
        return self.turn(state, Show()).replies

    def _(self, state: dict[str, Any], message: str, **values: Any) -> str:
        text = self.translator.gettext(state["lang"], message)
        return text.format(**values) if values else text

    # -- state checks -------------------------------------------------------------------

    def _checked(self, state: Any) -> dict[str, Any] | None:
        """Return a usable copy of a stored state, or None if it is corrupt."""
        try:
            if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
                return None
            new = dict(state)
            flow = self.flows[new["flow"]]
            flow.step(new["step"])
            if new.get("lang") not in LANGUAGES:
                return None
            if not isinstance(new.get("answers"), dict) or not isinstance(new.get("trail"), list):
                return None
            new["answers"] = {str(k): str(v) for k, v in new["answers"].items()}
            new["trail"] = [
                [str(f), str(s)]
                for f, s in new["trail"]
                if f in self.flows and s in self.flows[f].steps
            ][-MAX_TRAIL:]
            resume = new.get("resume")
            if resume is not None and not (
                isinstance(resume, list)
                and len(resume) == 2
                and resume[0] in self.flows
                and resume[1] in self.flows[resume[0]].steps
            ):
                new["resume"] = None
            new.setdefault("country", None)
            new.setdefault("urgent", False)
            new.setdefault("campaign", None)
            new.setdefault("chosen", True)
            relay = new.get("relay")
            if relay is not None and not (
                isinstance(relay, dict)
                and set(relay) == {"since", "topic"}
                and isinstance(relay["since"], str)
                and (relay["topic"] is None or type(relay["topic"]) is int)
            ):
                new["relay"] = None
            return new
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    # -- events -------------------------------------------------------------------------

    def _start(self, turn: Turn, event: Start) -> None:
        state = turn.state
        explicit = normalize_language(event.lang)
        fresh = not state.get("started")
        if explicit:
            state["lang"], state["chosen"] = explicit, True
        elif fresh and event.hint:
            state["lang"] = negotiate(event.hint)
        if event.campaign:
            state["campaign"] = event.campaign
        if fresh:
            state["started"] = True
            turn.notes.append(Note("conversation_started"))
        if not state["chosen"]:
            turn.replies.append(self._language_question(state, greet=True))
            state["flow"], state["step"] = MENU_FLOW, MENU_STEP
            return
        turn.replies.append(self._info(state, self._greeting()))
        self._go(turn, MENU)

    @staticmethod
    def _greeting() -> str:
        return N_(
            "Hello! I am Safe Abroad. I help you check a job offer or an online "
            "relationship for signs of trafficking, and I can put you in touch with a "
            "hotline. I do not ask your name. You can erase this chat at any time."
        )

    def _language_question(self, state: dict[str, Any], greet: bool = False) -> Reply:
        order = [state["lang"], *[lang for lang in LANGUAGES if lang != state["lang"]]]
        text = self._(state, N_("Choose your language:"))
        if greet:
            text = "Safe Abroad 🌍\n" + text
        return Reply(
            "question",
            text,
            tuple(Choice(f"lang:{lang}", LANGUAGE_NAMES[lang]) for lang in order),
        )

    def _set_language(self, turn: Turn, lang: str) -> None:
        state = turn.state
        chosen = normalize_language(lang)
        if chosen is None:
            turn.replies.append(self._info(state, N_("Sorry, I do not speak that language yet.")))
            turn.replies.append(self._language_question(state))
            return
        first = not state["chosen"]
        state["lang"], state["chosen"] = chosen, True
        if first:
            turn.replies.append(self._info(state, self._greeting()))
            self._go(turn, MENU)
        else:
            self._render(turn, notes=False)

    def _pick(self, turn: Turn, raw: str) -> None:
        state = turn.state
        choice_id = str(raw).strip()[:128]
        if choice_id in RELAY_CHOICES:
            return self.relay.pick(turn, choice_id)
        if choice_id == "menu" or choice_id.startswith("go:"):
            self.relay.end(turn, by_person=True, say=False)
        if choice_id == "menu":
            return self._go(turn, MENU)
        if choice_id == "help":
            return self._help(turn, urgent=False)
        if choice_id == "back":
            return self._back(turn)
        if choice_id == "show":
            return self._render(turn, notes=False)
        if choice_id == "more":
            return self._more(turn)
        if choice_id == "finish":
            return self._finish(turn)
        if choice_id == "lang":
            turn.replies.append(self._language_question(state))
            return None
        if choice_id.startswith("lang:"):
            return self._set_language(turn, choice_id[5:])
        if choice_id == "country":
            state["country"] = None
            contacts = self.flows[HELP_FLOW].steps.get(CONTACTS_STEP)
            return self._enter(turn, HELP_FLOW, (contacts and contacts.next) or COUNTRY_STEP)
        if choice_id == "resume":
            return self._resume(turn)
        if choice_id.startswith("go:") and choice_id[3:] in self.flows:
            return self._go(turn, FLOW_PREFIX + choice_id[3:])
        flow_id, step_id, local = state["flow"], state["step"], choice_id
        if choice_id.count(".") == 2:
            flow_id, step_id, local = choice_id.split(".")
            if (flow_id, step_id) != (state["flow"], state["step"]):
                turn.replies.append(
                    self._info(state, N_("This menu is out of date. Here is where we are now:"))
                )
                return self._render(turn, notes=False)
        step = self._step(state)
        option = step.choice(local) if step.type == "question" else None
        if option is None:
            turn.replies.append(self._info(state, N_("Please choose one of the options below.")))
            return self._render(turn, notes=False)
        flow = self.flows[flow_id]
        if not (flow_id == MENU_FLOW and step_id == MENU_STEP):
            state.pop("skipped", None)
            state["answers"][step.id] = option.id
            state["trail"] = [*state["trail"], [flow_id, step.id]][-MAX_TRAIL:]
        if option.remember == "country":
            state["country"] = option.id
        elif option.remember == "lang" and normalize_language(option.id):
            state["lang"] = normalize_language(option.id)
        if option.flag:
            flag = flow.flags[option.flag]
            turn.replies.append(Reply("info", "⚠️ " + self._said(state, flag.text)))
        if option.urgent:
            state["resume"] = self._resume_point(flow, option.next)
            return self._help(turn, urgent=True, keep_resume=True)
        return self._go(turn, option.next or MENU)

    def _resume_point(self, flow: Flow, target: str | None) -> list[str] | None:
        if target and target in flow.steps:
            return [flow.id, target]
        return None

    def _text(self, turn: Turn, raw: str) -> None:
        state = turn.state
        text = clean_text(raw)
        if not text:
            turn.replies.append(
                self._info(
                    state, N_("I did not get any text. Type a message or choose an option below.")
                )
            )
            return self._render(turn, notes=False)
        before = state["lang"]
        self._read(turn, text)
        if state["lang"] != before and turn.replies:
            # Answered in the language the person wrote in; one tap switches back. Said in
            # the last message, so its buttons stay the ones the person is looking at.
            note = self._(
                state, N_("I answer in {language} now."), language=LANGUAGE_NAMES[state["lang"]]
            )
            last = turn.replies[-1]
            choices = last.choices
            if not any(c.id == "lang" for c in choices):
                choices += (self._language_choice(state),)
            turn.replies[-1] = replace(last, text=f"{last.text}\n\n🌐 {note}", choices=choices)

    def _read(self, turn: Turn, text: str) -> None:
        """Answer typed text: a typed choice, danger, a plea for help, an input, the FAQ."""
        state = turn.state
        self._follow_language(state, text)
        step = self._step(state)
        typed_answer = step.type == "question" and state["chosen"] and len(text) <= MAX_ANSWER
        if typed_answer and self.answers is not None:
            options = [(c.id, self._(state, c.label)) for c in step.choices]
            picked = self.answers.choice(text, options)
            if picked is not None:
                return self._pick(turn, f"{state['flow']}.{step.id}.{picked}")
        detection = self.detector.detect(text[:MAX_TEXT]) if self.detector else None
        pasted_ad = step.type == "input" and step.action == "scan"
        quiet = detection is not None and detection.danger and not detection.urgent
        if quiet and pasted_ad and len(text) <= MAX_TEXT:
            # A pasted job ad may itself describe the trap ("we keep your passport"): show the
            # scan, then offer help in case it is already happening, instead of interrupting.
            self._input(turn, step, text)
            turn.replies.append(
                Reply("info", self._(state, ALREADY_HAPPENING), (self._help_choice(state),))
            )
            return self._go(turn, step.next or MENU)
        asks = self.answers is not None and self.answers.asks_for_help(text)
        if (detection is not None and detection.danger) or asks:
            if detection is not None:
                for category in detection.categories:
                    turn.notes.append(Note("danger", category))
                # what they said is happening: the help screen adds what to do about it
                needs = [NEEDS[c] for c in detection.categories if c in NEEDS]
                if needs:
                    state["needs"] = sorted(set(needs))
            country = self.places.country_in(text) if self.places is not None else None
            if country:
                state["country"] = country
            turn.lead = self._(state, SERIOUS if detection and detection.danger else HELP_IS_HERE)
            if state["flow"] != HELP_FLOW:
                state["resume"] = [state["flow"], state["step"]]
            urgent = bool(detection is not None and detection.urgent)
            return self._help(turn, urgent=urgent, keep_resume=True)
        if len(text) > MAX_TEXT:
            message = N_("That message is too long for me. Please send up to {limit} characters.")
            limit = format_number(MAX_TEXT, state["lang"])
            turn.replies.append(Reply("info", self._(state, message, limit=limit)))
            return self._render(turn, notes=False)
        if step.type == "input":
            self._input(turn, step, text)
            return self._go(turn, step.next or MENU)
        answer = self.faq.match(text, state["lang"]) if self.faq else None
        if answer is not None:
            turn.notes.append(Note("faq", answer.id))
            choices = []
            if getattr(answer, "offer", None) in self.flows:
                title = self._(state, self.flows[answer.offer].title)
                choices.append(Choice(f"go:{answer.offer}", title))
            choices.append(Choice("show", self._(state, N_("Continue where I was"))))
            turn.replies.append(Reply("info", self._(state, answer.answer), tuple(choices)))
            return None
        if (state["flow"], state["step"]) == (MENU_FLOW, MENU_STEP):
            turn.replies.append(
                self._info(
                    state, N_("I could not match that to a question I know. Here is what I can do:")
                )
            )
        else:
            turn.replies.append(
                self._info(
                    state,
                    N_(
                        "I could not match that to a question I know. Please choose one of the "
                        "options below, or type your question in other words."
                    ),
                )
            )
        return self._render(turn, notes=False)

    def _follow_language(self, state: dict[str, Any], text: str) -> None:
        """Switch to the language the text is clearly written in, if it is one of ours."""
        lang = clear_language(text, state["lang"])
        if lang and lang != state["lang"]:
            state["lang"], state["chosen"] = lang, True

    def _media(self, turn: Turn) -> None:
        """Answer a voice message, photo or sticker: ask for text, and give a number now."""
        state = turn.state
        text = self._(
            state,
            N_(
                "I cannot listen to voice messages or look at pictures yet. Please type what "
                "happened in a few words. If you need help now, you can call:"
            ),
        )
        country = state.get("country")
        cards = []
        if self.directory is not None:
            emergency = self.directory.emergency(country)
            cards.append(self._contact(state, emergency, country))
            handoff = self.directory.for_person(country, state["lang"])
            lines = [e for e in handoff.contacts if e.id != emergency.id][:1]
            cards += [self._contact(state, e, country, handoff) for e in lines]
        turn.replies.append(Reply("handoff", text, contacts=tuple(cards)))
        self._render(turn, notes=False)

    def _input(self, turn: Turn, step: Step, text: str) -> None:
        state = turn.state
        if step.action == "scan" and self.scanner is not None:
            result = self.scanner.scan(text)
            findings = list(result.findings)
            turn.notes.append(Note("scan", "flags" if findings else "none"))
            if findings:
                head = self.translator.ngettext(
                    state["lang"],
                    "I found {count} warning sign in this text:",
                    "I found {count} warning signs in this text:",
                    len(findings),
                ).format(count=len(findings))
                lines = [
                    f"• {self._(state, f.why)}" + (f"\n  «{f.evidence}»" if f.evidence else "")
                    for f in findings
                ]
                turn.replies.append(Reply("result", "\n\n".join([head, *lines])))
            else:
                parts = [self._(state, NO_FLAGS_FOUND)]
                if result.checks:  # weak signs: advice, not a warning
                    parts.append(self._(state, CHECK_THESE))
                    parts += [f"• {self._(state, f.why)}" for f in result.checks]
                turn.replies.append(Reply("result", "\n\n".join(parts)))
        elif step.action == "faq" and self.faq is not None:
            answer = self.faq.match(text, state["lang"])
            if answer is not None:
                turn.replies.append(Reply("info", self._(state, answer.answer)))

    def _back(self, turn: Turn) -> None:
        state = turn.state
        while state["trail"]:
            flow_id, step_id = state["trail"].pop()
            if flow_id == state["flow"]:
                state["answers"].pop(step_id, None)
                state["step"] = step_id
                return self._render(turn, notes=False)
        return self._go(turn, MENU)

    def _resume(self, turn: Turn) -> None:
        state = turn.state
        point = state.get("resume")
        state["resume"], state["urgent"] = None, False
        state.pop("needs", None)  # what they said stays on the help screen only
        if not point:
            return self._go(turn, MENU)
        state["flow"], state["step"] = point
        return self._enter(turn, point[0], point[1], fresh=False)

    def _help(self, turn: Turn, urgent: bool, keep_resume: bool = False) -> None:
        state = turn.state
        if not keep_resume and state["flow"] != HELP_FLOW:
            state["resume"] = None
        state["urgent"] = bool(urgent or (state.get("urgent") and state["flow"] == HELP_FLOW))
        flow = self.flows[HELP_FLOW]
        self._enter(turn, HELP_FLOW, flow.start, fresh=False)

    # -- moving and rendering -----------------------------------------------------------

    def _go(self, turn: Turn, target: str) -> None:
        state = turn.state
        if target == MENU:
            state["resume"], state["urgent"] = None, False
            state.pop("needs", None)
            return self._enter(turn, MENU_FLOW, MENU_STEP)
        if target.startswith(FLOW_PREFIX):
            flow_id = target[len(FLOW_PREFIX) :]
            if flow_id == HELP_FLOW:
                return self._help(turn, urgent=False)
            return self._enter(turn, flow_id, self.flows[flow_id].start)
        return self._enter(turn, state["flow"], target, fresh=False)

    def _enter(self, turn: Turn, flow_id: str, step_id: str, fresh: bool = True) -> None:
        """Move to a step, running message and branch steps until one waits for the person."""
        state = turn.state
        if fresh or flow_id != state["flow"]:
            if flow_id != state["flow"] and flow_id not in (MENU_FLOW, HELP_FLOW):
                turn.notes.append(Note("flow_started", flow_id))
            if flow_id != HELP_FLOW:
                state["answers"], state["trail"] = {}, []
                state.pop("skipped", None)
                state.pop("needs", None)
        state["flow"], state["step"] = flow_id, step_id
        for _ in range(200):  # flows are validated loop-free; this guards a corrupt edit
            step = self._step(state)
            if step.type == "branch":
                state["step"] = self._branch(state, step)
                continue
            if step.type == "message":
                turn.replies.append(Reply("info", self._(state, step.text)))
                target = step.next or MENU
                if target == MENU or target.startswith(FLOW_PREFIX):
                    return self._go(turn, target)
                state["step"] = target
                continue
            return self._render(turn, notes=True)
        return self._go(turn, MENU)

    def _step(self, state: dict[str, Any]) -> Step:
        return self.flows[state["flow"]].step(state["step"])

    def _branch(self, state: dict[str, Any], step: Step) -> str:
        flags, score = self._score(state)
        for rule in step.rules:
            when = rule.when
            ok = True
            if "score_at_least" in when:
                ok &= score >= int(when["score_at_least"])
            if "flag" in when:
                ok &= when["flag"] in flags
            if "answer" in when:
                ok &= state["answers"].get(str(when["answer"]["step"])) == str(when["answer"]["is"])
            if "known" in when:
                ok &= bool(state.get(str(when["known"])))
            if ok:
                return rule.next
        return step.otherwise or step.id

    def _score(self, state: dict[str, Any]) -> tuple[list[str], int]:
        """Return the raised flags (heaviest first) and the score of the current flow."""
        flow = self.flows[state["flow"]]
        flags: list[str] = []
        score = 0
        for step_id, choice_id in state["answers"].items():
            step = flow.steps.get(step_id)
            option = step.choice(choice_id) if step else None
            if option is None:
                continue
            score += option.score
            if option.flag and option.flag not in flags:
                flags.append(option.flag)
                score += flow.flags[option.flag].weight
        flags.sort(key=lambda f: -flow.flags[f].weight)
        return flags, score

    def _nav(self, state: dict[str, Any]) -> tuple[Choice, ...]:
        if state["flow"] == MENU_FLOW:
            return ()
        nav = []
        answered = any(f == state["flow"] for f, _ in state["trail"])
        if answered:
            nav.append(Choice("back", "⬅ " + self._(state, N_("Back"))))
        flow = self.flows[state["flow"]]
        if answered and flow.finish and self._step(state).type == "question":
            nav.append(Choice("finish", "⏭ " + self._(state, N_("See my result"))))
        nav.append(Choice("menu", "☰ " + self._(state, N_("Main menu"))))
        return tuple(nav)

    def _render(self, turn: Turn, notes: bool) -> None:
        state = turn.state
        if not state["chosen"] and (state["flow"], state["step"]) == (MENU_FLOW, MENU_STEP):
            turn.replies.append(self._language_question(state))
            return
        flow = self.flows[state["flow"]]
        step = self._step(state)
        if step.type == "question":
            choices = tuple(
                Choice(f"{flow.id}.{step.id}.{c.id}", self._(state, c.label)) for c in step.choices
            )
            if (flow.id, step.id) == (MENU_FLOW, MENU_STEP):
                choices += (Choice("lang", "🌐 " + self._(state, N_("Language"))),)
            text = self._(state, step.text)
            if flow.progress:
                text = f"{self._progress(state, flow)}\n{text}"
            hint = self._hint(state, flow, step)
            if hint:
                text = f"{text}\n\n{hint}"
            turn.replies.append(Reply("question", text, choices + self._nav(state)))
        elif step.type == "input":
            turn.replies.append(Reply("question", self._(state, step.text), self._nav(state)))
        elif step.type == "result":
            turn.replies.append(self._result(turn, flow, step, notes))
        elif step.type == "contacts":
            self._contacts(turn, step, notes)
        else:  # message steps never wait; show the menu rather than nothing
            self._go(turn, MENU)

    # -- progress, skipping and results ------------------------------------------------

    def _progress(self, state: dict[str, Any], flow: Flow) -> str:
        """Say "Question 5 of 16": answered questions + 1, of answered + the longest way left."""
        done = sum(
            1
            for f, s in state["trail"]
            if f == flow.id and s in flow.steps and flow.steps[s].type == "question"
        )
        total = done + self._questions_left(state, flow, state["step"], {})
        lang = state["lang"]
        return "📋 " + self._(
            state,
            N_("Question {current} of {total}"),
            current=format_number(done + 1, lang),
            total=format_number(total, lang),
        )

    def _questions_left(
        self, state: dict[str, Any], flow: Flow, step_id: str | None, seen: dict[str, int]
    ) -> int:
        """Return the most questions left from `step_id` on (flows are loop-free)."""
        if step_id is None or step_id not in flow.steps:
            return 0
        if step_id in seen:
            return seen[step_id]
        seen[step_id] = 0  # a guard, should a corrupt edit make a loop
        step = flow.steps[step_id]
        if step.type == "question":
            nexts = [c.next for c in step.choices] or [step.next]
            count = 1 + max(self._questions_left(state, flow, n, seen) for n in nexts)
        elif step.type == "message":
            count = self._questions_left(state, flow, step.next, seen)
        elif step.type == "branch":
            asks = [str(r.when["answer"]["step"]) for r in step.rules if "answer" in r.when]
            if all(a in state["answers"] for a in asks):  # decided by answers already given
                nexts = [self._branch(state, step)]
            else:  # decided by a later answer: count the longer way
                nexts = step.targets()
            count = max(self._questions_left(state, flow, n, seen) for n in nexts)
        else:
            count = 0
        seen[step_id] = count
        return count

    def _finish(self, turn: Turn) -> None:
        """Skip the questions left and show the result of the answers given so far."""
        state = turn.state
        flow = self.flows[state["flow"]]
        if not flow.finish or self._step(state).type != "question":
            return self._render(turn, notes=False)
        state["skipped"] = True
        return self._enter(turn, flow.id, flow.finish, fresh=False)

    def _more(self, turn: Turn) -> None:
        """Show the whole result: every warning sign explained, all advice, local help."""
        state = turn.state
        flow = self.flows[state["flow"]]
        step = self._step(state)
        if step.type != "result":
            return self._render(turn, notes=False)
        flags, _ = self._score(state)
        parts = []
        if flags:
            parts.append(
                self.translator.ngettext(
                    state["lang"],
                    "{count} warning sign in your answers, most serious first:",
                    "{count} warning signs in your answers, most serious first:",
                    len(flags),
                ).format(count=len(flags))
            )
            parts += [f"• {self._said(state, flow.flags[f].text)}" for f in flags]
        if step.advice:
            parts.append(self._said(state, step.advice))
        choices = (self._help_choice(state), Choice("menu", "☰ " + self._(state, N_("Main menu"))))
        local = self._local_help(state, flow, flags)
        turn.replies.append(
            Reply("result", "\n\n".join(p for p in parts if p), () if local else choices)
        )
        if local is not None:  # the buttons go last, under the local help
            turn.replies.append(replace(local, choices=choices))

    def _result(self, turn: Turn, flow: Flow, step: Step, notes: bool) -> Reply:
        """The short result: the verdict, what to do next, the three heaviest warning signs.

        Everything else (every explanation, all advice, help where the person is going) is
        one tap away, under "Show all", so the result fits on one phone screen.
        """
        state = turn.state
        flags, score = self._score(state)
        urgent = any(
            (o := flow.steps[s].choice(c)) is not None and o.urgent
            for s, c in state["answers"].items()
            if s in flow.steps
        )
        parts = []
        level = None
        if step.levels:
            level = [lv for lv in step.levels if lv.min <= score][-1]
            if urgent and step.levels[-1].id == "urgent":
                level = step.levels[-1]
            parts.append(self._said(state, level.text))
        else:  # the text is the verdict; with levels, the level is (the text is a caveat)
            parts.append(self._said(state, step.text))
        if state.get("skipped"):
            parts.append(
                self._(
                    state,
                    N_("You skipped some questions, so this counts only the answers you gave."),
                )
            )
        if step.todo:
            parts.append(self._said(state, step.todo))
        if flags:
            top = flags[:TOP_FLAGS]
            lines = [
                f"• {self._said(state, flow.flags[f].short or flow.flags[f].text)}" for f in top
            ]
            if len(flags) > len(top):
                head = self._(
                    state,
                    N_("The {shown} most serious of {count} warning signs:"),
                    shown=format_number(len(top), state["lang"]),
                    count=format_number(len(flags), state["lang"]),
                )
            else:
                head = self.translator.ngettext(
                    state["lang"],
                    "{count} warning sign in your answers, most serious first:",
                    "{count} warning signs in your answers, most serious first:",
                    len(flags),
                ).format(count=len(flags))
            parts.append("\n".join([head, *lines]))
        elif step.none:
            parts.append(self._said(state, step.none))
        wage = self._wage_line(state, flow)
        if wage:
            parts.append(wage)
        there = self._help_there(state, flow)
        if there:
            parts.append(there)
        if step.levels:
            parts.append(self._said(state, step.text))
        if notes:
            turn.notes.append(Note("flow_completed", flow.id))
            if level is not None:
                turn.notes.append(Note("result_level", f"{flow.id}:{level.id}"))
        choices: tuple[Choice, ...] = ()
        if flow.progress:
            choices += (Choice("more", "📋 " + self._(state, N_("Show all"))),)
        choices += (
            self._help_choice(state),
            Choice("menu", "☰ " + self._(state, N_("Main menu"))),
        )
        if not flow.progress:  # flows without a short form show everything at once
            parts += [f"• {self._said(state, flow.flags[f].text)}" for f in flags[TOP_FLAGS:]]
            if step.advice:
                parts.append(self._said(state, step.advice))
        return Reply("result", "\n\n".join(p for p in parts if p), choices)

    # -- where the person is going -------------------------------------------------------

    def _destination(self, state: dict[str, Any], flow: Flow) -> str | None:
        """Return the country the flow asked about (the job's, the trip's, where one is)."""
        step_id = flow.destination
        if not step_id:
            return None
        answer = state["answers"].get(step_id)
        if answer is None and flow.steps[step_id].remember == "country":
            answer = state.get("country")  # known before, so the question was not asked
        return answer

    def _hint(self, state: dict[str, Any], flow: Flow, step: Step) -> str:
        """A fact for this question from the destination (the minimum wage at the pay question)."""
        if step.id != flow.wage_step:
            return ""
        return self._wage_line(state, flow, always=True)

    def _wage_line(self, state: dict[str, Any], flow: Flow, always: bool = False) -> str:
        """The destination's legal minimum wage, dated and sourced (job offers only)."""
        if self.destinations is None or not flow.wage_step:
            return ""
        country = self._destination(state, flow)
        if country is None:
            return ""
        if not always and not any(s == flow.wage_step for s in state["answers"]):
            return ""
        lines = self.destinations.lines(country, ("wage",), self.clock().date(), state["lang"])
        return "\n".join("💶 " + self._line(state, line) for line in lines)

    def _line(self, state: dict[str, Any], line: Any) -> str:
        """Translate one destination line and fill in its amount, date and source."""
        lang = state["lang"]
        values = {}
        if getattr(line, "amount", None) is not None:
            values["amount"] = format_money(line.amount, line.symbol, lang)
        if getattr(line, "since", None) is not None:
            values["date"] = format_day(line.since, lang)
        if getattr(line, "source", None):
            values["source"] = line.source
        return self._(state, line.text, **values)

    def _help_there(self, state: dict[str, Any], flow: Flow) -> str:
        """One line: the first hotline at the destination, for the person's language."""
        country = self._destination(state, flow)
        if country in (None, OTHER, state.get("country")):  # where one is: {hotline} says it
            return ""
        hotline = self._hotline(state, country)
        if not hotline or hotline.split(",")[0] == self._numbers(state)["hotline"].split(",")[0]:
            return ""  # the same line as the one the result already names
        return "📞 " + self._(state, N_("Help there: {hotline}"), hotline=hotline)

    def _hotline(self, state: dict[str, Any], country: str | None) -> str:
        """Name and number of the first line for `country` that speaks the person's language."""
        if self.directory is None:
            return ""
        lang = state["lang"]
        handoff = self.directory.for_person(country, lang)
        lines = [e for e in handoff.contacts if not getattr(e, "emergency", False)]
        # a line that speaks the language first, then a trafficking line before a general one
        lines.sort(key=lambda e: (not _speaks(e, lang), getattr(e, "general", False)))
        if not lines:
            return ""
        name, number = self._(state, lines[0].name), handoff.phone_for(lines[0], country)
        name = _GLOSS.sub("", name) or name  # the gloss in brackets is on the card; keep it short
        return name if name.startswith(number) else f"{name}, {number}"

    def _local_help(self, state: dict[str, Any], flow: Flow, flags: list[str]) -> Reply | None:
        """Help in the destination: agency checks, inspectorate, consulate and hotlines."""
        country = self._destination(state, flow)
        if country is None or self.destinations is None:
            return None
        topics = flow.local_help + tuple(t for f, t in flow.flag_help if f in flags)
        lines = self.destinations.lines(country, topics, self.clock().date(), state["lang"])
        text = "\n\n".join("• " + self._line(state, line) for line in lines)
        cards: tuple[Contact, ...] = ()
        if self.directory is not None and country != OTHER:
            handoff = self.directory.for_person(country, state["lang"])
            cards = tuple(self._contact(state, e, country, handoff) for e in handoff.contacts)
        if not text and not cards:
            return None
        head = self._(state, N_("In that country, this can help:"))
        return Reply("handoff", f"{head}\n\n{text}" if text else head, contacts=cards)

    # -- numbers named in texts --------------------------------------------------------

    def _said(self, state: dict[str, Any], message: str) -> str:
        """Translate a flow text, naming the numbers it tells the person to call."""
        text = self.translator.gettext(state["lang"], message)
        if "{" not in text:
            return text
        return text.format(**self._numbers(state))

    def _numbers(self, state: dict[str, Any]) -> dict[str, str]:
        """The emergency number and the best hotline's number for this person, as text."""
        country = state.get("country")
        emergency = "112"
        if self.directory is not None:
            entry = self.directory.emergency(country)
            emergency = entry.phones[0].number if entry.phones else emergency
        hotline = self._hotline(state, country) or "112"
        return {"emergency": emergency, "hotline": hotline}

    def _contacts(self, turn: Turn, step: Step, notes: bool) -> None:
        state = turn.state
        country, lang = state.get("country"), state["lang"]
        if notes:
            where = country or "unknown"
            turn.notes.append(Note("handoff", f"{where}:urgent" if state["urgent"] else where))
        if self.directory is None:
            turn.replies.append(Reply("handoff", self._(state, step.text)))
            return
        shown: set[str] = set()
        if state["urgent"]:
            emergency = self.directory.emergency(country)
            shown.add(emergency.id)
            number = emergency.phones[0].number if emergency.phones else "112"
            turn.replies.append(
                Reply(
                    "handoff",
                    "🚨 " + self._(state, step.urgent_text, emergency=number),
                    contacts=(self._contact(state, emergency, country),),
                )
            )
        handoff = self.directory.for_person(country, lang)
        text = self._(state, step.text)
        if turn.lead:
            text = f"{turn.lead}\n\n{text}"
        if handoff.language_gap and country not in (None, OTHER):
            # (where the country is not known, the lines' own notes say what is missing)
            text += "\n\n" + self._(state, LANGUAGE_GAP)
        entries = [e for e in handoff.contacts if e.id not in shown]
        if handoff.language_gap:  # lines that speak the person's language first
            entries.sort(key=lambda e: lang not in getattr(e, "languages", ()))
        cards = tuple(self._contact(state, e, country, handoff) for e in entries)
        choices = []
        if state.get("resume"):
            choices.append(Choice("resume", "↩ " + self._(state, N_("Continue where I was"))))
        choices += self.relay.choices(state)
        if country in (None, OTHER):  # the numbers above work from anywhere; refine them
            choices.append(Choice("country", "🌍 " + self._(state, N_("Choose your country"))))
        else:
            choices.append(Choice("country", "🌍 " + self._(state, N_("Change country"))))
        choices.append(Choice("menu", "☰ " + self._(state, N_("Main menu"))))
        turn.replies.append(Reply("handoff", text, contacts=cards))
        steps = self._next_steps(state, country)
        if steps:
            turn.replies.append(Reply("info", steps))
        turn.replies.append(Reply("info", "🔒 " + self._(state, step.note), tuple(choices)))

    def _next_steps(self, state: dict[str, Any], country: str | None) -> str:
        """Concrete next steps for what the person said: a kept passport, unpaid wages."""
        needs = [n for n in state.get("needs") or () if n in NEEDS.values()]
        if not needs or self.destinations is None:
            return ""
        topics = tuple(sorted(needs, key=list(NEEDS.values()).index))
        if "passport" in topics:
            topics += ("consulate",)
        lines = self.destinations.lines(country, topics, self.clock().date(), state["lang"])
        if not lines:
            return ""
        head = self._(state, N_("What you can do about it:"))
        return "\n\n".join([head, *("• " + self._line(state, line) for line in lines)])

    def _contact(
        self, state: dict[str, Any], entry: Any, country: str | None, handoff: Any = None
    ) -> Contact:
        phone = None
        if handoff is not None and hasattr(handoff, "phone_for"):
            phone = handoff.phone_for(entry, country)
        elif entry.phones:
            phone = entry.phones[0].number
        return Contact(
            name=self._(state, entry.name),
            country=entry.country,
            phone=phone,
            email=getattr(entry, "email", None) or None,
            url=getattr(entry, "url", None) or None,
            hours=self._(state, entry.hours) if getattr(entry, "hours", "") else None,
            languages=tuple(getattr(entry, "languages", ()) or ()),
            note=self._(state, entry.helps_with) if getattr(entry, "helps_with", "") else None,
        )

    def _language_choice(self, state: dict[str, Any]) -> Choice:
        return Choice("lang", "🌐 " + self._(state, N_("Language")))

    def _help_choice(self, state: dict[str, Any]) -> Choice:
        return Choice("help", "🆘 " + self._(state, N_("Get help now")))

    def _info(self, state: dict[str, Any], message: str) -> Reply:
        return Reply("info", self._(state, message))


def _speaks(entry: Any, lang: str) -> bool:
    """Say whether a line takes a call in `lang` (its languages, or interpreters)."""
    speaks = getattr(entry, "speaks", None)
    return speaks(lang) if callable(speaks) else lang in getattr(entry, "languages", ())


def _get_lang(state: Any) -> str | None:
    return normalize_language(state.get("lang")) if isinstance(state, dict) else None
