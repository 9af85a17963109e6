"""Type and logic predicates: nil? some? string? map? coll? fn? ..., not, boolean, identical?."""

from __future__ import annotations

import math
from typing import Any

from .._values.types import Char, Keyword, LazySeq, List, Map, Regex, Set, Symbol, Vector
from ._registry import builtin

_COLL_TYPES = (tuple, LazySeq, dict, frozenset)
_DATA_TYPES = (Keyword, Symbol, Map, Set, Vector)


def _type_pred(name: str, test: Any, doc: str) -> Any:
    def pred(x: Any) -> bool:
        return test(x)

    return builtin(name, arglists="([x])", doc=doc, category="predicates")(pred)


nil_p = _type_pred("nil?", lambda x: x is None, "True if x is nil.")
some_p = _type_pred("some?", lambda x: x is not None, "True if x is not nil.")
true_p = _type_pred("true?", lambda x: x is True, "True if x is exactly true.")
false_p = _type_pred("false?", lambda x: x is False, "True if x is exactly false.")
boolean_p = _type_pred("boolean?", lambda x: type(x) is bool, "True if x is true or false.")
string_p = _type_pred("string?", lambda x: type(x) is str, "True if x is a string.")
char_p = _type_pred("char?", lambda x: type(x) is Char, "True if x is a character.")
keyword_p = _type_pred("keyword?", lambda x: type(x) is Keyword, "True if x is a keyword.")
symbol_p = _type_pred("symbol?", lambda x: type(x) is Symbol, "True if x is a symbol.")
number_p = _type_pred("number?", lambda x: type(x) is int or type(x) is float,
                      "True if x is a number.")
integer_p = _type_pred("integer?", lambda x: type(x) is int, "True if x is an integer.")
int_p = _type_pred("int?", lambda x: type(x) is int, "True if x is an integer.")
float_p = _type_pred("float?", lambda x: type(x) is float, "True if x is a floating-point number.")
double_p = _type_pred("double?", lambda x: type(x) is float,
                      "True if x is a floating-point number.")
nat_int_p = _type_pred("nat-int?", lambda x: type(x) is int and x >= 0,
                       "True if x is an integer >= 0.")
pos_int_p = _type_pred("pos-int?", lambda x: type(x) is int and x > 0,
                       "True if x is an integer > 0.")
neg_int_p = _type_pred("neg-int?", lambda x: type(x) is int and x < 0,
                       "True if x is an integer < 0.")
nan_p = _type_pred("NaN?", lambda x: type(x) is float and x != x, "True if x is ##NaN.")
infinite_p = _type_pred("infinite?", lambda x: type(x) is float and math.isinf(x),
                        "True if x is ##Inf or ##-Inf.")
map_p = _type_pred("map?", lambda x: isinstance(x, dict), "True if x is a map.")
vector_p = _type_pred("vector?", lambda x: type(x) is Vector, "True if x is a vector.")
list_p = _type_pred("list?", lambda x: type(x) is List, "True if x is a list.")
set_p = _type_pred("set?", lambda x: isinstance(x, frozenset), "True if x is a set.")
seq_p = _type_pred("seq?", lambda x: type(x) is List or type(x) is LazySeq,
                   "True if x is a list or a seq (not a vector).")
coll_p = _type_pred("coll?", lambda x: isinstance(x, _COLL_TYPES),
                    "True if x is a collection (vector, list, seq, map, set).")
sequential_p = _type_pred("sequential?", lambda x: isinstance(x, (tuple, LazySeq)),
                          "True if x is a vector, list or seq.")
associative_p = _type_pred("associative?", lambda x: isinstance(x, dict) or type(x) is Vector,
                           "True if x is a map or a vector.")
regex_p = _type_pred("regex?", lambda x: type(x) is Regex, "True if x is a regex.")
fn_p = _type_pred("fn?", lambda x: callable(x) and not isinstance(x, _DATA_TYPES),
                  "True if x is a function (not a keyword, map, set or vector).")
ifn_p = _type_pred("ifn?", callable,
                   "True if x can be called (functions, keywords, maps, sets, vectors).")
counted_p = _type_pred("counted?", lambda x: isinstance(x, (tuple, dict, frozenset)),
                      "True if x is a collection whose count is immediate (not a lazy seq).")
seqable_p = _type_pred("seqable?", lambda x: x is None or isinstance(x, (*_COLL_TYPES, str)),
                       "True if (seq x) works: collections, strings and nil.")
any_p = _type_pred("any?", lambda x: True, "Always true.")


@builtin("not", arglists="([x])", doc="True if x is nil or false, else false.", category="logic")
def not_(x: Any) -> bool:
    return x is None or x is False


@builtin("boolean", arglists="([x])", doc="false for nil and false, true for anything else.",
         category="logic")
def boolean(x: Any) -> bool:
    return x is not None and x is not False


@builtin("identical?", arglists="([x y])", doc="True if x and y are the same object.",
         category="logic")
def identical_p(x: Any, y: Any) -> bool:
    return x is y
