"""Shell arithmetic on known integers (vigiles/analysis/arith.py)."""
import pytest

from vigiles.analysis.arith import MAX_TEXT, evaluate


@pytest.mark.parametrize("text, env, value", [
    ("3", {}, 3),
    ("4440+4", {}, 4444),
    ("x*2+1", {"x": "5"}, 11),
    ("$x - 1", {"x": "5"}, 4),
    ("(1+2)*3", {}, 9),
    ("2**10", {}, 1024),
    ("0x10 + 010 + 2#11", {}, 16 + 8 + 3),
    ("-7/2", {}, -3),               # C division truncates toward zero, as bash does
    ("-7%2", {}, -1),
    ("~0", {}, -1),
    ("!0", {}, 1),
    ("9223372036854775807+1", {}, -9223372036854775808),  # 64-bit wrap-around
])
def test_values(text, env, value):
    assert evaluate(text, env) == value


@pytest.mark.parametrize("text, env", [
    ("y+1", {}),                    # unknown variable
    ("x+1", {"x": "abc"}),          # not an integer
    ("1/0", {}),
    ("2**99", {}),                  # exponent beyond the 64 bits
    ("1<<64", {}),
    ("a=1", {}),                    # assignment is not evaluated
    ("1+", {}),
    ("(" * 40 + "1" + ")" * 40, {}),
    ("1+" * MAX_TEXT + "1", {}),    # too long to read
])
def test_what_is_not_known_stays_unknown(text, env):
    assert evaluate(text, env) is None
