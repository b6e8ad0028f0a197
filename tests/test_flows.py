"""Flow loader and validator: every kind of broken flow is caught with its file and line."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from bot import DIALOGS_DIR
from bot.flows import FlowError, load_flows

BASE = """\
kind: flow
schema: 1
id: extra
title: Extra
start: a
steps:
"""


def write_dialogs(tmp_path: Path, steps: str, head: str = BASE) -> Path:
    folder = tmp_path / "dialogs"
    folder.mkdir()
    for name in ("menu.yaml", "help.yaml"):
        shutil.copy(DIALOGS_DIR / name, folder / name)
    # The menu refers to every flow: give each a one-step stand-in.
    for flow in ("job_offer", "romance", "risk", "scan", "about"):
        (folder / f"{flow}.yaml").write_text(
            BASE.replace("id: extra", f"id: {flow}")
            + "  - {id: a, type: message, text: Hi, next: menu}\n",
            encoding="utf-8",
        )
    (folder / "extra.yaml").write_text(head + textwrap.dedent(steps), encoding="utf-8")
    return folder


def problems(tmp_path: Path, steps: str, head: str = BASE) -> list[str]:
    with pytest.raises(FlowError) as caught:
        load_flows(write_dialogs(tmp_path, steps, head))
    return caught.value.problems


def test_the_repository_flows_are_valid():
    flows = load_flows(DIALOGS_DIR)
    assert {"menu", "help", "job_offer", "romance", "risk", "scan", "about"} <= set(flows)


def test_a_valid_small_flow_loads(tmp_path):
    folder = write_dialogs(
        tmp_path,
        """\
          - id: a
            type: question
            text: Q?
            choices:
              - {id: "yes", label: "Yes", next: done}
              - {id: "no", label: "No", next: done}
          - id: done
            type: result
            text: Done.
        """,
    )
    assert load_flows(folder)["extra"].step("a").choices[1].id == "no"


def test_dangling_reference_names_file_and_line(tmp_path):
    found = problems(tmp_path, "  - {id: a, type: message, text: Hi, next: nowhere}\n")
    assert found == [
        "extra.yaml:7: step 'a' leads to unknown step 'nowhere'",
        "extra.yaml:7: step 'a' never reaches an end (a loop)",
    ]


def test_duplicate_step_id(tmp_path):
    found = problems(
        tmp_path,
        """\
          - {id: a, type: message, text: Hi, next: menu}
          - {id: a, type: message, text: Again, next: menu}
        """,
    )
    assert "extra.yaml:8: duplicate step id 'a'" in found


def test_unreachable_step(tmp_path):
    found = problems(
        tmp_path,
        """\
          - {id: a, type: message, text: Hi, next: menu}
          - {id: lost, type: message, text: Nobody comes here, next: menu}
        """,
    )
    assert "extra.yaml:8: step 'lost' is unreachable" in found


def test_dead_ends(tmp_path):
    found = problems(
        tmp_path,
        """\
          - {id: a, type: message, text: Hi, next: q}
          - {id: q, type: question, text: Question, choices: []}
        """,
    )
    assert "extra.yaml:8: step 'q' is a question without choices (dead end)" in found


def test_message_without_next_is_a_dead_end(tmp_path):
    found = problems(tmp_path, "  - {id: a, type: message, text: Hi}\n")
    assert "extra.yaml:7: step 'a' has no `next` (dead end)" in found


def test_a_loop_that_never_ends(tmp_path):
    found = problems(
        tmp_path,
        """\
          - {id: a, type: message, text: Hi, next: b}
          - {id: b, type: message, text: Ho, next: a}
        """,
    )
    assert any("never reaches an end" in p for p in found)


def test_unknown_flag_flow_type_and_schema(tmp_path):
    found = problems(
        tmp_path,
        """\
          - id: a
            type: question
            text: Q?
            choices:
              - {id: "yes", label: "Yes", flag: nope, next: "flow:nowhere"}
          - {id: b, type: dance, text: x}
        """,
        head=BASE.replace("schema: 1", "schema: 7"),
    )
    assert "extra.yaml:1: unsupported schema 7" in found
    assert any("unknown flag 'nope'" in p for p in found)
    assert any("unknown flow 'flow:nowhere'" in p for p in found)
    assert any("unknown type 'dance'" in p for p in found)


def test_duplicate_flow_id(tmp_path):
    folder = write_dialogs(tmp_path, "  - {id: a, type: message, text: Hi, next: menu}\n")
    shutil.copy(folder / "extra.yaml", folder / "extra2.yaml")
    with pytest.raises(FlowError) as caught:
        load_flows(folder)
    assert any("duplicate flow id 'extra'" in p for p in caught.value.problems)


def test_levels_must_increase_from_zero(tmp_path):
    found = problems(
        tmp_path,
        """\
          - id: a
            type: result
            text: R
            levels:
              - {id: high, min: 5, text: High}
              - {id: low, min: 1, text: Low}
        """,
    )
    assert any("increasing" in p for p in found)
    assert any("min 0" in p for p in found)
