import pytest

from vigiles.analysis.command import Cmd
from vigiles.analysis.condition import Hits, RuleSyntaxError, compile_node, needles, parse, tokenize
from vigiles.analysis.fields import Subject
from vigiles.events import from_dict

EVENT = from_dict({"kind": "action", "ts": 0, "tool": "bash", "input": "x"})


def check(text, cmd, lists=None):
    node = parse(text, lists or {}, set())
    hits = Hits()
    return compile_node(node, {})(Subject(EVENT, cmd, "x"), hits), hits.items


def ssh():
    return Cmd(name="ssh", path="/usr/bin/ssh", args=["-fNR", "1:l:22", "u@h.example"], flags={"-fNR", "-f", "-N", "-R"})


@pytest.mark.parametrize("text, expected", [
    ("cmd.name = ssh", True),
    ("cmd.name=ssh", True),
    ("cmd.name != ssh", False),
    ("cmd.name in (nc, ssh)", True),
    ("cmd.flags = -R and cmd.args contains h.example", True),
    ("cmd.flags = -L or cmd.args startswith u@", True),
    ("not cmd.flags = -R", False),
    ("cmd.path endswith /ssh", True),
    ("cmd.path glob '/usr/*/s?h'", True),
    ("cmd.args regex '^[0-9]+:l:[0-9]+$'", True),
    ("cmd.args icontains U@H", True),
    ("cmd.path pmatch (/usr/bin)", True),
    ("cmd.path pmatch (/usr/b)", False),
    ("cmd.argc >= 3 and cmd.argc < 4", True),
    ("code.calls exists", False),
    ("cmd.name ieq SSH", True),
    ("(cmd.name = nc or cmd.name = ssh) and not (cmd.flags = -L)", True),
])
def test_operators(text, expected):
    assert check(text, ssh())[0] is expected


@pytest.mark.parametrize("domains, expected", [
    ("example", True),       # h.example is a subdomain of example
    ("H.EXAMPLE.", True),    # case and a final dot aside
    (".example", False),     # a domain, not a suffix
    ("xample", False),       # h.example ends with it, but is not in it
])
def test_dmatch_compares_host_names_as_dns_does(domains, expected):
    cmd = ssh()
    cmd.endpoints_in_args(True)
    assert check(f"cmd.hosts dmatch ({domains})", cmd)[0] is expected


def test_lists_expand_and_hits_name_what_matched():
    ok, hits = check("cmd.name in (clients) and cmd.flags = -R", ssh(), {"clients": ["autossh", "ssh"]})
    assert ok and hits == [("cmd.name", "ssh"), ("cmd.flags", "-R")]


def test_failed_branches_leave_no_hits():
    ok, hits = check("(cmd.name = ssh and cmd.flags = -L) or cmd.args contains 1:l", ssh())
    assert ok and hits == [("cmd.args", "1:l:22")]


@pytest.mark.parametrize("text", ["cmd.name", "cmd.name = ", "cmd.nope = 1", "cmd.name ~ x", "(cmd.name = x",
                                  "cmd.name = 'open", "cmd.args regex '('", "cmd.argc > many"])
def test_syntax_errors(text):
    with pytest.raises(RuleSyntaxError):
        compile_node(parse(text, {}, set()), {})


def test_values_are_separated_by_commas():
    """`(perl code, awk)` once read as three values, so `cmd.via = "perl code"` never matched it."""
    with pytest.raises(RuleSyntaxError, match="quote a value that holds spaces"):
        parse("cmd.via in (find, perl code, awk)", {}, set())
    assert parse('cmd.via in (find, "perl code", awk)', {}, set()).values == ["find", "perl code", "awk"]


def test_nesting_is_bounded_with_a_clear_error():
    nested = "(" * 64 + "cmd.name = x" + ")" * 64
    assert check(nested, ssh()) == (False, [])
    for deep in ("(" * 65 + "cmd.name = x" + ")" * 65, "not " * 100_000 + "cmd.name = x"):
        with pytest.raises(RuleSyntaxError, match="nested more than 64 deep"):
            parse(deep, {}, set())


