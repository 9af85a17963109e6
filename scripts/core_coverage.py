"""Coverage of clojure.core's pure functions and macros by ptclisp, written into
docs/conformance.md (between the ``core-coverage`` markers).

    python scripts/core_coverage.py          # rewrite the block
    python scripts/core_coverage.py --check  # exit 1 if the block is out of date (a test does this)

The list of clojure.core's public vars comes from Clojure 1.11.1 itself
(``tools/clojure_oracle/core_publics.clj`` → ``tests/conformance/clojure_core_publics.txt``).
A name counts as *pure* unless it is listed in ``EXCLUDED`` below with the reason it cannot be part
of a sandboxed, deterministic language; a pure name is *covered* when it is a builtin, a special
form or macro of the analyzer, or a run-level function.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLICS = ROOT / "tests" / "conformance" / "clojure_core_publics.txt"
TARGET = ROOT / "docs" / "conformance.md"
BEGIN, END = "<!-- core-coverage:begin -->", "<!-- core-coverage:end -->"

_STATE = """atom swap! reset! swap-vals! reset-vals! compare-and-set! add-watch remove-watch
set-validator! get-validator volatile! volatile? vreset! vswap! ref ref-set alter commute ensure
dosync sync io! ref-history-count ref-max-history ref-min-history agent send send-off send-via await
await-for await1 agent-error agent-errors clear-agent-errors error-handler error-mode restart-agent
set-error-handler! set-error-mode! shutdown-agents release-pending-sends set-agent-send-executor!
set-agent-send-off-executor! deref realized? delay delay? force promise deliver future future-call
future-cancel future-cancelled? future-done? future? add-tap remove-tap tap> transient persistent!
conj! assoc! dissoc! disj! pop! locking while with-local-vars var-get var-set alter-var-root
alter-meta! reset-meta! seque pvalues"""
_IO = """print println prn pr printf newline flush print-method print-dup print-ctor print-simple
read read-line read-string read+string slurp spit load load-file load-reader load-string line-seq
file-seq with-open with-out-str with-in-str PrintWriter-on xml-seq resultset-seq enumeration-seq
iterator-seq"""
_NAMESPACES = """ns in-ns require use import refer refer-clojure alias all-ns create-ns find-ns
the-ns ns-aliases ns-imports ns-interns ns-map ns-name ns-publics ns-refers ns-resolve ns-unalias
ns-unmap remove-ns find-var intern resolve requiring-resolve loaded-libs compile gen-class
gen-interface eval macroexpand macroexpand-1 defmacro definline binding with-bindings
with-bindings* with-redefs with-redefs-fn get-thread-bindings push-thread-bindings
pop-thread-bindings bound-fn bound-fn* bound? thread-bound? var? special-symbol? destructure munge
namespace-munge find-keyword add-classpath with-loading-context
seq-to-map-for-destructuring test"""
_HOST = """proxy reify deftype defrecord defprotocol definterface extend extend-type extend-protocol
extenders extends? satisfies? find-protocol-impl find-protocol-method class type instance? cast
bean make-array into-array to-array to-array-2d aget aset aset-boolean aset-byte aset-char
aset-double aset-float aset-int aset-long aset-short alength aclone amap areduce boolean-array
byte-array char-array double-array float-array int-array long-array object-array short-array
booleans bytes chars doubles floats ints longs shorts bytes? memfn doto .. ->ArrayChunk ->Eduction
->Vec ->VecNode ->VecSeq -cache-protocol-fn -reset-methods accessor create-struct defstruct struct
struct-map construct-proxy get-proxy-class init-proxy proxy-call-with-super proxy-mappings
proxy-name proxy-super update-proxy method-sig StackTraceElement->vec Throwable->map vector-of
uri? uuid? inst? inst-ms inst-ms* parse-uuid tagged-literal tagged-literal? reader-conditional
reader-conditional? record? class? re-matcher re-groups char-escape-string char-name-string
unchecked-byte unchecked-char unchecked-short unchecked-int unchecked-long unchecked-float
unchecked-double unchecked-add-int unchecked-subtract-int unchecked-multiply-int
unchecked-divide-int unchecked-remainder-int unchecked-inc-int unchecked-dec-int
unchecked-negate-int"""
_HIERARCHY = """defmulti defmethod get-method methods prefer-method prefers remove-method
remove-all-methods derive underive isa? parents ancestors descendants make-hierarchy supers bases"""
_NONDETERMINISTIC = "rand rand-int rand-nth shuffle random-sample random-uuid time"
_DESIGN = """ex-info ex-data ex-message ex-cause meta with-meta vary-meta numerator denominator
rationalize bigdec with-precision hash hash-combine hash-ordered-coll hash-unordered-coll
mix-collection-hash clojure-version chunk chunk-append chunk-buffer chunk-cons chunk-first
chunk-next chunk-rest chunked-seq? letfn"""

EXCLUDED: dict[str, str] = {}
for _names, _reason in (
    (_STATE, "mutable state, references, agents, futures or transients"),
    (_IO, "I/O and printing to streams (println/prn are run-level functions, counted apart)"),
    (_NAMESPACES, "namespaces, vars, eval and macros"),
    (_HOST, "Java types, arrays, protocols, records and host objects"),
    (_HIERARCHY, "multimethods and hierarchies"),
    (_NONDETERMINISTIC, "randomness or the clock (replay must be deterministic)"),
    (_DESIGN, ("left out by design: no exceptions/metadata/ratios/BigDecimal, host-specific "
               "hashes, chunked-seq internals, letfn")),
):
    for _n in _names.split():
        EXCLUDED[_n] = _reason

ALSO_COVERED = {"println", "print", "prn", "pr", "newline", "pcalls", "pmap"}
"""Run-level functions (``RUN_NAMES``) that are clojure.core names."""


def publics() -> list[tuple[str, str]]:
    rows = [line.split() for line in PUBLICS.read_text().splitlines() if line.strip()]
    return [(name, kind) for name, kind, _deprecated in rows]


def coverage() -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(covered pure names, missing pure names, excluded names by reason)."""
    sys.path.insert(0, str(ROOT))
    from ptclisp._analyzer import RUN_NAMES, SPECIAL_FORMS
    from ptclisp._core import BUILTINS

    have = set(BUILTINS) | set(SPECIAL_FORMS) | set(RUN_NAMES)
    covered, missing = [], []
    excluded: dict[str, list[str]] = {}
    for name, kind in publics():
        if kind == "var":
            continue  # dynamic vars and constants, not functions
        if name in EXCLUDED:
            excluded.setdefault(EXCLUDED[name], []).append(name)
            if name in have and name not in ALSO_COVERED:
                covered.append(name)  # provided anyway (e.g. deref's refusal is a builtin)
            continue
        (covered if name in have else missing).append(name)
    return covered, missing, excluded


