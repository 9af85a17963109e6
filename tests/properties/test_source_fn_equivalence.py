"""Property: fns compiled to Python source (and their loop kernels) behave exactly like the
closure compiler's fns — same value, same error (code, message, position), same steps."""

from __future__ import annotations

import os
from functools import partial
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ptclisp
from ptclisp._compiler import compiler as _compiler
from ptclisp._compiler import source as _source
from ptclisp._limits import Limits

EXAMPLES = int(os.environ.get("PTCLISP_SOURCE_FN_EXAMPLES", "400"))  # raise it for a deep run

# ---------------------------------------------------------------- generated fn bodies over x

_ATOMS = st.sampled_from([
    "x", "x", "x", "0", "1", "-2", "2.5", "0.0", "##NaN", '"a"', '""', ":a", ":b", "nil", "true",
    "false", "(:a x)", "(:b x 0)", "(get x :a)", "[1 2]",
    # inlined for maps and simple keys, the builtin for anything else (issue 15)
    '(get x "a")', "(get x [1] 0)", "(get x 0 :d)", "(keyword x)", '(keyword "b")',
])


def _node(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(children, children)
    return st.one_of(
        st.tuples(st.sampled_from(["=", "<", ">", "<=", ">=", "+", "-", "*", "not=", "str",
                                   "get", "max", "compare", "/"]), two)
        .map(lambda t: f"({t[0]} {t[1][0]} {t[1][1]})"),
        st.tuples(st.sampled_from(["inc", "dec", "not", "nil?", "some?", "count", "first",
                                   "keyword?", ":a", "vector"]), children)
        .map(lambda t: f"({t[0]} {t[1]})"),
        st.tuples(children, children, children).map(lambda t: f"(if {t[0]} {t[1]} {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"(assoc {t[0]} {t[1]} {t[2]})"),
        st.tuples(children, children, children).map(lambda t: f"(get {t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["and", "or", "do"]), two)
        .map(lambda t: f"({t[0]} {t[1][0]} {t[1][1]})"),
        two.map(lambda t: f"(let [y {t[0]} x y] (= y {t[1]}))"),
        two.map(lambda t: f"[{t[0]} {t[1]}]"),
        two.map(lambda t: f"{{:k {t[0]} :v {t[1]}}}"),
        two.map(lambda t: f"(:a {t[0]} {t[1]})"),
    )


bodies = st.recursive(_ATOMS, _node, max_leaves=8)

_VALUES = st.sampled_from([
    "0", "1", "-1", "3", "2.5", "1.0", "##NaN", "##Inf", '"a"', '"b"', ":a", "nil", "true",
    "false", "{:a 1 :b 2}", '{:a "a"}', "{:b nil}", "[1 2 3]", "#{:a}", "'(1)", "[]",
])
items = st.lists(_VALUES, min_size=0, max_size=6).map(lambda xs: "[" + " ".join(xs) + "]")

_USES = [
    "((fn [x] {body}) (first {items}))",
    "(mapv (fn [x] {body}) {items})",
    "(vec (filter (fn [x] {body}) {items}))",
    "(vec (remove (fn [x] {body}) {items}))",
    "(group-by (fn [x] {body}) {items})",
    "(let [n 2] (mapv (fn [x] (list n {body})) {items}))",
    "(defn f [x] {body}) (mapv f {items})",
    "(reduce (fn [acc x] [acc {body}]) nil {items})",
    "[(some (fn [x] {body}) {items}) (every? (fn [x] {body}) {items})]",
    "(vec (for [x {items} :let [y {body}] :when {body}] [x y]))",
    "(let [n 2] (vec (for [x {items} :when (= n 2)] (list n {body}))))",
    "(let [n 2] ((fn [] (for [x {items}] [n {body}]))))",
    "(reduce (fn [acc x] (if (= acc 1) (reduced [x]) {body})) {items})",
    # parameters destructured (the prologue is compiled as a let)
    "(mapv (fn [{{:keys [a b] :as x}}] [a b {body}]) {items})",
    "(vec (filter (fn [{{a :a :or {{a 5}} :as x}}] (and a {body})) {items}))",
    "(defn g [{{:keys [a]}} x] [a {body}]) (mapv #(g % %) {items})",
    "(mapv (fn [[p q :as x]] [p q {body}]) {items})",
    "(reduce (fn [acc {{:keys [a] :as x}}] [acc a {body}]) nil {items})",
    "(mapv (fn [{{:strs [a] b :b :or {{b 1}} :as x}}] [a b {body}]) {items})",
    "(mapv (fn [{{[p] :a :as x}}] [p {body}]) {items})",
    "(mapv (fn [x] (assoc x :c {body})) {items})",
    "(def g {{:a 2}}) (mapv (fn [x] [(get g :a) (:a g 0) {body}]) {items})",
    # a destructuring for binding (its prologue runs as binds in the comprehension)
    "(vec (for [{{:keys [a b] :as x}} {items} :when {body}] [a b]))",
    "(vec (for [[p q :as x] {items} :let [y {body}]] [p q y]))",
]


def _run(source: str, source_fns: bool) -> ptclisp.Result:
    """Every fn that can be a source fn is one at once (``eager``), or none is (``never``)."""
    mode = partial(_compiler.compile_program, source_fns="eager" if source_fns else "never")
    with patch.object(_compiler, "compile_program", mode):
        return ptclisp.run(source, limits=Limits(max_steps=200_000, timeout_s=30))


def _stopped_earlier_in_a_batch(a: ptclisp.Result, b: ptclisp.Result) -> bool:
    """Both runs ran out of steps, the source fns' run (``a``) with fewer counted. A batch
    charges its items' steps up front: when a builtin inside the body also charges steps
    (printing, ``=``), a run over its budget stops earlier in the batch than call by call —
    same code and message, a smaller step count, maybe a position (decisions.md, "A step limit
    inside a kernel batch"). Equal counts must agree in full."""
    if a.error is None or b.error is None or not a.error.code == b.error.code == "step_limit":
        return False
    assert a.error.message == b.error.message
    return a.steps < b.steps


def _same(a: ptclisp.Result, b: ptclisp.Result) -> None:
    assert (a.error is None) == (b.error is None), (a.error, b.error)
    if _stopped_earlier_in_a_batch(a, b):
        return
    if a.error is not None:
        assert a.error.to_dict() == b.error.to_dict()
    else:
        # pr-str tells apart 1 and 1.0, lists and vectors, and compares NaN as text
        assert ptclisp.pr_str(a.value) == ptclisp.pr_str(b.value)
        assert type(a.value) is type(b.value)
    assert a.steps == b.steps


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, use=st.sampled_from(_USES), coll=items)
def test_source_fns_agree_with_closures(body: str, use: str, coll: str) -> None:
    source = use.format(body=body, items=coll)
    _same(_run(source, source_fns=True), _run(source, source_fns=False))


@settings(max_examples=30, deadline=None)
@given(body=bodies, n=st.integers(4_000, 9_000))
def test_kernel_batches_agree_with_closures(body: str, n: int) -> None:
    """Collections longer than one kernel batch (4,096 items)."""
    source = (f"(let [xs (mapv (fn [i] (if (even? i) {{:a i :b (str i)}} i)) (range {n}))] "
              f"[(count (filter (fn [x] {body}) xs)) (mapv (fn [x] {body}) xs) "
              f"(count (for [x xs :when {body}] x))])")
    _same(_run(source, source_fns=True), _run(source, source_fns=False))


@settings(max_examples=30, deadline=None)
@given(body=bodies, n=st.integers(1_000, 5_000))
def test_destructuring_kernels_agree_with_closures(body: str, n: int) -> None:
    """Destructuring fns over tables long enough for kernels (tiered compile, as runs do)."""
    source = (f"(let [xs (mapv (fn [i] (if (zero? (mod i 7)) i {{:a i :b (str i)}})) "
              f"(range {n}))] [(mapv (fn [{{:keys [a b] :as x}}] [a {body}]) xs) "
              f"(count (filter (fn [{{:keys [a]}}] (and a (odd? a))) xs)) "
              f"(vec (for [{{:keys [a b] :as x}} xs :when (and a {body})] [b {body}])) "
              f"(vec (for [[p q] (mapv (fn [x] [x x]) xs) :let [x p]] [q {body}]))])")
    _same(_run(source, source_fns=True), _run(source, source_fns=False))


@settings(max_examples=20, deadline=None)
@given(body=bodies, n=st.integers(1_000, 3_000), memory=st.integers(200_000, 2_000_000))
def test_assoc_kernels_hit_limits_where_closures_do(body: str, n: int, memory: int) -> None:
    """``assoc`` inlined in a kernel charges as the builtin does: the same limit error (code,
    position) after the same steps."""
    source = (f"(let [xs (mapv (fn [i] {{:a i :b (str i)}}) (range {n}))] "
              f"(count (mapv (fn [{{:keys [a] :as x}}] (assoc x :c [a {body}])) xs)) "
              f"(mapv (fn [x] (assoc x :e {body})) xs))")

    def run(source_fns: bool) -> ptclisp.Result:
        mode = partial(_compiler.compile_program, source_fns="eager" if source_fns else "never")
        with patch.object(_compiler, "compile_program", mode):
            return ptclisp.run(source, limits=Limits(max_steps=200_000, timeout_s=30,
                                                     max_memory=memory))

    _same(run(True), run(False))


@settings(max_examples=40, deadline=None)
@given(body=bodies, steps=st.integers(200, 6_000), memory=st.integers(20_000, 400_000),
       key=st.sampled_from([":c", '"c"', "0", "2.5", "nil", "[1]", "i"]))
def test_assoc_sites_hit_limits_where_closures_do(body: str, steps: int, memory: int,
                                                  key: str) -> None:
    """``assoc`` in a source fn called once per iteration, its key a constant of each kind
    (a constant simple key is the site's own, issue 15 ``real4``) or not: the same limit error
    (code, position) after the same steps as closures."""
    source = (f"(defn f [x i] (assoc x {key} [i {body}])) "
              f"(loop [i 0 m {{:a 1 :b \"b\"}}] (if (< i 100000) (recur (inc i) (f m i)) m))")

    def run(source_fns: bool) -> ptclisp.Result:
        mode = partial(_compiler.compile_program, source_fns="eager" if source_fns else "never")
        with patch.object(_compiler, "compile_program", mode):
            return ptclisp.run(source, limits=Limits(max_steps=steps, max_memory=memory,
                                                     timeout_s=30))

    a, b = run(True), run(False)
    assert a.error is not None  # a limit, or the body's own error, at the same point
    _same(a, b)


def _run_hot(source: str, hot_calls: int) -> ptclisp.Result:
    """The default tiered compile, with closures handing over to source fns after
    ``hot_calls`` calls (``HOT_CALLS``)."""
    with patch.object(_source, "HOT_CALLS", hot_calls):
        return ptclisp.run(source, limits=Limits(max_steps=200_000, timeout_s=30))


_HOT_USES = [*_USES,
             "(defn h [x n] (if (< n 1) {body} (h x (dec n)))) (mapv #(h % 3) {items})",
             ("(defn h [x] (if (number? x) (if (< x 3) (h (inc x)) {body}) {body})) "
              "(mapv h {items})"),
             "(let [k (fn [x] {body})] [(k 1) (k :a) (mapv k {items}) (= k k)])"]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, use=st.sampled_from(_HOT_USES), coll=items, hot_calls=st.integers(1, 3))
def test_hot_fns_agree_with_closures(body: str, use: str, coll: str, hot_calls: int) -> None:
    """Closures handing over to source fns mid-run: same values, errors and steps."""
    source = use.format(body=body, items=coll)
    _same(_run_hot(source, hot_calls), _run(source, source_fns=False))


def test_a_hot_named_fn_is_still_itself() -> None:
    source = "(defn f [x] (if (< x 50) (f (inc x)) f)) [(= (f 0) f) (f 0)]"
    result = _run_hot(source, 5)
    assert result.ok and result.value[0] is True
    assert result.value[1].__code__.co_filename != "<ptclisp fn hot>"
    deep = _run_hot("(defn f [x] (if (< x 10000) (f (inc x)) x)) (f 0)", 5)
    assert deep.error is not None and deep.error.code == "depth_limit"


def test_destructuring_fns_take_the_source_path() -> None:
    for fn_text in ["(fn [{:keys [a b] :as o}] (assoc o :s (+ a b)))",
                    "(fn [[a b]] (* a b))", "(fn [acc {:keys [v]}] (+ acc v))"]:
        fn = _run(fn_text, source_fns=True).value
        assert fn.__code__.co_filename.startswith("<ptclisp fn"), fn_text
        kind = "fold" if fn_text.startswith("(fn [acc") else "each"
        assert fn.ptclisp_kernels.kernel(kind, 0) is not None, fn_text


def test_generated_bodies_take_the_source_path() -> None:
    """The property above compares two paths only if the generated fns are source fns."""
    for body in ["(= (:a x) 1)", "(if (and x (< x 2)) [x {:k x}] (str x))",
                 "(let [y (inc x)] (or (nil? y) (:b x 0)))", "(do x (get x :a))"]:
        fn = _run(f"(fn [x] {body})", source_fns=True).value
        assert fn.__code__.co_filename.startswith("<ptclisp fn"), body
        assert fn.ptclisp_kernels.kernel("keep", 0) is not None, body


# ---------------------------------------------------------------- self-recursive fns

_REC_USES = [
    "(defn h [x n] (if (< n 1) {body} [(h x (dec n)) {body}])) (h (first {items}) 3)",
    "(defn h [x n] (if (< n 1) {body} (+ (h x (dec n)) (h x (- n 2))))) (h (first {items}) 5)",
    "(defn h [x n] (if (< n 1) {body} (h (h x (dec n)) (dec n)))) (h (first {items}) 3)",
    "(defn h [x] (if (number? x) (if (< x 3) (h (inc x)) {body}) {body})) (mapv h {items})",
    "(defn h [x] (if (and (number? x) (< x 60)) (h (inc x)) {body})) (h (first {items}))",
    "(defn h [n] (if (< n 2) n (+ (h (- n 1)) (h (- n 2))))) [(h 12) (mapv (fn [x] {body}) {items})]",
    "(defn h [n] (if (< n 2) (let [x n] {body}) (+ (h (- n 1)) (h (- n 2))))) (h 9)",
    "(defn h [x n] (if (< n 1) {{:v {body}}} (h {{:v x}} (dec n)))) (h (first {items}) 4)",
    "(let [k 3] (defn h [x n] (if (< n k) (h [x {body}] (inc n)) x))) (h (first {items}) 0)",
    "(defn h [] (h)) (h)",
    # calls out through a builtin (apply) that calls h: the depth must be on the meter
    ("(defn h [x] (if (and (vector? x) (seq x)) [(apply h [(first x)]) (h (vec (rest x)))] "
     "{body})) (h [{items} [{items} [{items}]]])"),
    "(defn h [n] (if (< n 3) (h (inc n)) (h :x))) (h 0)",
]
_REC_LIMITS = st.sampled_from([(200_000, 400), (300, 400), (57, 400), (200_000, 7),
                               (200_000, 3), (1_100, 60)])


def _echo(args: dict[str, object]) -> dict[str, object]:
    return args


def _run_limited(source: str, mode: str, steps: int, depth: int, hot: int = 2
                 ) -> ptclisp.Result:
    """``mode``: eager or never (as ``_run``), or hot (tiered: fns hot after ``hot`` calls,
    loops after ``hot`` iterations). ``tool/echo`` returns its arguments."""
    limits = Limits(max_steps=steps, max_depth=depth, timeout_s=30)
    tools = {"echo": _echo}
    if mode == "hot":
        with patch.object(_source, "HOT_CALLS", hot), patch.object(_source, "HOT_LOOPS", hot):
            return ptclisp.run(source, limits=limits, tools=tools)
    if mode == "self-hot":  # only fns that call themselves hand over early (HOT_SELF_CALLS)
        with patch.object(_source, "HOT_SELF_CALLS", hot):
            return ptclisp.run(source, limits=limits, tools=tools)
    compile_mode = partial(_compiler.compile_program, source_fns=mode)
    with patch.object(_compiler, "compile_program", compile_mode):
        return ptclisp.run(source, limits=limits, tools=tools)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, use=st.sampled_from(_REC_USES), coll=items, limits=_REC_LIMITS,
       mode=st.sampled_from(["eager", "hot"]))
