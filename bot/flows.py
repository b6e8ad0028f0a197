"""Flows as data: load `dialogs/*.yaml` and validate them before any user meets them.

A flow is a set of steps with stable ids (see `dialogs/README.md`). Loading checks the
schema version, duplicate ids, dangling `next` references, unreachable steps and dead ends,
and reports each problem with the file and line it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import DIALOGS_DIR

SCHEMA_VERSION = 1
STEP_TYPES = ("message", "question", "input", "branch", "result", "contacts")
ACTIONS = ("scan", "faq", "none")
MENU = "menu"
FLOW_PREFIX = "flow:"
RESERVED_CHOICES = ("menu", "help", "back", "resume", "lang", "more", "finish")


class FlowError(ValueError):
    """One or more problems in the dialog files, each as `file:line: message`."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class _LineDict(dict):
    """A mapping that remembers the line it was written on."""

    line = 0


#: libyaml's loader when present (several times faster at start-up), else PyYAML's own.
FastSafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def fast_load(text: str) -> Any:
    """Parse trusted-format YAML safely, with libyaml when it is installed."""
    return yaml.load(text, Loader=FastSafeLoader)  # noqa: S506 - a safe loader


class _LineLoader(FastSafeLoader):  # type: ignore[valid-type,misc]
    """A safe YAML loader whose mappings know their line."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict(loader.construct_pairs(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_yaml(path: Path) -> Any:
    """Parse a YAML file, keeping line numbers on every mapping."""
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass


def line_of(node: Any) -> int:
    """Return the line a mapping was written on (0 when unknown)."""
    return getattr(node, "line", 0)


@dataclass(frozen=True)
class ChoiceDef:
    """A choice of a question step."""

    id: str
    label: str
    next: str | None
    flag: str | None = None
    score: int = 0
    urgent: bool = False
    remember: str | None = None
    line: int = 0


@dataclass(frozen=True)
class FlagDef:
    """A red flag a flow can raise: its weight and the explanation shown to the person."""

    id: str
    weight: int
    text: str
    line: int = 0
    #: One line for the short result ("Passport kept: ..."); the full `text` is one tap away.
    short: str = ""


@dataclass(frozen=True)
class Level:
    """A result level: reached when the score is at least `min`."""

    id: str
    min: int
    text: str


@dataclass(frozen=True)
class Rule:
    """A branch rule: a condition and where it leads."""

    when: dict[str, Any]
    next: str


@dataclass(frozen=True)
class Step:
    """One step of a flow."""

    id: str
    type: str
    text: str = ""
    next: str | None = None
    choices: tuple[ChoiceDef, ...] = ()
    action: str = "none"
    rules: tuple[Rule, ...] = ()
    otherwise: str | None = None
    none: str = ""
    advice: str = ""
    note: str = ""
    urgent_text: str = ""
    levels: tuple[Level, ...] = ()
    remember: str | None = None
    #: A result's "what to do next" in a sentence or two, shown before "Show all".
    todo: str = ""
    line: int = 0

    def choice(self, choice_id: str) -> ChoiceDef | None:
        """Return this step's choice with that id, if any."""
        return next((c for c in self.choices if c.id == choice_id), None)

    def targets(self) -> list[str]:
        """Return every `next` this step can lead to."""
        found = [self.next] if self.next else []
        found += [c.next for c in self.choices if c.next]
        found += [r.next for r in self.rules]
        if self.otherwise:
            found.append(self.otherwise)
        return found


@dataclass(frozen=True)
class Flow:
    """A dialog: steps by id, the first step, and the red flags it can raise."""

    id: str
    title: str
    start: str
    steps: dict[str, Step]
    flags: dict[str, FlagDef] = field(default_factory=dict)
    path: Path | None = None
    interrupt: bool = True
    #: Questions show "5 of 16" and offer a skip to the result.
    progress: bool = False
    #: The step that "See my result" leads to (a branch or a result step).
    finish: str | None = None
    #: The question whose answer is the destination country (job, trip, where one is).
    destination: str | None = None
    #: The pay question: it and the result show the destination's minimum wage.
    wage_step: str | None = None
    #: Topics of dialogs/destinations.yaml shown under "Show all" for the destination.
    local_help: tuple[str, ...] = ()
    #: (flag, topic): a topic shown only when that flag is raised (a kept passport).
    flag_help: tuple[tuple[str, str], ...] = ()

    def step(self, step_id: str) -> Step:
        """Return a step by id (KeyError when the id is unknown)."""
        return self.steps[step_id]


