"""The RE2 match test: the same answer as `search`, without building a Match."""
import pytest
import re2

from vigiles.analysis import regex
from vigiles.analysis.regex import searcher

PATTERNS = [r"\$[({@*1-9]|\?", r"(?:^|[\s;&|(])sed\s+(?:-[a-z]*\s+)*-[a-z]*i", r"^abc$", r"é+x", r"(?i)CURL\s", r"",
            r"(?m)^x"]
TEXTS = ["", "abc", "xabc", "echo $(id)", "sed -n -i s/a/b/ f", "caféx", "ééx", "curl -s", "a\nx", "日本 $1", "?" * 3]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_searcher_answers_as_search_does(pattern):
    compiled = re2.compile(pattern)
    for test in (searcher(pattern), searcher(compiled)):
        assert [test(t) for t in TEXTS] == [compiled.search(t) is not None for t in TEXTS]


def test_a_lone_surrogate_fails_as_in_search():
    with pytest.raises(UnicodeEncodeError):
        re2.compile("x").search("\ud800x")
    with pytest.raises(UnicodeEncodeError):
        searcher("x")("\ud800x")


def test_without_re2_internals_search_answers(monkeypatch):
    monkeypatch.setattr(regex, "_UNANCHORED", None)
    test = searcher(r"nc\s+-e")
    assert test("nc -e /bin/sh") and not test("nc -z h 1")