def test_needles_for_the_prefilter():
    assert needles(parse("cmd.name in (ssh, autossh) and cmd.flags = -R", {}, set()), {}) == {"ssh", "autossh"}
    assert needles(parse("cmd.flags = -R", {}, set()), {}) is None
    assert needles(parse("cmd.name = ssh or cmd.flags = -R", {}, set()), {}) is None
    assert needles(parse("cmd.name = nc or cmd.args contains /dev/tcp", {}, set()), {}) == {"nc", "/dev/tcp"}
    assert needles(parse("code.calls = os.dup2", {}, set()), {}) == {"dup2"}
    assert needles(parse("cmd.name = assign and cmd.args startswith HISTFILE", {}, set()), {}) == {"histfile"}


def test_literals_of_written_files_ports_and_joined_fields():
    from vigiles.analysis import condition as cond
    # a command of a file written with known content: the text that wrote it names the file
    node = parse(r'cmd.via regex "^writes \\S*(\\.bashrc|/etc/profile)$"', {}, set())
    assert needles(node, {}, via=True) == {".bashrc", "/etc/profile"} and needles(node, {}) is None
    # a port is written in decimal: a literal to require, not a needle (an expansion may compute it)
    node = parse("cmd.name = curl and cmd.ports in (10250, 10255)", {}, set())
    assert cond.alternatives(node, {}) == [[{"\x02curl"}, {"10250", "10255"}]] and needles(node, {}) == {"curl"}
    # a space in a value joined from words may be a tab in the text; in one word it is the text's own
    assert needles(parse('cmd.line icontains "nc -e"', {}, set()), {}) == {"nc"}
    assert needles(parse('cmd.args icontains "dump memory"', {}, set()), {}) == {"dump memory"}


def test_tokenizer_keeps_operators_inside_values():
    assert tokenize("cmd.args in (Tunnel=, a=b)") == ["cmd.args", "in", "(", "Tunnel=", ",", "a=b", ")"]


def test_alternatives_keep_every_literal_a_branch_needs():
    from vigiles.analysis import condition as cond
    node = cond.parse('cmd.name = sudo and cmd.args contains "-l" or cmd.name = doas and cmd.args = -L', {}, set())
    # a program name or a whole argument must stand as a word (WORD_MARK); `contains` is a substring
    assert cond.alternatives(node, {}) == [[{"\x02sudo"}, {"-l"}], [{"\x02doas"}, {"\x02-l"}]]
    assert cond.needles(node, {}) == {"sudo", "doas"}
    node = cond.parse('cmd.name = curl and not cmd.args contains "ok.example"', {}, set())
    assert cond.alternatives(node, {}) == [[{"\x02curl"}]]  # a negation asks for nothing
    node = cond.parse('cmd.hosts in (localhost, "::1")', {}, set())
    assert cond.alternatives(node, {}) == [[{"\x02localhost", "::1"}]]  # only word characters are marked
    assert cond.alternatives(cond.parse("cmd.argc > 3", {}, set()), {}) is None


def test_regex_clauses_are_every_literal_run_a_match_contains():
    from vigiles.analysis import condition as cond
    # a group's last literal joins the one after it (`/tmp` + `/`), and the run before a group its
    # first: past `(\S*/)?` the text ends with `/` either way, so `/sshd` or `/cron` (`crond` adds
    # nothing to `cron`), not the `sshd` of `systemctl restart sshd` or the `init` of `git init`
    assert cond.regex_clauses(r"^(/tmp|/dev/shm)/(\S*/)?(sshd|crond?)$") == [{"/tmp/", "/dev/shm/"}, {"/sshd", "/cron"}]
    assert cond.regex_clauses(r"ld_preload=(/tmp|/dev/shm)/") == [{"ld_preload=/tmp/", "ld_preload=/dev/shm/"}]
    assert cond.regex_clauses(r"\.(json|ya?ml)$", minimum=2) == [{".json", ".yml", ".yaml"}]
    # where a branch may take nothing before it (`^`), the forms without the join stay, and a
    # member holding another adds nothing: `audit` alone, not also `-audit`
    assert cond.regex_literals(r"(^|[-.])(auditd?|falco)") == {"audit", "falco"}
    # an optional part ending otherwise breaks the run: nothing is joined across it
    assert cond.regex_clauses(r"/(x\S*)?init") == [{"init"}]
    # a repeated character keeps the run going: every match holds `.../` or ` /`
    assert cond.regex_clauses(r"(^|/)(\.\.\.+|\.? +)/") == [{".../", " /"}]
    assert cond.regex_clauses(r"ab+cd") == [{"ab"}, {"bcd"}]
    # one character is kept only when asked for (Rule.requires may use it, the needles may not)
    assert cond.regex_clauses(r"^[^=\s]+@[^=]") is None and cond.regex_clauses(r"^[^=\s]+@[^=]", minimum=1) == [{"@"}]
    # a run followed by a small alternation of literals takes each of its forms
    assert cond.regex_literals(r"-(W|R)\s?([0-9a-f]{2}\s?){2,20}", minimum=2) == {"-w", "-r"}
    assert cond.regex_literals(r"/dev/[sh]m/x") == {"/dev/sm/x", "/dev/hm/x"}
    assert cond.regex_clauses(r"(a|bc)+x?") is None  # a branch too short to look for