def _as_step(raw: Any, where: str, problems: list[str]) -> Step | None:
    if not isinstance(raw, dict):
        problems.append(f"{where}: a step must be a mapping")
        return None
    line = line_of(raw)
    here = f"{where.rsplit(':', 1)[0]}:{line}"
    step_id, kind = raw.get("id"), raw.get("type")
    if not isinstance(step_id, str) or not step_id:
        problems.append(f"{here}: step without an `id`")
        return None
    if kind not in STEP_TYPES:
        problems.append(f"{here}: step {step_id!r} has unknown type {kind!r}")
        return None
    choices = []
    for item in raw.get("choices") or []:
        if not isinstance(item, dict) or not item.get("id") or not item.get("label"):
            problems.append(f"{here}: step {step_id!r} has a choice without `id` or `label`")
            continue
        choices.append(
            ChoiceDef(
                id=str(item["id"]),
                label=str(item["label"]),
                next=item.get("next", raw.get("next")),
                flag=item.get("flag"),
                score=int(item.get("score", 0)),
                urgent=bool(item.get("urgent", False)),
                remember=item.get("remember", raw.get("remember")),
                line=line_of(item) or line,
            )
        )
    rules = []
    for item in raw.get("rules") or []:
        if not isinstance(item, dict) or "when" not in item or "next" not in item:
            problems.append(f"{here}: branch {step_id!r} has a rule without `when` or `next`")
            continue
        rules.append(Rule(when=dict(item["when"] or {}), next=str(item["next"])))
    levels = tuple(
        Level(id=str(lv["id"]), min=int(lv.get("min", 0)), text=str(lv.get("text", "")))
        for lv in raw.get("levels") or []
    )
    action = raw.get("action", "none")
    if action not in ACTIONS:
        problems.append(f"{here}: step {step_id!r} has unknown action {action!r}")
    return Step(
        id=step_id,
        type=kind,
        text=str(raw.get("text") or ""),
        next=raw.get("next"),
        choices=tuple(choices),
        action=action,
        rules=tuple(rules),
        otherwise=raw.get("otherwise"),
        none=str(raw.get("none") or ""),
        advice=str(raw.get("advice") or ""),
        note=str(raw.get("note") or ""),
        urgent_text=str(raw.get("urgent_text") or ""),
        todo=str(raw.get("todo") or ""),
        levels=levels,
        remember=raw.get("remember"),
        line=line,
    )


def parse_flow(path: Path, data: Any, problems: list[str]) -> Flow | None:
    """Build a Flow from a parsed YAML document, appending problems found on the way."""
    name = path.name
    if not isinstance(data, dict):
        problems.append(f"{name}:1: a flow file must be a mapping")
        return None
    if data.get("schema") != SCHEMA_VERSION:
        problems.append(f"{name}:{line_of(data)}: unsupported schema {data.get('schema')!r}")
    flow_id = data.get("id")
    if not isinstance(flow_id, str) or not flow_id:
        problems.append(f"{name}:{line_of(data)}: flow without an `id`")
        return None
    flags: dict[str, FlagDef] = {}
    for flag_id, raw in (data.get("flags") or {}).items():
        if not isinstance(raw, dict) or not raw.get("text"):
            problems.append(f"{name}:{line_of(data)}: flag {flag_id!r} needs a `text`")
            continue
        weight = raw.get("weight", 1)
        if not isinstance(weight, int) or not 1 <= weight <= 5:
            problems.append(f"{name}:{line_of(raw)}: flag {flag_id!r} weight must be 1..5")
            weight = 1
        flags[str(flag_id)] = FlagDef(
            str(flag_id), weight, str(raw["text"]), line_of(raw), str(raw.get("short") or "")
        )
    steps: dict[str, Step] = {}
    for raw in data.get("steps") or []:
        step = _as_step(raw, f"{name}:{line_of(data)}", problems)
        if step is None:
            continue
        if step.id in steps:
            problems.append(f"{name}:{step.line}: duplicate step id {step.id!r}")
            continue
        steps[step.id] = step
    start = data.get("start")
    if start not in steps:
        problems.append(f"{name}:{line_of(data)}: start step {start!r} does not exist")
    return Flow(
        id=flow_id,
        title=str(data.get("title") or ""),
        start=str(start),
        steps=steps,
        flags=flags,
        path=path,
        interrupt=data.get("danger", "interrupt") != "ignore",
        progress=bool(data.get("progress", False)),
        finish=str(data["finish"]) if data.get("finish") else None,
        destination=str(data["destination"]) if data.get("destination") else None,
        wage_step=str(data["wage_step"]) if data.get("wage_step") else None,
        local_help=tuple(str(t) for t in data.get("local_help") or ()),
        flag_help=tuple((str(f), str(t)) for f, t in (data.get("flag_help") or {}).items()),
    )