def render() -> str:
    covered, missing, excluded = coverage()
    pure = len(covered) + len(missing)
    lines = [
        BEGIN,
        "<!-- generated by scripts/core_coverage.py; do not edit by hand -->",
        (f"**{len(covered)} of {pure}** pure clojure.core functions and macros are available "
         f"({100 * len(covered) / pure:.0f}%), counted from the {len(publics())} public vars of "
         "Clojure 1.11.1 (`tests/conformance/clojure_core_publics.txt`); dynamic vars and "
         f"constants are not counted, and {sum(map(len, excluded.values()))} names are not pure "
         "or are left out by design:"),
        "",
    ]
    for reason, names in excluded.items():
        lines.append(f"- {reason}: {len(names)} (`{'` `'.join(names[:8])}`"
                     f"{' …' if len(names) > 8 else ''})")
    lines += ["", f"Pure names not available yet ({len(missing)}): "
              + ", ".join(f"`{n}`" for n in missing) + ".", END]
    return "\n".join(lines)


def main() -> int:
    text = TARGET.read_text()
    if BEGIN not in text or END not in text:
        print(f"{TARGET} has no {BEGIN} … {END} block")
        return 1
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    updated = head + render() + tail
    if "--check" in sys.argv[1:]:
        if updated != text:
            print(f"{TARGET} is out of date: run python scripts/core_coverage.py")
            return 1
        return 0
    TARGET.write_text(updated)
    print(render())
    return 0


if __name__ == "__main__":
    sys.exit(main())
