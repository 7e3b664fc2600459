"""`action`: a tool call made by the agent."""
from __future__ import annotations

from typing import Any, ClassVar

from .base import Event, EventError

SHELL_TOOLS = frozenset({"bash", "shell", "sh", "zsh", "terminal", "run_command", "execute_command",
                         "exec", "execute", "run_shell_command", "cmd", "command", "run_in_session",
                         "container.exec", "computer.bash", "local_shell"})
PYTHON_TOOLS = frozenset({"python", "python3", "ipython", "jupyter", "code_interpreter", "run_python",
                          "execute_python"})


class Action(Event, tag="action", kw_only=True):
    tool: str
    input: str | None = None
    args: dict[str, Any] | None = None
    output: str | None = None
    exit_code: int | None = None

    kind: ClassVar[str] = "action"

    def check(self) -> None:
        if not self.tool:
            raise EventError("action needs a non-empty string 'tool'")

    @property
    def language(self) -> str | None:
        """How the action's input should be read: 'shell', 'python', or None (not code)."""
        name = self.tool.lower()
        if name in SHELL_TOOLS or name.endswith(("bash", "shell")):
            return "shell"
        if name in PYTHON_TOOLS or name.endswith("python"):
            return "python"
        return None
