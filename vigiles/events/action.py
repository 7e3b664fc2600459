"""`action`: a tool call made by the agent."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import Event, EventError, opt_int

SHELL_TOOLS = frozenset({"bash", "shell", "sh", "zsh", "terminal", "run_command", "execute_command",
                         "exec", "execute", "run_shell_command", "cmd", "command", "run_in_session",
                         "container.exec", "computer.bash", "local_shell"})
PYTHON_TOOLS = frozenset({"python", "python3", "ipython", "jupyter", "code_interpreter", "run_python",
                          "execute_python"})


@dataclass(slots=True)
class Action(Event):
    tool: str = ""
    input: str | None = None
    args: dict[str, Any] | None = None
    output: str | None = None
    exit_code: int | None = None

    @property
    def language(self) -> str | None:
        """How the action's input should be read: 'shell', 'python', or None (not code)."""
        name = self.tool.lower()
        if name in SHELL_TOOLS or name.endswith(("bash", "shell")):
            return "shell"
        if name in PYTHON_TOOLS or name.endswith("python"):
            return "python"
        return None


def build(common: dict, raw: dict) -> Action:
    tool = raw.get("tool")
    if not isinstance(tool, str) or not tool:
        raise EventError("action needs a non-empty string 'tool'")
    text = raw.get("input")
    if text is not None and not isinstance(text, str):
        raise EventError("action 'input' must be a string (use 'args' for an object)")
    args = raw.get("args")
    if args is not None and not isinstance(args, dict):
        raise EventError("action 'args' must be an object")
    output = raw.get("output")
    if output is not None and not isinstance(output, str):
        output = str(output)
    return Action(**common, tool=tool, input=text, args=args, output=output,
                  exit_code=opt_int(raw, "exit_code"))


FIELDS = ("tool", "input", "args", "output", "exit_code")