def test_self_recursive_fns_agree_with_closures(body: str, use: str, coll: str,
                                                limits: tuple[int, int], mode: str) -> None:
    """Direct self-calls (one Python frame per call, depth kept in a parameter): same values,
    errors (step and depth limits inside the recursion included) and steps as closures."""
    source = use.format(body=body, items=coll)
    _same(_run_limited(source, mode, *limits), _run_limited(source, "never", *limits))


def test_self_recursive_fns_take_the_direct_path() -> None:
    """The property above compares two paths only if the recursive fns call themselves
    directly (``rec``), with and without keeping the depth on the meter."""
    for use in ["(defn h [n] (if (< n 2) n (+ (h (- n 1)) (h (- n 2)))))",
                "(defn h [n] (if (< n 2) (str n) (h (dec n))))"]:
        fn = _run(use + " h", source_fns=True).value
        assert "rec" in fn.__code__.co_freevars, use
    fib = _run("(defn h [n] (if (< n 2) n (+ (h (- n 1)) (h (- n 2))))) h", True).value
    assert fib.__code__.co_filename.startswith("<ptclisp fn")


# ---------------------------------------------------------------- int copies of recursive fns

# int expressions over the parameter n (and a few leaves that are not ints: the body is then
# not certainly an int and rec keeps only the type-tested copy)
_INT_ATOMS = st.sampled_from(["n", "n", "0", "1", "-2", "7", "2.5", "nil"])


