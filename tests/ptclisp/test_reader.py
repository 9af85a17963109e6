"""The reader (``ptclisp._reader``): Clojure syntax → hy models with positions, and errors."""

import math

import hy
import hy.models as m
import pytest

from ptclisp._errors import ReadError
from ptclisp._reader.reader import (
    MAX_NESTING,
    CharForm,
    ClojureReader,
    RegexForm,
    read_all,
    read_forms,
    read_string,
)
from ptclisp._values.types import Char, Keyword, List, Map, Regex, Set, Symbol, Vector, equals


def one(text):
    forms = read_forms(text)
    assert len(forms) == 1, forms
    return forms[0]


# ---------------------------------------------------------------- atoms


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", 42),
        ("-5", -5),
        ("+5", 5),
        ("0", 0),
        ("-0", 0),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("0x1F", 31),
        ("-0xff", -255),
        ("017", 15),
        ("2r101", 5),
        ("36rZZ", 36 * 36 - 1),
        ("1N", 1),
        ("-7N", -7),
        ("4/2", 2),
    ],
)
def test_integers(text, expected):
    form = one(text)
    assert type(form) is m.Integer and int(form) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("-2.5E-3", -0.0025),
        ("1.", 1.0),
        ("1.5M", 1.5),
        ("1M", 1.0),
        ("1/2", 0.5),
        ("-3/4", -0.75),
        ("##Inf", math.inf),
        ("##-Inf", -math.inf),
        ("1e999", math.inf),
    ],
)
def test_floats(text, expected):
    form = one(text)
    assert type(form) is m.Float and float(form) == expected


def test_nan():
    form = one("##NaN")
    assert type(form) is m.Float and math.isnan(form)


def test_integer_of_any_size():
    digits = "9" * 10_000  # beyond Python's 4300-digit str→int guard
    assert int(one(digits)) == 10**10_000 - 1


@pytest.mark.parametrize(
    "text",
    [
        "tool/get-orders",
        "data/items",
        "clojure.string/join",
        "str/join",
        "Math/floor",
        "a.b",
        "a.b.c",
        "nil",
        "true",
        "false",
        "&",
        "%1",
        "...",
        "/",
        "clojure.core//",
        "a-b?",
        "->>",
        "x'",
        "a#",
        "+",
        "-",
        "-a",
        "é-ü",
    ],
)
def test_symbols_stay_whole(text):
    form = one(text)
    assert type(form) is m.Symbol and str(form) == text


@pytest.mark.parametrize(
    ("text", "name"), [(":a", "a"), (":ns/a", "ns/a"), (":a.b", "a.b"), (":1", "1"), (":a-b?", "a-b?")]
)
def test_keywords(text, name):
    form = one(text)
    assert type(form) is m.Keyword and form.name == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r'"plain"', "plain"),
        (r'"a\nb"', "a\nb"),
        (r'"tab\there"', "tab\there"),
        (r'"\"q\" \\ \r \b \f"', '"q" \\ \r \b \f'),
        (r'"\u0041\u00e9"', "Aé"),
        (r'"\101\7"', "A\x07"),
        (r'"\uD83D\uDE00"', "\U0001f600"),
        (r'"\ud83d\ude00!"', "\U0001f600!"),
        (r'"\uDC00\uD800"', "\udc00\ud800"),  # lone surrogates stay, as in Clojure
        ('"raw\nnewline"', "raw\nnewline"),
        ('"😀 ünïcode"', "😀 ünïcode"),
        ('""', ""),
    ],
)
def test_strings_with_clojure_escapes(text, expected):
    form = one(text)
    assert type(form) is m.String and str(form) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (r"\a", "a"),
        (r"\newline", "\n"),
        (r"\space", " "),
        (r"\tab", "\t"),
        (r"\return", "\r"),
        (r"\backspace", "\b"),
        (r"\formfeed", "\f"),
        (r"\u0041", "A"),
        (r"\o101", "A"),
        (r"\(", "("),
        (r"\\", "\\"),
        (r"\"", '"'),
        (r"\,", ","),
        (r"\é", "é"),
        (r"\u", "u"),
    ],
)
def test_characters(text, expected):
    form = one(text)
    assert type(form) is CharForm and form.value == expected


