"""SWE-agent trajectories (`.traj`): a JSON object whose `trajectory` lists steps with `action`
(the command the agent issued), `observation`, `thought` and `response`.

A step's action is either a shell command or one of SWE-agent's own tools (`open`, `edit`,
`create`, `str_replace_editor ...`): tool is that tool's name when it is one, else `bash`; input is
the whole action string. run is the file name; episode the instance id from `info`/`environment`.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from ..events import Event, Location
from .base import ReadError
from .calls import action, guarded, load_document, text_of

SWE_TOOLS = frozenset({"open", "goto", "scroll_up", "scroll_down", "create", "edit", "search_dir", "search_file",
                       "find_file", "submit", "str_replace_editor", "insert", "filemap", "view", "undo_edit",
                       "exit_forfeit", "exit_context", "exit_cost", "exit_error", "exit_format", "skip"})


def sniff(head: bytes, first: object, path: Path) -> bool:
    return head.lstrip()[:1] == b"{" and b'"trajectory"' in head[:65536] and (
        b'"action"' in head or b'"observation"' in head or b'"history"' in head or path.suffix == ".traj")


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    doc, error = load_document(path, name)
    if error:
        yield error
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("trajectory"), list):
        yield ReadError(name, None, "a .traj file is an object with a `trajectory` list")
        return
    info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    episode = info.get("instance_id") or doc.get("instance_id") or _replay_instance(doc.get("replay_config")) \
        or path.name.split(".traj")[0]
    step = 0
    for index, entry in enumerate(doc["trajectory"]):
        if not isinstance(entry, dict):
            yield ReadError(name, None, f"trajectory[{index}] is not an object")
            continue
        command = entry.get("action")
        if not isinstance(command, str) or not command.strip():
            continue
        first = command.strip().split(None, 1)[0]
        tool = first if first in SWE_TOOLS else "bash"
        yield action(tool=tool, args=None, raw=command, step=step, run=path.stem, episode=episode, ts=None,
                     source=Location(name, message=index), output=text_of(entry.get("observation")))
        step += 1


def _replay_instance(config: object) -> str | None:
    """SWE-agent 1.x keeps the instance id in `replay_config` (a JSON string): problem_statement.id."""
    if isinstance(config, str):
        try:
            config = json.loads(config)
        except (ValueError, RecursionError):
            return None
    if isinstance(config, dict):
        statement = config.get("problem_statement")
        if isinstance(statement, dict) and isinstance(statement.get("id"), str):
            return statement["id"]
    return None


read = guarded(read)