def _int_node(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    two = st.tuples(children, children)
    return st.one_of(
        st.tuples(st.sampled_from(["+", "-"]), two).map(lambda t: f"({t[0]} {t[1][0]} {t[1][1]})"),
        st.tuples(st.sampled_from(["inc", "dec"]), children).map(lambda t: f"({t[0]} {t[1]})"),
        st.tuples(st.sampled_from(["<", ">", "<="]), two, children).map(
            lambda t: f"(if ({t[0]} {t[1][0]} {t[1][1]}) {t[2]} n)"),
        two.map(lambda t: f"(do {t[0]} {t[1]})"),
    )


int_bodies = st.recursive(_INT_ATOMS, _int_node, max_leaves=6)
_INT_ARGS = st.sampled_from(["0", "1", "5", "9", "-3", "2.5", "nil", "true", '"a"', "##NaN",
                             "100000000000000000000000"])
_INT_USES = [
    "(defn h [n] (if (< n 2) {body} (+ (h (- n 1)) (h (- n 2))))) (h {arg})",
    "(defn h [n] (if (< n 1) {body} (- (h (dec n)) {body}))) [(h {arg}) (h 4)]",
    "(defn h [n] (if (> n 100) {body} (h (+ n (inc n))))) (h {arg})",
    "(defn h [n] (if (<= n 0) {body} (h (h (dec n))))) (h {arg})",
    "(defn h [n m] (if (< n 1) {body} (+ m (h (dec n) (inc m))))) (h {arg} 2)",
    "(defn h [n] (if (< n 3) (do (h (dec n)) {body}) (h (- n 1)))) (h {arg})",
]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=int_bodies, use=st.sampled_from(_INT_USES), arg=_INT_ARGS, limits=_REC_LIMITS,
       mode=st.sampled_from(["eager", "hot", "self-hot"]))
