"""Gzip as the log writers deliver it, read as far as it is sound.

Bedrock writes one gzip member per object; a file joined from several objects has several
members, one after another, which gzip allows. A damaged file (cut off in a copy, a flipped
byte) gives back everything before the damage and says what stopped it: the reader then keeps
the whole lines read so far and counts the file as corrupt (docs/replay.md)."""

from __future__ import annotations

import zlib

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


def is_gzip(data: bytes) -> bool:
    return data[:2] == GZIP_MAGIC


def gunzip(data: bytes) -> tuple[bytes, str | None]:
    """(what decompressed cleanly, None) or (what came before the damage, what the damage
    was). Every member is read; a stream that ends mid-member is damage."""
    out: list[bytes] = []
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
        after = len(rest)  # where the bytes the member did not reach begin
        try:
            for start in range(0, len(rest), _CHUNK):
                out.append(inflater.decompress(rest[start : start + _CHUNK]))
                if inflater.eof:
                    after = start + _CHUNK
                    break
            out.append(inflater.flush())
        except zlib.error as exc:
            return b"".join(out), f"gzip data is damaged ({exc})"
        if not inflater.eof:
            return b"".join(out), "the gzip stream ends early (the file is cut off)"
        rest = inflater.unused_data + rest[after:]
        if rest and not is_gzip(rest):
            if rest.strip(b"\0"):  # padding after the last member is harmless
                return b"".join(out), "bytes after the gzip data that are not gzip"
            break
    return b"".join(out), None