def test_characters_inside_collections_end_at_delimiters():
    form = one(r"[\a \b\c]")
    assert [f.value for f in form] == ["a", "b", "c"]


def test_regex_keeps_its_source_verbatim():
    form = one(r'#"\d+\.\"x"')
    assert type(form) is RegexForm and form.source == r"\d+\.\"x"


# ---------------------------------------------------------------- collections and dispatch


def test_collections():
    form = one("(f [1 2] {:a 1} #{3})")
    assert type(form) is m.Expression
    assert [type(x) for x in form] == [m.Symbol, m.List, m.Dict, m.Set]
    assert list(form[2]) == [m.Keyword("a"), m.Integer(1)]


def test_commas_are_whitespace():
    assert list(one("[1,2 ,3,,]")) == [m.Integer(1), m.Integer(2), m.Integer(3)]
    assert list(one("(a, b)")) == [m.Symbol("a"), m.Symbol("b")]


def test_unicode_whitespace_and_byte_order_mark_separate_tokens():
    assert read_forms("\ufeff(a\u00a0b)") == [m.Expression([m.Symbol("a"), m.Symbol("b")])]


def test_comments_and_discard():
    forms = read_forms("; a comment\n(a #_ b c) #_ #_ d e f ;; end")
    assert forms == [m.Expression([m.Symbol("a"), m.Symbol("c")]), m.Symbol("f")]
    assert read_forms("#!shebang line\n1") == [m.Integer(1)]


def test_quote_and_var():
    assert one("'x") == m.Expression([m.Symbol("quote"), m.Symbol("x")])
    assert one("'(1 2)") == m.Expression(
        [m.Symbol("quote"), m.Expression([m.Integer(1), m.Integer(2)])]
    )
    assert one("#'inc") == m.Expression([m.Symbol("var"), m.Symbol("inc")])
    assert one("''a") == m.Expression(
        [m.Symbol("quote"), m.Expression([m.Symbol("quote"), m.Symbol("a")])]
    )


@pytest.mark.parametrize(
    ("text", "params", "body"),
    [
        ("#(+ % 1)", ["%1"], "(+ %1 1)"),
        ("#(* %1 %2)", ["%1", "%2"], "(* %1 %2)"),
        ("#(list %3)", ["%1", "%2", "%3"], "(list %3)"),
        ("#(apply + % %&)", ["%1", "&", "%&"], "(apply + %1 %&)"),
        ("#(vector %&)", ["&", "%&"], "(vector %&)"),
        ("#(rand)", [], "(rand)"),
        ("#()", [], "()"),
        ("#(f [%] {:k %2})", ["%1", "%2"], "(f [%1] {:k %2})"),
    ],
)
def test_short_functions_expand_to_fn(text, params, body):
    form = one(text)
    assert form[0] == m.Symbol("fn")
    assert [str(p) for p in form[1]] == params and type(form[1]) is m.List
    assert form[2] == one(body)


def test_percent_outside_short_fn_is_a_plain_symbol():
    assert one("%") == m.Symbol("%")


# ---------------------------------------------------------------- positions


def test_every_form_has_line_and_column():
    forms = read_forms('(defn f [x]\n  {:a "s" :b \\c}\n  #(inc %))\n  \'y')
    positions = []

    def walk(form):
        positions.append((form.start_line, form.start_column))
        assert hasattr(form, "_start_line") and hasattr(form, "_end_line")
        if isinstance(form, m.Sequence):
            for child in form:
                walk(child)

    for form in forms:
        walk(form)
    assert positions[:5] == [(1, 1), (1, 2), (1, 7), (1, 9), (1, 10)]
    defn = forms[0]
    assert (defn[3].start_line, defn[3].start_column) == (2, 3)  # the map
    assert (defn[3][1].start_line, defn[3][1].start_column) == (2, 7)  # "s"
    assert (defn[4].start_line, defn[4].start_column) == (3, 3)  # #(...)
    assert (forms[1].start_line, forms[1].start_column) == (4, 3)  # 'y
    assert (defn.end_line, defn.end_column) == (3, 11)