def test_int_copies_agree_with_closures(body: str, use: str, arg: str,
                                        limits: tuple[int, int], mode: str) -> None:
    """A recursive fn whose body certainly yields an int for int arguments runs a copy with
    plain int arithmetic for them: same values, errors and steps as closures, for ints, big
    ints and arguments of other types, at step and depth limits."""
    source = use.format(body=body, arg=arg)
    _same(_run_limited(source, mode, *limits), _run_limited(source, "never", *limits))


def test_int_copies_are_made() -> None:
    """The property above compares the int copy only if it is made: fib's has no type test
    left, and a body that may yield a float gets none."""
    texts: list[str] = []
    real = _source._compile_module

    def spy(text: str, name: str) -> object:
        texts.append(text)
        return real(text, name)

    with patch.object(_source, "_compile_module", spy), patch.object(_source, "_BY_TEXT", {}):
        fib = "(defn h [n] (if (< n 2) n (+ (h (- n 1)) (h (- n 2)))))"
        assert _run(fib + " (h 15)", source_fns=True).value == 610
        assert _run(fib.replace("(< n 2) n", "(< n 2) 0.5") + " (h 3)", source_fns=True).ok
    # the int copy's self-calls enter rec_i, which tests no type
    assert "return (v1 if (v1 < 2) else (rec_i((v1 - 1), m, d, k4) + rec_i((v1 - 2)" in texts[0]
    assert "def rec_i(v1, m, d, at_):" in texts[0]
    assert "rec_i" not in texts[1] and "if type(v1) is int:" in texts[1]


