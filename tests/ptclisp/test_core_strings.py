"""Core library: str, format, parsing, clojure.string and regexes (Clojure group semantics)."""

from __future__ import annotations

import pytest
from core_support import K, L, V, _meter, call, code_of  # noqa: F401 - _meter is an autouse fixture

from ptclisp._core import BUILTINS
from ptclisp._errors import EvalError, LimitExceeded
from ptclisp._limits import Limits, Meter, use_meter
from ptclisp._values.regex import compile_regex
from ptclisp._values.types import Char, Keyword, Map, Regex, Symbol

rx = compile_regex


def test_str_concatenates_clojure_style() -> None:
    assert call("str") == ""
    assert call("str", None) == ""
    assert call("str", "a", 1, None, K("k"), 1.5, Char("c")) == "a1:k1.5c"
    assert call("str", V(1, "x")) == '[1 "x"]'
    assert call("str", 1.0, " ", 1e10) == "1.0 1.0E10"
    assert call("pr-str", "a", None) == '"a" nil'


def test_subs_bounds() -> None:
    assert call("subs", "hello", 1) == "ello"
    assert call("subs", "hello", 1, 3) == "el"
    assert code_of("subs", "hello", 2, 10) == "index_out_of_bounds"
    assert code_of("subs", None, 0) == "type_error"


def test_names_keywords_symbols() -> None:
    assert call("name", Keyword("b", "a")) == "b" and call("namespace", Keyword("b", "a")) == "a"
    assert call("name", "x") == "x"
    assert code_of("name", None) == "type_error"
    assert call("keyword", "abc") is K("abc")
    assert call("keyword", "a/b") is Keyword("b", "a")
    assert call("keyword", "x", "y") is Keyword("y", "x")
    assert call("keyword", None) is None
    assert call("symbol", "foo") == Symbol("foo")


def test_parse_functions() -> None:
    assert call("parse-long", "42") == 42 and call("parse-long", "+7") == 7
    assert call("parse-long", "4.2") is None and call("parse-long", " 42") is None
    assert call("parse-long", "99999999999999999999") is None  # out of long range
    assert call("parse-double", "1e3") == 1000.0 and call("parse-double", " 1.5 ") == 1.5
    assert call("parse-double", "x") is None
    assert call("parse-boolean", "true") is True and call("parse-boolean", "yes") is None
    assert code_of("parse-long", None) == "type_error"


def test_format_safe_subset() -> None:
    assert call("format", "%s has %d items", "cart", 3) == "cart has 3 items"
    assert call("format", "%.2f", 3.14159) == "3.14"
    assert call("format", "%.1f", 3.25) == "3.3"  # Java rounds half-up
    assert call("format", "%5s|%-5s|%05d", "ab", "cd", 42) == "   ab|cd   |00042"
    assert call("format", "%x %o %e", 255, 8, 1234.5) == "ff 10 1.234500e+03"
    assert call("format", "%x", -1) == "ffffffffffffffff"
    assert call("format", "%,.2f %+d", 1234567.891, 5) == "1,234,567.89 +5"
    assert call("format", "100%%%n") == "100%\n"
    assert call("format", "%s", None) == "null"
    assert call("format", "%f", float("inf")) == "Infinity"
    assert call("format", "%2$s %1$s", "a", "b") == "b a"
    assert call("format", "%.2f", 3) == "3.00"  # lenient: Java rejects a long for %f
    assert code_of("format", "%d", 1.5) == "type_error"
    assert code_of("format", "%q", 1) == "invalid_args"
    assert code_of("format", "%s") == "invalid_args"
    assert code_of("format", "50% off") == "invalid_args"


def test_join_split() -> None:
    join, split = BUILTINS["clojure.string/join"], BUILTINS["clojure.string/split"]
    assert join(", ", V(1, None, "x")) == "1, , x"
    assert join(V("a", "b")) == "ab"
    assert join("-", None) == ""
    assert split("a,b,,c,,", rx(",")) == V("a", "b", "", "c")
    assert split("abc", rx("")) == V("a", "b", "c")
    assert split(",a", rx(",")) == V("", "a")
    assert split("", rx(",")) == V("")
    assert split("a,b,c", rx(","), 2) == V("a", "b,c")
    assert split("a b  c", rx("\\s+")) == V("a", "b", "c")
    assert split("a.b", ".") == V("a", "b")  # a string separator is literal (lenient)
    assert call("clojure.string/split-lines", "a\nb\r\nc\n\n") == V("a", "b", "c")


def test_aliases_resolve_to_the_same_function() -> None:
    for short in ("str/join", "string/join", "join"):
        assert BUILTINS[short] is BUILTINS["clojure.string/join"]
    assert BUILTINS["set/union"] is BUILTINS["clojure.set/union"]