def test_end_positions_of_atoms():
    sym = one("  abc")
    assert (sym.start_column, sym.end_column) == (3, 5)
    text = one('"a\nbc"')
    assert (text.start_line, text.end_line, text.end_column) == (1, 2, 3)


# ---------------------------------------------------------------- values


def test_read_string_gives_values():
    value = read_string('{:a [1 2.5 "s" \\c nil true] :b/c #{x} :d (1 2)}')
    assert equals(
        value,
        Map(
            {
                Keyword("a"): Vector([1, 2.5, "s", Char("c"), None, True]),
                Keyword("c", "b"): Set([Symbol("x")]),
                Keyword("d"): List([1, 2]),
            }
        ),
    )
    assert type(value[Keyword("a")]) is Vector and type(value[Keyword("d")]) is List


def test_symbol_values_split_namespace_like_clojure():
    assert read_string("clojure.string/join") == Symbol("join", "clojure.string")
    assert read_string("/") == Symbol("/")
    assert read_string("clojure.core//") == Symbol("/", "clojure.core")
    assert read_string("a.b") == Symbol("a.b")


def test_regex_value():
    value = read_string(r'#"\d+"')
    assert type(value) is Regex and value.source == r"\d+"


def test_read_all_and_empty_input():
    assert read_all("1 :a") == [1, Keyword("a")]
    assert read_forms("   ; nothing\n") == []
    with pytest.raises(ReadError, match="empty"):
        read_string("  ")


# ---------------------------------------------------------------- errors


def error_of(text):
    with pytest.raises(ReadError) as info:
        read_forms(text)
    err = info.value
    assert err.code == "parse_error" and err.line is not None and err.column is not None
    assert err.hint
    return err


def test_unclosed_paren_names_the_opener():
    err = error_of("(defn f [x]\n  (let [y 1]\n    (+ x y))")
    assert "unclosed ( opened at line 1, column 1" in err.message
    assert (err.line, err.column) == (1, 1)
    assert ")" in err.hint


def test_unclosed_reports_innermost_and_outermost():
    err = error_of("(a\n  [b\n    {:c (d")
    assert "unclosed ( opened at line 3, column 9" in err.message
    assert "4 forms are open" in err.message and "line 1, column 1" in err.message
    assert ")}])" in err.hint


def test_unexpected_closer():
    err = error_of("(+ 1 2))")
    assert "unexpected )" in err.message and (err.line, err.column) == (1, 8)


def test_mismatched_closer_says_what_was_expected():
    err = error_of("(let [x 1)\n  x)")
    assert "does not match the [ opened at line 1, column 6" in err.message
    assert "expected ]" in err.message and (err.line, err.column) == (1, 10)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (r'"bad \q escape"', r"unsupported escape \q"),
        (r'"\u12"', r"unsupported escape \u"),
        ('"never closed', "unterminated string"),
        ('#"never closed', "unterminated regex"),
        ("{:a 1 :b}", "map literal has 3 forms"),
        ("{:a 1 :a 2}", "duplicate key :a"),
        ("#{1 2 1}", "duplicate element 1"),
        ("#foo bar", "unsupported reader dispatch #foo"),
        ("#inst \"2020\"", "unsupported reader dispatch #inst"),
        ("#?(:clj 1)", "unsupported reader dispatch #?"),
        ("#:ns{:a 1}", "unsupported reader dispatch #:"),
        ("#=(+ 1 2)", "unsupported reader dispatch #="),
        ("#[[bracket]]", "unsupported reader dispatch #["),
        ("#*args", "unsupported reader dispatch #*"),
        ("#", "input ends after #"),
        ("# x", "whitespace after #"),
        ("##Foo", "unknown symbolic value ##Foo"),
        ("#(map #(inc %) %)", "nested #()"),
        ("#(%x)", "invalid argument %x"),
        (r"\abc", r"unsupported character \abc"),
        (r"\uD800", "surrogate"),
        ("\\", "input ends after \\"),
        ("@x", "deref"),
        ("^:private x", "metadata"),
        ("`(a ~b)", "syntax-quote"),
        ("~x", "unquote"),
        ("1abc", "invalid number 1abc"),
        ("08", "invalid number 08"),
        ("1/0", "divide by zero"),
        ("40r1", "invalid number 40r1"),
        ("::kw", "auto-resolved keyword"),
        (":", "invalid keyword :"),
        (":a:", "invalid keyword"),
        ("a:", "invalid symbol a:"),
        ("a/", "invalid symbol a/"),
        ("a/1b", "invalid symbol"),
        ("'", "input ends after '"),
        ("(a ')", "' must be followed by a form"),
        ("(a #_)", "#_ must be followed by a form"),
        (r'#"[a"', "regex"),
    ],
)
def test_errors_are_read_errors_with_position_and_hint(text, fragment):
    err = error_of(text)
    assert fragment in err.message