# ---------------------------------------------------------------- loops as Python source

_LOOP_USES = [
    "(loop [x (first {items}) n 0] (if (< n 4) (recur {body} (inc n)) [x n]))",
    ("(loop [i 0 acc []] (if (< i (count {items})) (recur (inc i) (conj acc (let [x i] {body}))) "
    "acc))"),
    "(let [n 2] (loop [x (first {items}) i 0] (if (and (< i 3) {body}) (recur [x n] (inc i)) x)))",
    "(defn g [y] (loop [x y i 0] (if (< i 3) (recur {body} (inc i)) x))) (mapv g {items})",
    "(loop [x (first {items}) i 0] (let [y {body}] (if (< i 5) (recur y (inc i)) [x y])))",
    ("(loop [x (first {items}) i 0] (cond (> i 4) x {body} (recur i (inc i)) :else "
    "(recur x (+ i 2))))"),
    "(loop [x (first {items})] (if (number? x) (if (< x 50) (recur (inc x)) x) {body}))",
    ("(loop [i 0] (if (< i 4) (recur (inc i)) (loop [x (first {items}) j 0] "
    "(if (< j 3) (recur {body} (inc j)) x))))"),
    "(loop [[a b] [1 2] i 0] (let [x a] (if (< i 3) (recur [b {body}] (inc i)) a)))",
    ("(loop [i 0 acc 0 x (first {items})] (if (< i 6) (recur (inc i) (+ acc (:v (tool/echo "
    "{{:v i}}))) {body}) [acc x]))"),
    "(let [x (first {items})] (loop [i 0] (if (< i 30) (recur (+ i (count (str {body})))) i)))",
]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, use=st.sampled_from(_LOOP_USES), coll=items, limits=_REC_LIMITS,
       hot=st.integers(1, 3))
