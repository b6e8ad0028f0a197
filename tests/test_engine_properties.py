"""Property tests: any sequence of events leaves a valid state and gets at least one reply."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import LANGUAGES
from bot.model import Back, Help, Pick, Restart, SetLanguage, Show, Start, Text

GLOBAL_CHOICES = [
    "menu",
    "help",
    "back",
    "resume",
    "lang",
    "country",
    "show",
    "more",
    "finish",
    "go:risk",
    "go:job_offer",
    "lang:uk",
]

texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        ["they took my passport", "help me", "how do I check an agency?", "", "\x00", "SOS"]
    ),
)
events = st.one_of(
    st.builds(Start, lang=st.sampled_from([None, *LANGUAGES, "xx"]), hint=st.none()),
    st.builds(Text, text=texts),
    st.just(Back()),
    st.just(Restart()),
    st.just(Help()),
    st.just(Show()),
    st.builds(SetLanguage, lang=st.sampled_from([*LANGUAGES, "de", ""])),
    st.builds(Pick, choice=st.sampled_from(GLOBAL_CHOICES)),
    st.integers(min_value=0, max_value=12).map(lambda i: Pick(f"#{i}")),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=st.lists(events, min_size=1, max_size=25))
def test_any_event_sequence_keeps_a_valid_state_and_answers(engine, sequence):
    state = None
    offered: list[str] = []
    for event in sequence:
        if isinstance(event, Pick) and event.choice.startswith("#"):
            # "#i" means: press the i-th button currently on screen (if there is one).
            index = int(event.choice[1:])
            event = Pick(offered[index % len(offered)]) if offered else Show()
        state, replies = engine.advance(state, event)
        assert replies, f"no reply to {event!r}"
        assert all(r.text for r in replies)
        assert engine._checked(state) is not None, state
        assert json.loads(json.dumps(state)) == state
        offered = [c.id for r in replies for c in r.choices]
        assert all(len(c.encode()) <= 64 for c in offered), offered
