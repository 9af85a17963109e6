"""Evaluator semantics: Clojure truthiness, equality, numbers, nil punning, closures, recursion."""

import pytest

import ptclisp
from ptclisp import Keyword, List, Map, Vector
from ptclisp._values.types import equals


def value(source, **kwargs):
    result = ptclisp.run(source, **kwargs)
    assert result.status == "ok", result.error
    return result.value


def same(a, b):
    """Clojure = plus identical types for scalars (1 and 1.0 and true differ)."""
    return equals(a, b) and (type(a) is type(b) or not isinstance(a, (int, float, bool)))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # truthiness: only nil and false are falsy
        ("(if 0 :t :f)", Keyword("t")),
        ('(if "" :t :f)', Keyword("t")),
        ("(if [] :t :f)", Keyword("t")),
        ("(if nil :t :f)", Keyword("f")),
        ("(if false :t :f)", Keyword("f")),
        ("(when-not nil 1)", 1),
        ("(if-not 1 :a :b)", Keyword("b")),
        ("(and 1 nil 2)", None),
        ("(and 1 2 3)", 3),
        ("(and)", True),
        ("(or false nil)", None),
        ("(or nil false)", False),
        ("(or nil 0 1)", 0),
        ("(or)", None),
        # equality of nested collections
        ("(= [1 [2 {:a #{3}}]] [1 [2 {:a #{3}}]])", True),
        ("(= [1 2] '(1 2))", True),
        ("(= {:a [1 2]} {:a '(1 2)})", True),
        ("(= 1 1.0)", False),
        ("(== 1 1.0)", True),
        ("(= nil false)", False),
        # integers stay integers, floats stay floats
        ("(+ 1 2)", 3),
        ("(+ 1 2.0)", 3.0),
        ("(* 1.5 2)", 3.0),
        ("(/ 4 2)", 2),
        ("(/ 1 2)", 0.5),
        ("(* 99999999999 99999999999 99999999999)", 99999999999**3),
        # nil punning
        ("(first nil)", None),
        ("(count nil)", 0),
        ("(:a nil)", None),
        ("(get-in {:a nil} [:a :b])", None),
        ("(when-let [x (seq [])] :never)", None),
        ("(if-some [x false] [:some x] :none)", Vector([Keyword("some"), False])),
        ("(when-some [x nil] :never)", None),
        ("(if-let [[a b] [1 2]] (+ a b) :no)", 3),
        # keywords, maps and sets are functions
        ("(:b {:a 1 :b 2})", 2),
        ("(:c {:a 1} :dflt)", Keyword("dflt")),
        ("({:a 1} :a)", 1),
        ("(#{1 2} 2)", 2),
        ("([10 20 30] 1)", 20),
        # sequencing and definitions
        ("(do 1 2 3)", 3),
        ("(do)", None),
        ("(def x 5) (* x 2)", 10),
        ("(defn f \"doc\" [x] (* x 3)) (f 2)", 6),
        ("(defn g ([] (g 1)) ([a] (g a 2)) ([a b & more] (apply + a b more))) [(g) (g 5) (g 1 2 3 4)]",
         Vector([3, 7, 10])),
        ("(defn later [] (sooner)) (defn sooner [] :ok) (later)", Keyword("ok")),
        ("((fn [& xs] xs))", None),
        ("((fn [a & xs] [a xs]) 1 2 3)", Vector([1, List([2, 3])])),
        # closures capture by value
        ("(defn adder [n] (fn [x] (+ x n))) ((adder 5) 10)", 15),
        ("(let [fs (for [i [1 2 3]] (fn [] i))] (map (fn [f] (f)) fs))", List([1, 2, 3])),
        ("(let [x 1 f (fn [] x) x 2] [(f) x])", Vector([1, 2])),
        ("(let [a 1] (let [f (fn [] (fn [] a))] ((f))))", 1),
        # recursion and recur
        ("(defn fact [n] (if (<= n 1) 1 (* n (fact (dec n))))) (fact 20)", 2432902008176640000),
        ("((fn fib [n] (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))) 15)", 610),
        ("(loop [i 0 acc 0] (if (< i 100000) (recur (inc i) (+ acc i)) acc))", 4999950000),
        ("(defn cd [n acc] (if (zero? n) acc (recur (dec n) (conj acc n)))) (cd 3 [])",
         Vector([3, 2, 1])),
        ("((fn [n & xs] (if (pos? n) (recur (dec n) (cons n xs)) xs)) 3)", List([1, 2, 3])),
        ("(loop [x 3] (cond (zero? x) :done :else (recur (dec x))))", Keyword("done")),
        ("(loop [x 3] (case x 0 :done (recur (dec x))))", Keyword("done")),
        ("(loop [x 3] (when (pos? x) (recur (dec x))))", None),
        ("(loop [x 3] (and true (if (pos? x) (recur (dec x)) :end)))", Keyword("end")),
        # conditionals
        ("(cond (neg? 1) :neg (zero? 1) :zero :else :pos)", Keyword("pos")),
        ("(cond false 1)", None),
        ('(case "b" "a" 1 "b" 2 3)', 2),
        ("(case :z :a 1 3)", 3),
        ("(case 'x x :sym :other)", Keyword("sym")),
        ("(case [1 2] [1 2] :vec :other)", Keyword("vec")),
        ("(condp = 2 1 :one 2 :two :other)", Keyword("two")),
        ("(condp some [1 2 3] #{0 9} :>> inc #{3} :>> inc :none)", 4),
        ("(condp < 10 20 :a :b)", Keyword("b")),
        # iteration
        ("(for [x [1 2 3] y [:a :b] :when (odd? x)] [x y])",
         List([Vector([1, Keyword("a")]), Vector([1, Keyword("b")]),
               Vector([3, Keyword("a")]), Vector([3, Keyword("b")])])),
        ("(for [x (range 10) :while (< x 3)] x)", List([0, 1, 2])),
        ("(for [x [1 2] :let [y (* 10 x)] z [y (inc y)]] z)", List([10, 11, 20, 21])),
        ("(for [[k v] {:a 1 :b 2}] [v k])", List([Vector([1, Keyword("a")]), Vector([2, Keyword("b")])])),
        ("(for [c \"ab\"] (str c c))", List(["aa", "bb"])),
        ("(take 3 (for [x (range)] (* x x)))", List([0, 1, 4])),
        ("(for [x nil] x)", List()),
        ("(doseq [x [1 2]] x)", None),
        ("(dotimes [i 3] i)", None),
        # threading
        ("(-> 5 inc (* 2) (- 1))", 11),
        ("(->> (range 10) (filter odd?) (map #(* % %)) (take 3))", List([1, 9, 25])),
        ("(-> {:a 1} :a)", 1),
        ("(some-> {:a {:b 1}} :a :b inc)", 2),
        ("(some-> {:a {:b 1}} :x :b inc)", None),
        ("(some->> [1 2] (map inc) first)", 2),
        ("(cond-> 1 true inc false (* 100) true (* 10))", 20),
        ("(cond->> [1 2] true (map inc) false (map -))", List([2, 3])),
        ("(as-> 2 $ (* $ 10) (- 100 $))", 80),
        # short fns
        ("(#(apply + %&) 1 2 3 4)", 10),
        ("(#(identity 42))", 42),
        ("(map #(+ %1 %2) [1 2] [10 20])", List([11, 22])),
        # quote, var, comment
        ("'(1 a :b)", List([1, ptclisp.Symbol("a"), Keyword("b")])),
        ("(defn h [] 7) (#'h)", 7),
        ("(comment (/ 1 0))", None),
        # literals evaluate their elements
        ("(let [x 1] [x {:k x} #{x}])", Vector([1, Map({Keyword("k"): 1}), ptclisp.Set({1})])),
        ("()", List()),
        # return ends the run early
        ("(return 1) (/ 1 0)", 1),
        ("(loop [i 0] (if (= i 5) (return :early) (recur (inc i))))", Keyword("early")),
        ("(map (fn [x] (if (= x 2) (return x) x)) [1 2 3])", 2),
    ],
)
def test_semantics(source, expected):
    got = value(source)
    assert same(got, expected), (got, expected)