def test_source_loops_agree_with_closures(body: str, use: str, coll: str,
                                          limits: tuple[int, int], hot: int) -> None:
    """Loops handing over to Python source after ``hot`` iterations: same values, errors
    (step limits inside the loop included, at the loop's position) and steps."""
    source = use.format(body=body, items=coll)
    _same(_run_limited(source, "hot", *limits, hot=hot), _run_limited(source, "never", *limits))


def test_loops_take_the_source_path() -> None:
    """The property above compares two paths only if its loops become Python source."""
    made: list[object] = []
    real = _source.loop_source

    def spy(compiler: object, node: object) -> object:
        make = real(compiler, node)  # type: ignore[arg-type]
        if make is None:
            return None

        def tracked() -> object:
            loop = make()
            made.append(loop)
            return loop
        return tracked

    with patch.object(_compiler._source, "loop_source", spy):
        result = _run_limited(_LOOP_USES[0].format(body="(inc x)", items="[1]"), "hot", 10_000,
                              100, hot=1)
    assert result.ok and list(result.value) == [5, 4]
    assert made and all(loop is not None for loop in made)


# ---------------------------------------------------------------- calls between compiled fns

_CROSS_USES = [
    # mutual recursion
    ("(defn ev [x n] (if (< n 1) {body} (od x (dec n)))) "
     "(defn od [x n] (if (< n 1) [x {body}] (ev x (dec n)))) (mapv #(ev % 5) {items})"),
    ("(defn p [n] (if (< n 1) 0 (inc (q (dec n))))) (defn q [n] (if (< n 1) 0 (inc (p (dec n))))) "
     "[(p 40) (mapv (fn [x] {body}) {items})]"),
    ("(defn a [n] (if (< n 2) n (+ (b (- n 1)) (b (- n 2))))) "
     "(defn b [n] (if (< n 2) (let [x n] {body}) (+ (a (- n 1)) (a (- n 2))))) (a 8)"),
    # a helper called from fns, from a loop and from a kernel
    "(defn g [x] {body}) (defn k [x] [(g x) (g [x])]) (mapv k {items})",
    ("(defn g [x] {body}) (loop [i 0 acc []] (if (< i (count {items})) "
     "(recur (inc i) (conj acc (g (nth {items} i)))) acc))"),
    "(defn g [x] {body}) (vec (for [x {items} :let [y (g x)]] [y (g y)]))",
    # redefinition mid-program: the compiled sites must call the new value
    ("(defn g [x] {body}) (defn k [x] (g x)) (def r1 (mapv k {items})) "
     "(def g (fn [x] [x {body}])) (def r2 (mapv k {items})) (def g str) [r1 r2 (mapv k {items})]"),
    "(defn g [x] {body}) (defn k [x] (g x)) (def r1 (mapv k {items})) (def g 7) [r1 (k 1)]",
    # fns passed as values, one site calling fns, builtins, keywords and maps
    ("(defn app [f x] (f x)) (defn g [x] {body}) "
     "[(mapv #(app g %) {items}) (mapv #(app str %) {items}) (mapv #(app :a %) {items}) "
     "(mapv #(app {{1 :one}} %) {items}) (mapv #(app g %) {items})]"),
    "(defn app [f x] (f x x)) (defn g [x] {body}) (mapv #(app g %) {items})",
    "(let [h (fn [x] {body})] (defn k [x] [(h x) (h x)])) (mapv k {items})",
    # recursion through higher-order fns
    "(defn walk [x] (if (vector? x) (mapv walk x) {body})) (walk [{items} [{items} [1 {items}]]])",
    ("(defn walk [x n] (if (< n 1) {body} [(apply walk [x (dec n)]) (walk [x] (dec n))])) "
     "(walk (first {items}) 3)"),
    # kernels at the depth limit: the first call's step is charged before its depth check,
    # and a loop over no item calls nothing (so checks nothing)
    ("(defn walk [x n] (if (< n 1) {body} (reduce (fn [acc y] [acc (walk y (dec n))]) nil [x x]))) "
     "(walk (first {items}) 3)"),
    ("(defn walk [x] (if (vector? x) [(mapv walk x) (mapv walk []) (some walk []) "
     "(filter walk []) (reduce (fn [a y] (walk y)) 0 [])] {body})) (walk [{items} [{items}]])"),
]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies, use=st.sampled_from(_CROSS_USES), coll=items, limits=_REC_LIMITS,
       mode=st.sampled_from(["eager", "hot"]), hot=st.integers(1, 3))