def test_case_trim_predicates() -> None:
    s = "clojure.string/"
    assert call(s + "upper-case", "MiXed") == "MIXED"
    assert call(s + "lower-case", "MiXed") == "mixed"
    assert call(s + "capitalize", "hELLO") == "Hello"
    assert call(s + "trim", " \t a b \n") == "a b"
    assert call(s + "triml", "  a ") == "a "
    assert call(s + "trimr", "  a ") == "  a"
    assert call(s + "trim", "\u00a0a\u00a0") == "\u00a0a\u00a0"  # Java keeps non-breaking spaces
    assert call(s + "trim-newline", "a\r\n\n") == "a"
    assert call(s + "blank?", None) and call(s + "blank?", " ") and not call(s + "blank?", "x")
    assert call(s + "includes?", "hello", "ll") and call(s + "includes?", "abc", Char("b"))
    assert call(s + "starts-with?", "prefix-rest", "prefix")
    assert not call(s + "ends-with?", "file.txt", ".csv")
    assert call(s + "index-of", "hello", "l") == 2 and call(s + "index-of", "hello", "x") is None
    assert call(s + "index-of", "hello", "l", 3) == 3
    assert call(s + "last-index-of", "hello", "l") == 3
    assert call(s + "last-index-of", "hello", "l", 2) == 2
    assert call(s + "reverse", "abc") == "cba"
    assert call(s + "escape", "a<b", Map({Char("<"): "&lt;"})) == "a&lt;b"
    assert code_of(s + "upper-case", None) == "type_error"


def test_replace_with_strings_regexes_and_functions() -> None:
    replace = BUILTINS["clojure.string/replace"]
    assert replace("a.b.c", ".", "-") == "a-b-c"
    assert replace("hello world", rx("(o)"), "[$1]") == "hell[o] w[o]rld"
    assert replace("abc", rx("(?<l>b)"), "${l}${l}") == "abbc"
    assert replace("a1b22", rx("\\d+"), "\\$") == "a$b$"
    assert replace("abc", rx("b"), BUILTINS["clojure.string/upper-case"]) == "aBc"
    assert replace("x1", rx("([a-z])(\\d)"), lambda m: m[2] + m[1]) == "1x"
    assert call("clojure.string/replace-first", "aaa", "a", "b") == "baa"
    assert call("clojure.string/replace-first", "a1a2", rx("\\d"), "#") == "a#a2"
    assert code_of("clojure.string/replace", "x", rx("x"), "$2") == "invalid_args"


def test_regex_group_semantics() -> None:
    assert call("re-find", rx("\\d+"), "v12x") == "12"
    assert call("re-find", rx("(\\d+)-(\\d+)?"), "x 12- y") == V("12-", "12", None)
    assert call("re-find", rx("z"), "abc") is None
    assert call("re-matches", rx("\\d+"), "123") == "123"
    assert call("re-matches", rx("\\d+"), "123abc") is None
    assert call("re-matches", rx("(a)(b)?"), "a") == V("a", "a", None)
    assert call("re-seq", rx("\\d"), "a1b2") == L("1", "2")
    assert call("re-seq", rx("(\\w)(\\d)?"), "a1b") == L(V("a1", "a", "1"), V("b", "b", None))
    assert call("re-seq", rx("x"), "abc") is None
    assert isinstance(call("re-pattern", "a(b)"), Regex)
    assert code_of("re-find", rx("a"), 12) == "type_error"


def test_java_regex_syntax_is_translated() -> None:
    assert call("re-find", rx("(?i)ABC"), "xabc") == "abc"
    assert call("re-find", rx("\\Qa.b\\E"), "xa.b") == "a.b"
    assert call("re-find", rx("(?<year>\\d{4})"), "in 2024") == V("2024", "2024")
    assert call("re-find", rx("\\p{Alpha}+"), "12ab3") == "ab"
    assert call("re-find", rx("a\\z"), "a\n") is None
    assert call("re-find", rx("a\\Z"), "a\n") == "a"
    assert call("re-find", rx("\\d"), "\u0663") is None  # Java's \d is ASCII by default


def test_invalid_regex_is_an_error() -> None:
    with pytest.raises(EvalError) as e:
        compile_regex("(unclosed")
    assert e.value.code == "invalid_args"


def test_catastrophic_backtracking_hits_the_run_clock() -> None:
    with use_meter(Meter(Limits(timeout_s=0.3))):
        with pytest.raises(LimitExceeded) as e:
            call("re-find", rx("(a|aa)+$"), "a" * 60 + "b")
    assert e.value.code == "timeout"


def test_stdlib_re_fallback_translates_the_same_patterns() -> None:
    # The wasm tier has no `regex` module: run the translation on `re` in a child interpreter.
    import subprocess
    import sys

    program = (
        "import sys; sys.modules['regex'] = None\n"
        "from ptclisp._values import regex as _regex\n"
        "from ptclisp._limits import Limits, Meter, use_meter\n"
        "assert not _regex.HAS_TIMEOUT\n"
        "with use_meter(Meter(Limits())):\n"
        "    for src, text, want in [(r'(?<y>\\d{4})', 'in 2024', '2024'),\n"
        "                            (r'\\p{Alpha}+', '12ab', 'ab'), (r'(?i)abc', 'ABC', 'ABC'),\n"
        "                            (r'\\Qa.b\\E', 'xa.b', 'a.b'), (r'a++b', 'aab', 'aab')]:\n"
        "        m = _regex.search(_regex.compile_regex(src), text)\n"
        "        assert m is not None and m.group(0) == want, (src, m)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.stdout.strip() == "ok", done.stderr[-2000:]
