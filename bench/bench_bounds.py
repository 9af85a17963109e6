"""Lower bounds for the tool-data rows of issue 15: what the least a safe conversion must do costs
in plain CPython, against the native pipelines' own time.

    python bench/bench_bounds.py            # print the table
    python bench/bench_bounds.py --write    # also replace "## Lower bounds" in docs/benchmarks.md

A tool's result becomes an immutable, checked and charged value: at the very least each row is
copied (the host may mutate its own dicts later) and each value's type is looked at (keys not even
counted). Neither is ptclisp code: each is the cheapest CPython expression of that step we found
(C loops only). The pipeline's own work then costs at least the native time, so a row can be no
faster than (copy + check + native) / native: past 3x, no conversion of ours reaches <= 3x.
"""

from __future__ import annotations

import datetime
import sys
from itertools import chain
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import _report  # noqa: E402
from bench_e2e import ORDERS, native_filter_sum, native_group_by, native_sort_top  # noqa: E402
from bench_language import best  # noqa: E402

ATOMS = frozenset({int, float, str, bool, type(None)})


def copy_rows() -> object:
    return [dict(r) for r in ORDERS]


def check_types() -> bool:
    return set(map(type, chain.from_iterable(map(dict.values, ORDERS)))) <= ATOMS


def main() -> None:
    natives = [("filter+sum", native_filter_sum), ("group-by (+ sums)", native_group_by),
               ("sort-by top-20", native_sort_top)]
    copy, check = best(copy_rows, repeat=15, number=5), best(check_types, repeat=15, number=5)
    lines = [("| native pipeline over 10,000 tool rows | native | 3x budget | copy each row "
              "| check each value's type | at least (copy + check + native) / native |"),
             "|---|---:|---:|---:|---:|---:|"]
    for name, fn in natives:
        native = best(fn, repeat=15, number=5)
        lines.append(f"| {name} | {native * 1e3:.3f} ms | {3 * native * 1e3:.3f} ms | "
                     f"{copy * 1e3:.3f} ms | {check * 1e3:.3f} ms | "
                     f"{(copy + check + native) / native:.1f}x |")
    body = "\n".join(lines)
    print(body)
    if "--write" in sys.argv:
        _report.write_section(
            "## Lower bounds for tool data (issue 15)\n\n"
            f"`python bench/bench_bounds.py` on {datetime.date.today()} ({_report.machine()}); "
            "CPU time, best of batches. Copying each row (`[dict(r) for r in rows]`) and "
            "looking at each value's type are the least a conversion to checked, immutable "
            "values does; each is written as the cheapest CPython expression, not ours.\n\n"
            + body + "\n")


if __name__ == "__main__":
    main()