def test_calls_between_compiled_fns_agree_with_closures(body: str, use: str, coll: str,
                                                        limits: tuple[int, int], mode: str,
                                                        hot: int) -> None:
    """Compiled calls of fns held by names enter the callee's entry when it has one: same
    values, errors (step and depth limits inside mutual recursion included) and steps as
    closures, across redefinitions, with fns passed as values, through higher-order fns."""
    source = use.format(body=body, items=coll)
    _same(_run_limited(source, mode, *limits, hot=hot), _run_limited(source, "never", *limits))


def test_calls_between_compiled_fns_take_the_entries() -> None:
    """The property above compares two paths only if compiled calls reach the entries: a
    hot mutual recursion calls the other fn's entry without its closure."""
    from ptclisp._compiler import emitter as _emitter

    misses: list[str] = []
    real = _emitter.entry_miss

    def counting(ctx: object, site: object) -> object:
        miss = real(ctx, site)  # type: ignore[arg-type]

        def counted(holder: list[object], g: object, *rest: object) -> object:
            misses.append(getattr(g, "__name__", "?"))
            return miss(holder, g, *rest)
        return counted

    source = ("(defn a [n] (if (< n 2) n (+ (b (- n 1)) (b (- n 2))))) "
              "(defn b [n] (if (< n 2) n (+ (a (- n 1)) (a (- n 2))))) (a 18)")
    with patch.object(_emitter, "entry_miss", counting):
        result = _run_limited(source, "hot", 10**6, 400, hot=3)
    assert result.ok and result.value == 2584
    closures = _run_limited(source, "never", 10**6, 400)
    assert result.steps == closures.steps
    assert 0 < len(misses) < 20, len(misses)  # each site caches its callee's entry once hot