def _check_flow(flow: Flow, flow_ids: set[str], problems: list[str]) -> None:
    name = flow.path.name if flow.path else flow.id
    for step in flow.steps.values():
        where = f"{name}:{step.line}: step {step.id!r}"
        for target in step.targets():
            if target == MENU:
                continue
            if target.startswith(FLOW_PREFIX):
                if target[len(FLOW_PREFIX) :] not in flow_ids:
                    problems.append(f"{where} leads to unknown flow {target!r}")
            elif target not in flow.steps:
                problems.append(f"{where} leads to unknown step {target!r}")
        ids = [c.id for c in step.choices]
        for dup in {i for i in ids if ids.count(i) > 1}:
            problems.append(f"{where} has duplicate choice id {dup!r}")
        for choice in step.choices:
            if choice.id in RESERVED_CHOICES or "." in choice.id or ":" in choice.id:
                problems.append(f"{where}: choice id {choice.id!r} is reserved or has . or :")
            if choice.flag and choice.flag not in flow.flags:
                problems.append(
                    f"{where}: choice {choice.id!r} raises unknown flag {choice.flag!r}"
                )
            if choice.next is None:
                problems.append(f"{where}: choice {choice.id!r} leads nowhere (dead end)")
        if step.type == "question" and not step.choices:
            problems.append(f"{where} is a question without choices (dead end)")
        if step.type in ("message", "input") and not step.next:
            problems.append(f"{where} has no `next` (dead end)")
        if step.type == "branch" and not step.otherwise:
            problems.append(f"{where} is a branch without `otherwise` (dead end)")
        if step.type in ("message", "question", "input", "result", "contacts") and not step.text:
            problems.append(f"{where} has no text")
        for rule in step.rules:
            unknown = set(rule.when) - {"score_at_least", "flag", "answer", "known"}
            if unknown:
                problems.append(f"{where}: unknown condition {sorted(unknown)}")
            flag = rule.when.get("flag")
            if flag and flag not in flow.flags:
                problems.append(f"{where}: condition on unknown flag {flag!r}")
            answer = rule.when.get("answer")
            if answer is not None:
                asked = flow.steps.get(str((answer or {}).get("step")))
                if asked is None or asked.choice(str(answer.get("is"))) is None:
                    problems.append(f"{where}: condition on unknown answer {answer!r}")
        mins = [lv.min for lv in step.levels]
        if mins != sorted(mins) or len(set(mins)) != len(mins):
            problems.append(f"{where}: levels must have increasing `min`")
        if step.levels and mins[0] != 0:
            problems.append(f"{where}: the first level must start at min 0")
    for key in ("finish", "destination", "wage_step"):
        target = getattr(flow, key)
        if target is not None and target not in flow.steps:
            problems.append(f"{name}: `{key}` names unknown step {target!r}")
    for flag, _topic in flow.flag_help:
        if flag not in flow.flags:
            problems.append(f"{name}: `flag_help` names unknown flag {flag!r}")
    if flow.progress:
        for flag in flow.flags.values():
            if not flag.short:
                problems.append(f"{name}:{flag.line}: flag {flag.id!r} needs a one-line `short`")
    reachable: set[str] = set()
    todo = [s for s in (flow.start, flow.finish) if s in flow.steps]
    while todo:
        current = todo.pop()
        if current in reachable:
            continue
        reachable.add(current)
        todo += [t for t in flow.steps[current].targets() if t in flow.steps]
    for step in flow.steps.values():
        if step.id not in reachable:
            problems.append(f"{name}:{step.line}: step {step.id!r} is unreachable")
    # Every step must be able to reach an end (a result, contacts, the menu or another flow).
    ends = {
        s.id
        for s in flow.steps.values()
        if s.type in ("result", "contacts")
        or any(t == MENU or t.startswith(FLOW_PREFIX) for t in s.targets())
    }
    changed = True
    while changed:
        changed = False
        for step in flow.steps.values():
            if step.id not in ends and any(t in ends for t in step.targets()):
                ends.add(step.id)
                changed = True
    for step in flow.steps.values():
        if step.id not in ends and step.id in reachable:
            problems.append(f"{name}:{step.line}: step {step.id!r} never reaches an end (a loop)")


def flow_files(directory: Path) -> Iterable[tuple[Path, Any]]:
    """Yield (path, data) for each `kind: flow` file in a dialogs folder."""
    for path in sorted(directory.glob("*.yaml")):
        data = load_yaml(path)
        if isinstance(data, dict) and data.get("kind") == "flow":
            yield path, data


def load_flows(directory: Path = DIALOGS_DIR) -> dict[str, Flow]:
    """Load and validate every flow; raise FlowError listing all problems."""
    problems: list[str] = []
    flows: dict[str, Flow] = {}
    try:
        files = list(flow_files(directory))
    except yaml.YAMLError as exc:
        raise FlowError([f"YAML error: {exc}"]) from exc
    for path, data in files:
        flow = parse_flow(path, data, problems)
        if flow is None:
            continue
        if flow.id in flows:
            problems.append(f"{path.name}:{line_of(data)}: duplicate flow id {flow.id!r}")
            continue
        flows[flow.id] = flow
    for required in ("menu", "help"):
        if required not in flows:
            problems.append(f"{directory.name}: the {required!r} flow is missing")
    for flow in flows.values():
        _check_flow(flow, set(flows), problems)
    if problems:
        raise FlowError(problems)
    return flows
