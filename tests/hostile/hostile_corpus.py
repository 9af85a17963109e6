"""The hostile corpus: programs an attacker (or a confused model) might send, each with the error
codes it must end with — the same in every tier — under ``LIMITS``.

``D`` is 40 vectors sharing structure: 40 steps and a few KB to build, 2**40 leaves when walked.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from support import Endless

import ptclisp

D = "(loop [x [1] i 0] (if (< i 40) (recur [x x] (inc i)) x))"
D2 = "(loop [x [1] i 0] (if (< i 40) (recur [x x] (inc i)) x))"  # equal to D, not identical

LIMITS = ptclisp.Limits(timeout_s=1.0, max_memory=32 * 2**20)
WORK = frozenset({"step_limit", "timeout"})
"""CPU-bound work: whichever budget runs out first (a slower tier may reach the clock first)."""
BIG = frozenset({"step_limit", "timeout", "memory_limit"})


def _sleep_5(args: dict[str, Any]) -> int:
    time.sleep(5)
    return 1


def _sleep_01(args: dict[str, Any]) -> int:
    time.sleep(0.1)
    return 1


def _shared_list(levels: int) -> Any:
    x: Any = [1]
    for _ in range(levels):
        x = [x, x]
    return x


def _shared_map(levels: int) -> Any:
    x: Any = {"v": 1}
    for _ in range(levels):
        x = {"a": x, "b": x}
    return x


def _deep(levels: int) -> Any:
    x: Any = []
    for _ in range(levels):
        x = [x]
    return x


def _cyclic() -> Any:
    x: list[Any] = []
    x.append(x)
    return x


TEXT = "x" * 34_000_000
"""One string over the 32 MiB limit (shared by every case that needs one)."""

HOST_DATA: dict[str, Any] = {
    "shared": _shared_list(40),  # 2**40 leaves by sharing, 41 Python lists
    "shared_map": _shared_map(40),
    "shared_tuple": tuple(_shared_list(40)),
    "deep": _deep(100_000),
    "cyclic": _cyclic(),
    "long": [1] * 3_000_000,  # 24 MB of the host's, ~96 MB as a vector: refused before building
    "text": TEXT,
    "nested_text": {"a": TEXT},
    "rows_text": [{"id": i, "doc": TEXT if i == 7 else "short"} for i in range(10)],  # a table
    "list_text": ["a", 1, TEXT],
    "key_text": {TEXT: 1},
    "tuple_text": ({"a": [1, (TEXT,)]},),
    "tuple_keys": {(1, (2, 3)): 1, "s": [(4, 5)]},  # a tuple key came back a list (process tier)
    "odd_keys": {1.5: 1, float("nan"): 2, None: 3, True: 4},
    "bigint": 10**100_000,  # decimal text of over 4,300 digits is refused by Python itself
    "endless": Endless(),
}
"""Host data an attacker (or a buggy tool) might hand a run: each is a tool ``tool/<name>``
returning it, and a ``data/x`` input for the cases that name it."""

def _exits(args: dict[str, Any]) -> Any:
    raise SystemExit(3)


def _returning(value: Any) -> Any:
    def tool(args: dict[str, Any]) -> Any:
        return value

    return tool


TOOLS = {"sleep5": _sleep_5, "sleep01": _sleep_01, "echo": lambda args: args, "exits": _exits,
         "text100k": _returning("y" * 100_000),  # the same 100 KB string, every call
         **{name: _returning(value) for name, value in HOST_DATA.items()}}


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    source: str
    codes: frozenset[str]
    """Acceptable outcomes: error codes, or "ok"."""
    tools: bool = False
    data: str | None = None
    """The ``HOST_DATA`` entry passed as ``data/x``."""


def _case(name: str, source: str, *codes: str | frozenset[str], tools: bool = False,
          data: str | None = None) -> Case:
    flat: set[str] = set()
    for c in codes:
        flat |= {c} if isinstance(c, str) else set(c)
    return Case(name, source, frozenset(flat), tools, data)


CORPUS = [
    # structural equality, hashing and ordering over shared structure (issue 11, item 1)
    _case("eq-shared", f"(= {D} {D2})", WORK),
    _case("not-eq-shared", f"(not= {D} {D2})", WORK),
    _case("compare-shared", f"(compare {D} {D2})", WORK),
    _case("set-conj-shared", f"(let [a {D} b {D2}] (count (conj #{{a}} b)))", WORK),
    _case("distinct-shared", f"(count (distinct [{D} {D2}]))", WORK),
    _case("frequencies-shared", f"(count (frequencies [{D} {D2}]))", WORK),
    _case("group-by-shared", f"(count (group-by identity [{D} {D2}]))", WORK),
    _case("contains-shared", f"(contains? #{{{D}}} {D2})", WORK),
    _case("map-key-shared", f"(get {{{D} 1}} {D2})", WORK),
    _case("sort-shared", f"(count (sort [{D} {D2}]))", WORK),
    _case("sort-by-shared", f"(count (sort-by identity [{D} {D2}]))", WORK),
    # printing and results (item 2)
    _case("pr-str-shared", f"(count (pr-str {D}))", BIG),
    _case("str-shared", f"(count (str {D}))", BIG),
    _case("result-shared", D, "ok"),
    _case("repeated-big-string", '(repeat 1000 (apply str (repeat 20000 "x")))', "ok"),
    # big integers (item 3)
    _case("bignum-squaring", "(loop [x 3 i 0] (if (< i 40) (recur (* x x) (inc i)) i))", BIG),
    _case("bignum-squaring-fn",
          "(defn sq [x] (* x x)) (loop [x 3 i 0] (if (< i 40) (recur (sq x) (inc i)) i))", BIG),
    _case("bignum-apply", "(loop [x 3 i 0] (if (< i 40) (recur (apply * [x x]) (inc i)) i))", BIG),
    _case("factorial-str", "(count (str (reduce * (range 1 100000))))", BIG),
    _case("apply-mul-repeat", "(apply * (repeat 100000 99999999))", BIG),
    _case("bit-shift-grow", "(loop [x 1 i 0] (if (< i 2000000) (recur (bit-shift-left x 64) "
          "(inc i)) i))", BIG),
    # program text (item 4)
    _case("huge-source", "(def a 1)\n" * 800_000, "memory_limit"),
    _case("huge-string-literal", '(count "' + "x" * 2_000_000 + '")', "memory_limit"),
    _case("deep-nesting-literal", "[" * 100_000 + "]" * 100_000, "parse_error", "memory_limit"),
    _case("nul-in-source", "(+ 1 \x00 2)", "parse_error"),
    # synchronous tools (item 5)
    _case("tool-sleeps-past-deadline", "(tool/sleep5 {})", "timeout", tools=True),
    _case("tool-loop", "(loop [] (tool/sleep01 {}) (recur))", "timeout", tools=True),
    _case("tool-echo", "(:a (tool/echo {:a 41}))", "ok", tools=True),
    _case("tool-args-shared", f"(tool/echo {{:a {D}}})", WORK, "memory_limit", tools=True),
    _case("tool-args-repeated-text",
          '(tool/echo {:a (repeat 10000 (apply str (repeat 100000 "x")))})', BIG, tools=True),
    # literal argument maps built at the call site (issue 15, calls3), in a loop that goes hot
    _case("tool-literal-args-forever",
          "(loop [i 0 acc 0] (recur (inc i) (+ acc (:a (tool/echo {:a i :b \"x\"})))))",
          WORK, tools=True),
    # a value shared by many calls' records in process, copied per call across a tier boundary:
    # the records of calls answered by the host are not sent back by the guest (issue 11)
    _case("tool-loop-big-arg",
          '(let [t (apply str (repeat 100000 "x"))] '
          "(loop [i 0] (tool/echo {:a i :b t}) (recur (inc i))))", "memory_limit", tools=True),
    _case("tool-loop-big-result", "(loop [i 0] (tool/text100k {:a i}) (recur (inc i)))",
          "memory_limit", tools=True),
    _case("tool-loop-big-vector-arg",
          '(let [t (vec (repeat 100 (apply str (repeat 1000 "x"))))] '
          "(loop [i 0] (tool/echo {:a i :b t}) (recur (inc i))))", "memory_limit", tools=True),
    # strings (item 6)
    _case("join-huge-separator",
          '(count (clojure.string/join (apply str (repeat 100000 "x")) (range 1000)))', BIG),
    _case("str-repeat-huge", '(count (apply str (repeat 50000000 "x")))', BIG),
    _case("keyword-huge", '(keyword (apply str (repeat 40000000 "a")))', BIG),
    # surrogates (item 7)
    _case("lone-surrogate", '(count "a\ud800b")', "ok"),
    _case("lone-surrogate-result", '(str "a\ud800b" "c")', "ok"),
    # recursion, laziness, loops
    _case("deep-recursion", "(defn f [n] (inc (f n))) (f 1)", "depth_limit"),
    _case("mutual-recursion", "(defn f [n] (g n)) (defn g [n] (f n)) (f 1)",
          "depth_limit"),
    _case("infinite-loop", "(loop [i 0] (recur (inc i)))", WORK),
    _case("count-infinite", "(count (range))", BIG),
    _case("last-infinite-map", "(last (map inc (range)))", BIG),
    _case("vec-infinite", "(vec (repeat 1))", BIG),
    _case("huge-vector", "(count (vec (range 100000000)))", BIG),
    _case("output-flood", '(dotimes [i 10000000] (println "xxxxxxxxxxxxxxxx"))', "output_limit"),
    _case("sort-slow-comparator",
          "(sort (fn [a b] (loop [i 0] (if (< i 100000) (recur (inc i)) (compare a b)))) "
          "(range 1000))", WORK),
    _case("sort-recursive-comparator",
          "(defn c [a b] (c a b)) (sort c (range 10))", "depth_limit"),
    _case("regex-catastrophic",
          '(re-find #"(a|aa)+$" (str (apply str (repeat 60 "a")) "b"))', "timeout"),
    _case("regex-polynomial", '(re-find #"(x+x+)+y" (apply str (repeat 5000 "x")))', "timeout"),
    # Known tier difference: the wasm guest's stack runs out on a 100,000-deep value (clean
    # depth_limit) where the native tiers finish.
    _case("deep-nested-build",
          "(count (str (reduce (fn [acc _] [acc]) [] (range 100000))))", BIG | {"ok", "depth_limit"}),
    # host data with pathological sharing, depth or size: tool results and data/ inputs are
    # charged per container as they are converted (never expanded in full)
    _case("tool-result-shared", "(count (tool/shared {}))", BIG, tools=True),
    _case("tool-result-shared-map", "(count (tool/shared_map {}))", BIG, tools=True),
    _case("tool-result-shared-tuple", "(count (tool/shared_tuple {}))", BIG, tools=True),
    _case("tool-result-shared-in-loop", "(loop [i 0] (tool/shared {}) (recur (inc i)))", BIG,
          tools=True),
    _case("tool-result-deep", "(count (tool/deep {}))", "tool_error", tools=True),
    _case("tool-result-cyclic", "(count (tool/cyclic {}))", "tool_error", tools=True),
    _case("tool-result-long", "(count (tool/long {}))", BIG, tools=True),
    _case("data-shared", "(count data/x)", BIG, data="shared"),
    _case("data-shared-map", "(count data/x)", BIG, data="shared_map"),
    _case("data-long", "(count data/x)", BIG, data="long"),
    _case("data-deep", "(count data/x)", "invalid_args", data="deep"),
    _case("data-cyclic", "(count data/x)", "invalid_args", data="cyclic"),
    _case("pmap-tool-results-shared", "(count (pmap (fn [_] (tool/shared {})) (range 4)))", BIG,
          tools=True),
    _case("tool-result-huge-string", "(count (tool/text {}))", "memory_limit", tools=True),
    _case("data-huge-string", "(count data/x)", "memory_limit", data="text"),
    # a string over the limit inside a result or input: charged its length as it is converted
    # (in process, and on the outer tiers' hosts before anything is serialized)
    _case("tool-result-nested-huge-string", "(count (tool/nested_text {}))", "memory_limit",
          tools=True),
    _case("tool-result-rows-huge-string", "(count (tool/rows_text {}))", "memory_limit",
          tools=True),
    _case("tool-result-list-huge-string", "(count (tool/list_text {}))", "memory_limit",
          tools=True),
    _case("tool-result-huge-key", "(count (tool/key_text {}))", "memory_limit", tools=True),
    _case("tool-result-tuple-huge-string", "(count (tool/tuple_text {}))", "memory_limit",
          tools=True),
    _case("data-nested-huge-string", "(count data/x)", "memory_limit", data="nested_text"),
    _case("data-rows-huge-string", "(count data/x)", "memory_limit", data="rows_text"),
    _case("tool-result-endless-list", "(count (tool/endless {}))", BIG, tools=True),
    _case("data-endless-list", "(count data/x)", BIG, data="endless"),
    _case("tool-result-bigint", "(count (str (tool/bigint {})))", "ok", tools=True),
    _case("tool-result-bigint-returned", "(tool/bigint {})", "ok", tools=True),
    # more hunting (issue 11): nested laziness, walks over shared structure, text growth
    _case("lazy-map-nesting", "(count (reduce (fn [s _] (map inc s)) (range 10) (range 100000)))",
          BIG, "depth_limit"),
    _case("lazy-concat-nesting", "(count (reduce (fn [s _] (concat s [1])) [] (range 100000)))",
          BIG, "depth_limit"),
    _case("tree-seq-shared", f"(count (tree-seq vector? seq {D}))", BIG),
    _case("postwalk-shared", f"(count (clojure.walk/postwalk identity {D}))", BIG),
    _case("flatten-shared", f"(count (flatten {D}))", BIG),
    _case("deep-map-equality", "(let [m (reduce (fn [m _] {:a m}) {} (range 100000))] "
          "(= m (reduce (fn [m _] {:a m}) {} (range 100000))))", BIG, "depth_limit"),
    _case("assoc-in-deep-path", "(count (assoc-in {} (repeat 100000 :a) 1))", BIG, "depth_limit"),
    _case("format-huge-width", '(format "%0100000000d" 1)', "invalid_args"),
    _case("re-seq-empty-matches", '(count (re-seq #"" (apply str (repeat 10000000 "a"))))', BIG),
    _case("replace-empty-pattern",
          '(count (clojure.string/replace (apply str (repeat 1000000 "a")) "" "x"))', BIG),
    _case("replace-growth", '(count (clojure.string/replace (apply str (repeat 1000000 "a")) '
          '#"a" (apply str (repeat 1000 "b"))))', BIG),
    _case("str-doubling", '(loop [s "x"] (recur (str s s)))', BIG),
    _case("into-doubling", "(loop [v [1]] (recur (into v v)))", BIG),
    _case("nth-infinite", "(nth (range) 1000000000000)", BIG),
    _case("print-infinite", "(println (range))", BIG, "output_limit"),
    _case("eq-infinite", "(= (range) (range))", BIG),
    _case("sort-constant-comparator", "(count (sort (fn [a b] true) (range 1000)))", "ok"),
    _case("huge-int-literal", "(count (str " + "9" * 100_000 + "))", "ok", "memory_limit"),
    # a third round (issue 11): regex compilation, shared sets, odd host data, interning
    _case("regex-repeat-unrolled", '(re-find (re-pattern "a{1000000000}") "a")', "invalid_args"),
    _case("regex-nested-repeat", '(re-find (re-pattern "((a{1000}){1000}){1000}") "a")',
          "invalid_args"),
    _case("regex-literal-repeat", '(re-find #"x{99999999}" "x")', "parse_error"),
    _case("result-shared-sets", "(loop [x #{1} i 0] (if (< i 40) (recur #{x [x]} (inc i)) x))",
          "ok"),
    _case("count-shared-sets", "(count (str (loop [x #{1} i 0] (if (< i 40) (recur #{x {:k x}} "
          "(inc i)) x))))", BIG),
    _case("tool-result-tuple-keys", "(tool/tuple_keys {})", "ok", tools=True),
    _case("tool-result-odd-keys", "(count (tool/odd_keys {}))", "ok", tools=True),
    # a tool's sys.exit() is a failed call in every tier (before, the process tier raised
    # SystemExit out of run(), and in process it ended the run with internal_error)
    _case("tool-sys-exit", "(tool/exits {})", "tool_error", tools=True),
    _case("keyword-flood", '(count (doall (map #(keyword (str "k" %)) (range 3000000))))', BIG),
    _case("format-huge-precision", '(format "%.100000000f" 1.5)', "invalid_args"),
    _case("partial-nesting", "((reduce (fn [f _] (partial f)) + (range 100000)) 1)", BIG,
          "depth_limit"),
    _case("keywordize-shared", f"(count (clojure.walk/keywordize-keys {D}))", BIG),
    # a lazy seq read from inside its own realization: its cached items flow back into its
    # cache with no producer charging them (charged as re-reads since; before, a run without
    # tools never stopped in process and one with tools left its worker spinning)
    _case("lazy-self-cons", "(def s (lazy-seq (cons 1 s))) (count s)", BIG),
    _case("lazy-self-cons-tools", "(def s (lazy-seq (cons 1 s))) (tool/echo {}) (count s)", BIG,
          tools=True),
    _case("lazy-self-concat", "(def s (lazy-seq (concat [1] s))) (reduce + s)", BIG),
    _case("lazy-self-map", "(def s (lazy-seq (cons 1 (map inc s)))) (nth s 100000000)", BIG),
    _case("lazy-self-rest", "(def s (lazy-seq (cons 1 (rest s)))) (count s)", "invalid_args"),
    _case("get-in-huge-path", "(get-in {} (range 10000000))", BIG),
]