def test_assoc_never_mutates_its_input():
    got = value("(let [m {:a 1} m2 (assoc m :b 2) v [1 2] v2 (conj v 3)] [m m2 v v2])")
    assert same(got, Vector([Map({Keyword("a"): 1}), Map({Keyword("a"): 1, Keyword("b"): 2}),
                             Vector([1, 2]), Vector([1, 2, 3])]))


def test_host_data_is_not_mutated():
    data = {"orders": [{"id": 1, "tags": ["a"]}]}
    value("(-> data/orders first (assoc :id 2) (update :tags conj \"b\"))", data=data)
    assert data == {"orders": [{"id": 1, "tags": ["a"]}]}


def test_fail_ends_the_run_with_the_failure_value():
    result = ptclisp.run("(when true (fail {:reason \"bad\"})) :unreached")
    assert result.status == "failed"
    assert same(result.value, Map({Keyword("reason"): "bad"}))


def test_output_is_captured_in_order():
    result = ptclisp.run('(println "a" 1 ["x"]) (print "b") (prn "c") (pr :d) (newline) 5')
    assert result.output == 'a 1 [x]\nb"c"\n:d\n'


def test_output_survives_an_error():
    result = ptclisp.run('(println "before") (/ 1 0)')
    assert result.status == "error" and result.output == "before\n"