def test_regex_alternatives_tell_the_forms_of_a_match_apart():
    """A top-level alternation is its branches; `c+` between literals is one c (the literals then
    make one run) or more; a form with more than one of a white space is marked for texts with no
    pipe (condition.UNPIPED)."""
    from vigiles.analysis import condition as cond
    assert cond.regex_alternatives(r"ab+cd") == [[{"abcd"}], [{"abb"}, {"bbcd"}]]
    assert cond.regex_alternatives(r"(^|/)\.\.\.+/|/\.? +/", minimum=1) == [
        [{".../"}], [{"..../"}], [{"/ /", "/. /"}], [{"/  ", "/.  "}, {"  /"}, {cond.UNPIPED}]]
    # nothing to tell apart: the clauses of regex_clauses
    assert cond.regex_alternatives(r"^(/tmp|/dev/shm)/(\S*/)?(sshd|crond?)$") == [[{"/tmp/", "/dev/shm/"}, {"/sshd", "/cron"}]]
    # a repeat at either end joins no run
    assert cond.regex_alternatives(r"x +") == [[{"x "}]]
    # a form with nothing to look for makes the whole pattern unknown
    assert cond.regex_alternatives(r"abc|.") is None
    # every match is found by one of the forms: checked on strings each form family makes
    import re
    pattern = r"nc +-e|/\.? +/x+y"
    forms = cond.regex_alternatives(pattern, minimum=1)
    for text in ["nc -e", "nc   -e", "a/ /xy", "a/.  /xxxy", "/    /xy"]:
        assert re.search(pattern, text)
        assert any(all(any(lit in text for lit in clause) for clause in form if clause != {cond.UNPIPED})
                   for form in forms), text


def test_via_names_are_literals_of_the_event_not_of_the_command():
    """A command reached through `trap` came from a text that names trap: the event needs the word,
    the inner command (`nc ...`) does not hold it, so per-command scoping must not ask for it."""
    from vigiles.analysis import condition as cond
    node = cond.parse("cmd.via = trap and cmd.name in (nc, curl)", {}, set())
    assert cond.needles(node, {}, via=True) == {"trap"}
    assert cond.needles(node, {}) == {"nc", "curl"}
    assert cond.alternatives(node, {}, via=True) == [[{"\x02trap"}, {"\x02nc", "\x02curl"}]]
    # steps that are not programs give nothing to look for
    for step in ('"python code"', "function", '"$()"'):
        assert cond.needles(cond.parse(f"cmd.via = {step}", {}, set()), {}, via=True) is None


def test_posix_classes_give_no_literals():
    """The stdlib parser reads `[[:space:]]` as a set and a literal `]`: no literal is taken from it."""
    from vigiles.analysis import condition as cond
    assert cond.regex_literals("nc[[:space:]]+-e") is None and cond.regex_clauses("nc[[:space:]]+-e") is None
    test = cond._leaf_test("regex", ["nc[[:space:]]+-e"])
    assert test("nc -e /bin/sh") and not test("ls -la")
