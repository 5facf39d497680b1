"""JSON on the per-request and per-event path: orjson's speed, the standard library's results.

The stdlib's json is ~30x slower than orjson on a Sample's line and ~4x on an event's payload
(benchmarks/record_cpu.py). orjson differs from it in a few corners, so each is routed back:

- `loads`: orjson reads an integer past 64 bits as a float and refuses what json accepts
  (NaN, Infinity, 1e400, lone surrogates, a UTF-8 BOM, UTF-16): a payload with a run of 19
  or more digits, or one orjson refuses, is read by json instead. The result is the same
  value of the same type either way (tests/unit/core/test_fast_json.py).
- `dumps_line`: orjson refuses integers past 64 bits and lone surrogates: json writes
  those lines. Otherwise the text
  differs from json.dumps only in spelling (a float as 0.000015 rather than 1.5e-05,
  non-ASCII as UTF-8 rather than \\u escapes); it reads back to the same values.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

# 19 digits in a row may be an integer outside int64 (or a float orjson might round apart).
_LONG_DIGITS = re.compile(rb"\d{19}")


def loads(data: bytes) -> Any:
    """json.loads(data), faster: the same values of the same types, the same errors."""
    if _LONG_DIGITS.search(data) is None:
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass  # json may still accept it (NaN, a BOM) or raises its own error
    return json.loads(data)


def dumps_line(data: Any) -> bytes:
    """`data` as one compact line of JSON, newline included, UTF-8."""
    try:
        return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:  # an integer past 64 bits, a lone surrogate: json's line
        return json.dumps(data, separators=(",", ":")).encode("ascii") + b"\n"
