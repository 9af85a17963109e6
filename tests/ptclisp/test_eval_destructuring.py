"""Destructuring: every pattern kind, in every binding form (let, fn params, loop, for, doseq)."""

import pytest

import ptclisp
from ptclisp._values.types import equals

PATTERNS = [
    # (pattern, value expression, names, expected values)
    ("[a b]", "[1 2]", "[a b]", "[1 2]"),
    ("[a b]", "[1]", "[a b]", "[1 nil]"),
    ("[a _ c]", "'(1 2 3)", "[a c]", "[1 3]"),
    ("[a & more]", "[1 2 3]", "[a more]", "[1 (2 3)]"),
    ("[a & more]", "[1]", "[a more]", "[1 nil]"),
    ("[a b :as all]", "[1 2 3]", "[a b all]", "[1 2 [1 2 3]]"),
    ("[x y]", "\"hi\"", "[x y]", "[\\h \\i]"),
    ("[a b]", "nil", "[a b]", "[nil nil]"),
    ("[[a b] [c]]", "[[1 2] [3]]", "[a b c]", "[1 2 3]"),
    ("{:keys [a b]}", "{:a 1 :b 2}", "[a b]", "[1 2]"),
    ("{:keys [a b] :or {b 5}}", "{:a 1}", "[a b]", "[1 5]"),
    ("{:keys [a] :or {a 5}}", "{:a nil}", "[a]", "[nil]"),
    ("{:keys [a] :as m}", "{:a 1 :z 2}", "[a m]", "[1 {:a 1 :z 2}]"),
    ("{:strs [a b]}", "{\"a\" 1 \"b\" 2}", "[a b]", "[1 2]"),
    ("{:syms [a]}", "{'a 1}", "[a]", "[1]"),
    ("{:keys [ns/a]}", "{:ns/a 1}", "[a]", "[1]"),
    ("{x :x [y z] :yz}", "{:x 1 :yz [2 3]}", "[x y z]", "[1 2 3]"),
    ("{{:keys [c]} :b}", "{:b {:c 3}}", "[c]", "[3]"),
    ("{:keys [a]}", "nil", "[a]", "[nil]"),
    ("[{:keys [a]} {:keys [b]}]", "[{:a 1} {:b 2}]", "[a b]", "[1 2]"),
    ("[a & {:keys [k]}]", "[1 :k 2]", "[a k]", "[1 2]"),
]


def run_value(source):
    result = ptclisp.run(source)
    assert result.status == "ok", (source, result.error)
    return result.value


def check(source, expected):
    assert equals(run_value(source), ptclisp.read_string(expected)), source


@pytest.mark.parametrize(("pattern", "value", "names", "expected"), PATTERNS)
def test_let(pattern, value, names, expected):
    check(f"(let [{pattern} {value}] {names})", expected)


@pytest.mark.parametrize(("pattern", "value", "names", "expected"), PATTERNS)
def test_fn_params(pattern, value, names, expected):
    check(f"((fn [{pattern}] {names}) {value})", expected)


@pytest.mark.parametrize(("pattern", "value", "names", "expected"), PATTERNS)
def test_loop(pattern, value, names, expected):
    check(f"(loop [{pattern} {value} n 0] (if (zero? n) (recur {value} 1) {names}))", expected)


@pytest.mark.parametrize(("pattern", "value", "names", "expected"), PATTERNS)
def test_for(pattern, value, names, expected):
    check(f"(first (for [{pattern} [{value}]] {names}))", expected)


@pytest.mark.parametrize(("pattern", "value", "names", "expected"), PATTERNS)
def test_doseq(pattern, value, names, expected):
    source = f"(doseq [{pattern} [{value}]] (return {names}))"
    check(source, expected)


def test_loop_recur_rebinds_destructured_pattern():
    check("(loop [[x & more] [4 5 6] sum 0] (if x (recur more (+ sum x)) sum))", "15")


def test_if_let_and_when_let_destructure():
    check("(if-let [{:keys [a]} {:a 1}] a :no)", "1")
    check("(when-let [[a b] [1 2]] (+ a b))", "3")


def test_or_default_is_evaluated_only_when_missing():
    check("(let [{:keys [a] :or {a (/ 1 0)}} {:a 1}] a)", "1")


def test_vector_pattern_on_a_map_is_a_type_error():
    result = ptclisp.run("(let [[a] {:a 1}] a)")
    assert result.error.code == "type_error" and result.error.line == 1
