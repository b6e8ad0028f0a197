"""Babel extractor for `dialogs/*.yaml`: every translatable text becomes a gettext message.

Registered in `babel.cfg` and as the `safe_abroad_yaml` entry point, so `pybabel extract`
pulls the English source strings out of the content files, each with a translator comment
naming the key it came from (e.g. `job_offer: steps.contract.text`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

#: Keys whose string values are shown to users and so must be translated.
TRANSLATABLE_KEYS = frozenset(
    {
        "title",
        "text",
        "label",
        "none",
        "advice",
        "note",
        "question",
        "answer",
        "why",
        "hours",
        "helps_with",
        "urgent_text",
        "short",
        "todo",
    }
)


class BrokenYaml(ValueError):
    """A content file is not valid YAML; the message names the file and the line."""


def _compose(source: str) -> yaml.Node | None:
    return yaml.compose(source, Loader=yaml.SafeLoader)


#: Extra translatable keys for one kind of file: a hotline's name often carries a gloss.
KIND_KEYS = {"contacts": frozenset({"name"})}


def iter_texts(
    node: yaml.Node | None, path: str = "", keys: frozenset[str] = TRANSLATABLE_KEYS
) -> Iterator[tuple[int, str, str]]:
    """Yield (line, key path, text) for each translatable string under a YAML node."""
    if isinstance(node, yaml.MappingNode):
        ident = None
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "id":
                ident = value.value
        for key, value in node.value:
            name = key.value if isinstance(key, yaml.ScalarNode) else "?"
            here = f"{path}.{name}" if path else name
            if (
                name in keys
                and isinstance(value, yaml.ScalarNode)
                and value.tag == "tag:yaml.org,2002:str"
                and value.value.strip()
            ):
                label = f"{path}[{ident}].{name}" if ident and path else here
                yield value.start_mark.line + 1, label, value.value
            else:
                yield from iter_texts(value, here, keys)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from iter_texts(item, path, keys)


#: Data files whose texts are what people type, not what the bot says.
UNTRANSLATED_KINDS = frozenset({"corpus", "devset", "answers", "countries", "signals"})


def extract_yaml(
    fileobj: Any, keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str | None, str, list[str]]]:
    """Babel extractor entry point: (lineno, funcname, message, comments)."""
    source = fileobj.read()
    if isinstance(source, bytes):
        source = source.decode("utf-8")
    try:
        root = _compose(source)
    except yaml.YAMLError as exc:  # `validate` reports it with the file's name and line
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        name = Path(getattr(fileobj, "name", "?")).name
        raise BrokenYaml(f"{name}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    kind = ident = ""
    if isinstance(root, yaml.MappingNode):
        for key, value in root.value:
            if isinstance(value, yaml.ScalarNode) and key.value in ("id", "kind"):
                kind, ident = (value.value, ident) if key.value == "kind" else (kind, value.value)
    if kind in UNTRANSLATED_KINDS:
        return
    keys = TRANSLATABLE_KEYS | KIND_KEYS.get(kind, frozenset())
    label_prefix = ident or kind
    for line, label, text in iter_texts(root, keys=keys):
        yield line, None, text, [f"{label_prefix}: {label}" if label_prefix else label]