def test_error_position_points_at_the_fault():
    err = error_of('(str "ok"\n     "bad \\x")')
    assert (err.line, err.column) == (2, 11)
    err = error_of("[1 2\n 3 #foo]")
    assert (err.line, err.column) == (2, 4)


def test_nesting_limit_is_a_read_error():
    assert read_forms("[" * MAX_NESTING + "]" * MAX_NESTING)
    err = error_of("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))
    assert "nested deeper" in err.message
    err = error_of("(" * 100_000)  # no RecursionError: the reader does not recurse
    assert err.code == "parse_error"


def test_non_text_input_is_a_read_error():
    with pytest.raises(ReadError):
        read_forms(b"(+ 1 2)")  # type: ignore[arg-type]


# ---------------------------------------------------------------- hy integration and security


def test_is_a_hy_reader_and_works_with_hy_read_many():
    assert isinstance(ClojureReader(), hy.HyReader)
    forms = list(hy.read_many("(tool/get-orders {:a 1, :b 2}) #(inc %)", reader=ClojureReader()))
    assert forms[0][0] == m.Symbol("tool/get-orders")
    assert forms[1][0] == m.Symbol("fn")


def test_hy_defaults_would_misread_clojure():
    """Why we subclass: plain hy splits dotted names and keeps commas in symbols."""
    plain = hy.read("(clojure.string/join a, b)")
    assert str(plain[0]) != "clojure.string/join"
    assert str(one("(clojure.string/join a, b)")[0]) == "clojure.string/join"


_hy_reader_macros = {}  # where hy looks for reader macros of the calling module


def test_hy_reader_macros_cannot_run_code(monkeypatch):
    """hy's ``#tag`` reader macros execute Python at read time; ours refuse every ``#tag``."""
    calls = []

    def boom(reader, key):
        calls.append(key)
        return m.Integer(666)

    _hy_reader_macros["boom"] = boom
    try:
        # the control: hy's own reader (with this module's macros) does run the macro
        assert list(hy.HyReader(use_current_readers=True).parse(_stream("#boom 1"))) == [
            m.Integer(666),
            m.Integer(1),
        ]
        assert calls == ["boom"]
        calls.clear()

        # ours: neither a module-level table, an instance table nor the class table is consulted
        reader = ClojureReader()
        reader.reader_macros["boom"] = boom
        monkeypatch.setitem(hy.HyReader.DEFAULT_TABLE, "#boom", boom)
        with pytest.raises(ReadError, match="unsupported reader dispatch #boom"):
            read_forms("#boom 1")
        with pytest.raises(ReadError, match="unsupported reader dispatch #boom"):
            ClojureReader().read("(do #boom 1)")
        assert ClojureReader().reader_macros == {}
        assert calls == []
    finally:
        _hy_reader_macros.clear()


def test_hy_defreader_defined_macro_is_not_reachable():
    calls = []
    env = {"calls": calls}
    hy.eval(hy.read_many('(defreader pwn (.append calls "ran") 1)'), env)
    assert "_hy_reader_macros" in env  # hy registered the macro in that module's table
    with pytest.raises(ReadError):
        read_forms("#pwn")
    assert calls == []


def test_hy_only_syntax_is_not_accepted():
    for text in ['f"{x}"', "#**kw", "#^int x"]:
        forms_or_error = _read_or_error(text)
        assert forms_or_error is ReadError or all(
            not isinstance(f, (m.FString, m.Tuple)) for f in forms_or_error
        )


def _read_or_error(text):
    try:
        return read_forms(text)
    except ReadError:
        return ReadError


def _stream(text):
    import io

    return io.StringIO(text)