def test_println_prints_strings_raw_inside_collections():
    assert ptclisp.run('(println ["a" \\b])').output == "[a b]\n"


def test_data_reads_host_input_and_unknown_names_list_the_available_ones():
    assert value("(count data/xs)", data={"xs": [1, 2]}) == 2
    result = ptclisp.run("data/ys", data={"xs": [1], "zs": 2})
    assert result.error.code == "unbound_symbol"
    assert "data/xs" in result.error.hint and "data/zs" in result.error.hint
    assert (result.error.line, result.error.column) == (1, 1)


def test_tools_receive_python_dicts_and_results_become_values():
    seen = []

    def search(args):
        seen.append(args)
        return {"hits": [{"id": 1, "score": 0.5}], "total": 1}

    result = ptclisp.run("(-> (tool/search {:q \"x\" :n 2}) :hits first :score)",
                         tools={"search": search})
    assert result.value == 0.5
    assert seen == [{"q": "x", "n": 2}]
    (call,) = result.tool_calls
    assert call.name == "search" and call.args == {"q": "x", "n": 2}
    assert call.result == {"hits": [{"id": 1, "score": 0.5}], "total": 1}


def test_a_tool_can_be_passed_as_a_function():
    result = ptclisp.run("(mapv tool/double [{:x 1} {:x 2}])",
                         tools={"double": lambda a: a["x"] * 2})
    assert result.value == Vector([2, 4])


def test_tool_without_arguments_and_unknown_tool():
    assert value("(tool/now)", tools={"now": lambda a: a}) == Map()
    result = ptclisp.run("(tool/serch {})", tools={"search": lambda a: 1})
    assert result.error.code == "tool_not_found" and "tool/search" in result.error.hint


def test_a_failing_tool_is_a_tool_error_with_position():
    def broken(args):
        raise RuntimeError("backend down")

    result = ptclisp.run("(do\n  (tool/broken {}))", tools={"broken": broken})
    assert result.error.code == "tool_error"
    assert (result.error.line, result.error.column) == (2, 3)


@pytest.mark.parametrize(
    ("source", "code", "column"),
    [
        ("(nil 1)", "not_callable", 1),
        ('("s" 1)', "not_callable", 1),
        ("(let [f 1] (f))", "not_callable", 12),
        ("((fn [x] x) 1 2)", "arity_error", 1),
        ("(inc 1 2)", "arity_error", 1),
        ("(+ 1 (/ 1 0))", "division_by_zero", 6),
        ("(quot 5 0)", "division_by_zero", 1),
        ("(nth [1 2 3] 10)", "index_out_of_bounds", 1),
        ("(case 5 1 :a)", "invalid_args", 1),
        ("(condp = 5 1 :a)", "invalid_args", 1),
        ('(inc "a")', "type_error", 1),
        ("(defn f [] (g)) (f)", "unbound_symbol", 13),
    ],
)
def test_runtime_errors_have_codes_and_positions(source, code, column):
    result = ptclisp.run(source)
    assert result.status == "error"
    assert result.error.code == code, result.error
    assert (result.error.line, result.error.column) == (1, column)
    assert result.error.hint


def test_def_used_before_it_runs_is_an_unbound_symbol():
    result = ptclisp.run("(defn f [] y) (f) (def y 1)")
    assert result.error.code == "unbound_symbol"


def test_steps_and_memory_are_reported():
    result = ptclisp.run("(reduce + (map inc (range 1000)))")
    assert result.value == 500500
    assert result.steps >= 1000 and result.memory > 0
    assert result.duration_s > 0


def test_user_functions_print_with_their_name():
    assert ptclisp.pr_str(value("(defn my-fn [] 1) my-fn")) == "#function[my-fn]"


def test_results_are_realized():
    got = value("(map inc (take 3 (range)))")
    assert type(got) is List and got == List([1, 2, 3])


def test_recursion_reaches_close_to_the_default_depth_limit():
    source = "(defn f [n] (if (zero? n) 0 (inc (first (map f [(dec n)]))))) (f 390)"
    assert value(source) == 390
    assert ptclisp.run(source.replace("390", "410")).error.code == "depth_limit"