_DEEP_USES = [
    "(defn h [n] (if (< n {n}) (inc (h (inc n))) n)) (h 0)",
    "(defn h [n] (if (< n {n}) (h (inc n)) [n])) (h 0)",
    "(defn h [x n] (if (< n {n}) (h [x] (inc n)) (count x))) (h 1 0)",
    ("(defn p [n] (if (< n {n}) (inc (q (inc n))) n)) "
     "(defn q [n] (if (< n {n}) (inc (p (inc n))) n)) (p 0)"),
    "(defn h [n] (if (< n {n}) (if (odd? n) (apply h [(inc n)]) (h (inc n))) n)) (h 0)",
    "(defn g [n] (h n)) (defn h [n] (if (< n {n}) (g (inc n)) n)) (mapv g [0 5])",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(use=st.sampled_from(_DEEP_USES), n=st.sampled_from([300, 511, 512, 513, 700, 1100, 2100]),
       depth=st.sampled_from([400, 512, 513, 600, 1024, 1025, 3000]),
       steps=st.sampled_from([200_000, 1_500, 1_023]), mode=st.sampled_from(["eager", "hot"]))
def test_deep_recursion_agrees_with_closures(use: str, n: int, depth: int, steps: int,
                                             mode: str) -> None:
    """Recursions deeper than the meter's first table of levels (512): the table grows while
    calls go deeper, and the depth limit is met at the same call, with the same steps, as by
    closures — also when the step limit is met first."""
    source = use.format(n=n)
    _same(_run_limited(source, mode, steps, depth), _run_limited(source, "never", steps, depth))
