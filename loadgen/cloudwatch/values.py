"""MetricData split into PutMetricData calls: CloudWatch's limits on data per call and bytes.

Pure functions, no I/O. How a histogram becomes a datum's Values/Counts is
loadgen/core/histogram_buckets.py.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

MAX_DATA_PER_CALL = 1000
# 1 MB for the POST body. Counted as 10**6 rather than 2**20, and against an overestimate of
# the body, so that a call near the limit still goes through.
MAX_CALL_BYTES = 1_000_000


# --- Splitting MetricData into calls --------------------------------------------------------

# PutMetricData goes out in the query protocol: form-encoded pairs such as
# `MetricData.member.17.Values.member.42=123.456&`. The estimate below is an upper bound of the
# encoded size of one datum: every key is written as if its indices had the most digits they
# can have (4 and 3), every string is taken to be percent-encoded byte by byte (3 bytes each),
# and every number as its str() plus room for an escaped "+".
_DATUM_PREFIX = len("MetricData.member.1000.")
_LIST_ITEM = len(".member.150")
_PAIR = 2  # "=" and "&"
_NUMBER_SLACK = 2  # "e+" in an exponent becomes "e%2B"
_ENVELOPE = len("Action=PutMetricData&Version=2010-08-01&Namespace=&")


def estimate_call_overhead(namespace: str) -> int:
    return _ENVELOPE + 3 * len(namespace.encode())


def estimate_datum_bytes(datum: Mapping[str, Any]) -> int:
    """An upper bound of the form-encoded size of one MetricDatum."""
    size = 0
    for key, value in datum.items():
        if isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, Mapping):  # a Dimension {Name, Value}
                    for sub_key, sub_value in item.items():
                        key_len = len(key) + _LIST_ITEM + 1 + len(sub_key)
                        size += _DATUM_PREFIX + key_len + _scalar_bytes(sub_value) + _PAIR
                else:
                    key_len = len(key) + _LIST_ITEM
                    size += _DATUM_PREFIX + key_len + _scalar_bytes(item) + _PAIR
        elif isinstance(value, Mapping):  # StatisticValues
            for sub_key, sub_value in value.items():
                size += _DATUM_PREFIX + len(key) + 1 + len(sub_key)
                size += _scalar_bytes(sub_value) + _PAIR
        else:
            size += _DATUM_PREFIX + len(key) + _scalar_bytes(value) + _PAIR
    return size


def _scalar_bytes(value: object) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int | float):
        return len(str(value)) + _NUMBER_SLACK
    if isinstance(value, datetime):
        return 3 * len("2000-01-01T00:00:00.000000+00:00")
    return 3 * len(str(value).encode())


def chunk_metric_data(
    data: Sequence[Mapping[str, Any]],
    namespace: str,
    *,
    max_data: int = MAX_DATA_PER_CALL,
    max_bytes: int = MAX_CALL_BYTES,
) -> Iterator[list[Mapping[str, Any]]]:
    """Consecutive runs of `data`, each fit for one PutMetricData call (order kept)."""
    overhead = estimate_call_overhead(namespace)
    chunk: list[Mapping[str, Any]] = []
    size = overhead
    for datum in data:
        datum_size = estimate_datum_bytes(datum)
        if overhead + datum_size > max_bytes:
            raise ValueError(f"one datum is too large for a call: {datum.get('MetricName')}")
        if chunk and (len(chunk) >= max_data or size + datum_size > max_bytes):
            yield chunk
            chunk, size = [], overhead
        chunk.append(datum)
        size += datum_size
    if chunk:
        yield chunk
