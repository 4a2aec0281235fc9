# -*- test-case-name: tests.mapi.test_lz77 -*-
"""
MS-XCA "Plain LZ77" ([MS-XCA] 2.3 compression, 2.4 decompression), the
LZ77 flavour [MS-OXCRPC] calls "LZ77 + DIRECT2": the Compressed flag of an
RPC_HEADER_EXT ([MS-OXCRPC] 2.2.2.1) on the payloads of EcDoConnectEx and
EcDoRpcExt2.

Stream layout: a 32-bit little-endian flag word, read from its most
significant bit down, says for each of the next 32 items whether it is a
literal byte (bit 0) or a match (bit 1). A match is a 16-bit little-endian
token: the high 13 bits are C{offset - 1} (offsets 1..8192), the low three
bits C{length - 3}; the value 7 there means "longer": a nibble follows
(two consecutive long matches share one byte, low nibble first), then, when
the nibble is 15, a byte, then, when that byte is 255, a u16 holding
C{length - 3}, then, when that u16 is 0, a u32 holding C{length - 3}.
The compressor fills the unused low bits of the last flag word with ones, so
the decoder stops on a match bit with no input left.

Pure Python, so the hot loops work on runs: literal runs are copied with one
slice (the number of leading zero flag bits is one C{int.bit_length}),
non-overlapping matches are one slice, overlapping ones a repeated pattern.
Sans-I/O; no Twisted.
"""

import sys
from array import array
from struct import Struct

from mapiproxy.errors import CompressionError

__all__ = [
    "compress",
    "decompress",
    "DEFAULT_MAX_SIZE",
    "MAX_OFFSET",
    "MIN_MATCH",
]

#: The farthest back a match may point: 13 bits of C{offset - 1}.
MAX_OFFSET = 8192
#: The shortest match the format can express.
MIN_MATCH = 3
#: Output cap of L{decompress} when no C{expectedSize} is given (16 MiB).
#: EMSMDB payloads are at most 64 KiB each (their size is a u16).
DEFAULT_MAX_SIZE = 1 << 24

_FLAGS = Struct("<I")
_U16 = Struct("<H")
_U32 = Struct("<I")
_FLAG_WORD_PLACEHOLDER = b"\x00\x00\x00\x00"
#: How many input positions pass between two rebuilds of the compressor's
#: prefix dictionary from the window.
_REBUILD_INTERVAL = 1 << 15
#: An array type code of 4-byte unsigned integers, for the prefix keys.
_KEY_TYPECODE = next(code for code in "IL" if array(code).itemsize == 4)


def decompress(data, expectedSize=None, maxSize=DEFAULT_MAX_SIZE):
    """
    Decode a Plain LZ77 stream ([MS-XCA] 2.4).

    The decoder stops at a match flag with no input left (the compressor's
    trailing 1 bits) or when the input ends exactly where a flag word would
    start. Every copy is checked against the output limit I{before} the
    output grows, so a hostile stream cannot make it allocate more than
    C{expectedSize} (or C{maxSize}) bytes.

    @param data: The compressed stream.
    @type data: L{bytes}-like

    @param expectedSize: The exact decompressed size (RPC_HEADER_EXT
        SizeActual), or L{None} for "whatever it decodes to".
    @type expectedSize: L{int} or L{None}

    @param maxSize: Upper bound of the output when C{expectedSize} is
        L{None}; an C{expectedSize} above it is refused.
    @type maxSize: L{int}

    @return: The decompressed bytes.
    @rtype: L{bytes}

    @raise CompressionError: On a truncated token or flag word, a literal
        with no input left, a match reaching before the start of the output,
        a malformed extended length, output growing past the limit, or
        output shorter than C{expectedSize}.
    """
    if expectedSize is None:
        limit = maxSize
    else:
        if expectedSize < 0 or expectedSize > maxSize:
            raise CompressionError(
                "expected size %d outside 0..%d" % (expectedSize, maxSize)
            )
        limit = expectedSize
    out = _decode(bytes(data), limit)
    if expectedSize is not None and len(out) != expectedSize:
        raise CompressionError(
            "stream decodes to %d bytes, %d expected" % (len(out), expectedSize)
        )
    return bytes(out)


def _decode(src, limit):
    """
    The decoding loop of L{decompress}.

    @param src: The compressed stream.
    @type src: L{bytes}

    @param limit: The most bytes the output may hold.
    @type limit: L{int}

    @return: The output.
    @rtype: L{bytearray}
    """
    n = len(src)
    out = bytearray()
    ip = 0
    size = 0
    # Position of the byte whose high nibble the next long match uses.
    half = -1
    while ip < n:
        if ip + 4 > n:
            raise CompressionError("truncated flag word at input offset %d" % (ip,))
        flags = src[ip] | (src[ip + 1] << 8) | (src[ip + 2] << 16) | (src[ip + 3] << 24)
        ip += 4
        bits = 32
        while bits:
            # Leading zero bits of the remaining ones: a run of literals.
            run = bits - flags.bit_length()
            if run:
                end = ip + run
                if end > n:
                    raise CompressionError(
                        "truncated input: %d literal(s) announced, %d byte(s) left"
                        % (run, n - ip)
                    )
                size += run
                if size > limit:
                    raise CompressionError("output exceeds %d bytes" % (limit,))
                out += src[ip:end]
                ip = end
                bits -= run
                if not bits:
                    break
            bits -= 1
            flags ^= 1 << bits
            if ip + 1 >= n:
                if ip >= n:
                    # A match flag with no input left: the end of the stream.
                    return out
                raise CompressionError("truncated match token at input offset %d" % (ip,))
            token = src[ip] | (src[ip + 1] << 8)
            ip += 2
            start = size - 1 - (token >> 3)
            if start < 0:
                raise CompressionError(
                    "match offset %d before the start of the output (%d bytes)"
                    % ((token >> 3) + 1, size)
                )
            length = token & 7
            if length != 7:
                length += 3
            else:
                if half < 0:
                    if ip >= n:
                        raise CompressionError("truncated match length nibble")
                    length = src[ip] & 15
                    half = ip
                    ip += 1
                else:
                    length = src[half] >> 4
                    half = -1
                if length != 15:
                    length += 10
                else:
                    if ip >= n:
                        raise CompressionError("truncated match length byte")
                    length = src[ip]
                    ip += 1
                    if length != 255:
                        length += 25
                    else:
                        if ip + 2 > n:
                            raise CompressionError("truncated 16-bit match length")
                        length = src[ip] | (src[ip + 1] << 8)
                        ip += 2
                        if length == 0:
                            if ip + 4 > n:
                                raise CompressionError("truncated 32-bit match length")
                            length = _U32.unpack_from(src, ip)[0]
                            ip += 4
                        if length < 22:
                            raise CompressionError(
                                "extended match length %d below 22" % (length,)
                            )
                        length += 3
            end = start + length
            if end <= size:
                size += length
                if size > limit:
                    raise CompressionError("output exceeds %d bytes" % (limit,))
                out += out[start:end]
            else:
                # Overlapping copy: the last `offset` bytes repeat.
                offset = size - start
                size += length
                if size > limit:
                    raise CompressionError("output exceeds %d bytes" % (limit,))
                if offset == 1:
                    out += out[-1:] * length
                else:
                    pattern = out[start:]
                    repeat, rest = divmod(length, offset)
                    out += pattern * repeat
                    if rest:
                        out += pattern[:rest]
    return out


def _prefixKeys(data):
    """
    The 3-byte prefix at every position of C{data} as one integer (bytes
    past the end read as zero), computed with slice assignments so that no
    Python code runs per byte.

    @param data: The input.
    @type data: L{bytes}

    @return: C{keys[i] == int.from_bytes(data[i:i + 3].ljust(3, b"\\0"),
        "little")} for every position.
    @rtype: L{array.array} of 4-byte unsigned integers
    """
    n = len(data)
    padded = data + b"\x00\x00"
    interleaved = bytearray(4 * n)
    interleaved[0::4] = padded[0:n]
    interleaved[1::4] = padded[1 : n + 1]
    interleaved[2::4] = padded[2 : n + 2]
    keys = array(_KEY_TYPECODE)
    keys.frombytes(interleaved)
    if sys.byteorder != "little":
        keys.byteswap()
    return keys


def compress(data):
    """
    Encode C{data} as a Plain LZ77 stream ([MS-XCA] 2.3).

    A greedy encoder with one candidate per 3-byte prefix: a dictionary
    maps each prefix (precomputed for every position by L{_prefixKeys}) to
    the last position it was seen at. The dictionary is rebuilt from the
    current window (L{MAX_OFFSET} bytes, in C) every L{_REBUILD_INTERVAL}
    positions, which keeps it small and cache-friendly. A found match is
    extended three bytes at a time through the prefix keys, then by
    comparing ever larger slices, without an upper bound (long lengths use
    the u16 and u32 forms). Matches shorter than 4 bytes are not taken
    (on MAPI-like data that both shrinks the output and saves the decoder
    work). Positions inside a match are not indexed until
    the next rebuild, and the search step grows across long runs of misses
    (as LZ4 does), which keeps incompressible data cheap. The last flag
    word's unused bits are set to 1, as [MS-XCA]'s compressor does (a whole
    word of ones when the last group is full, and for empty input).

    @param data: The bytes to compress.
    @type data: L{bytes}-like

    @return: The compressed stream; never longer than
        C{len(data) + 4 * (len(data) // 32 + 1)}.
    @rtype: L{bytes}
    """
    data = bytes(data)
    n = len(data)
    out = bytearray(_FLAG_WORD_PLACEHOLDER)
    packFlags = _FLAGS.pack_into
    packU16 = _U16.pack
    flagPos = 0
    flags = 0
    count = 0
    half = -1
    keys = _prefixKeys(data)
    table = {}
    get = table.get
    last = n - MIN_MATCH
    # keys[j] holds three real bytes only below this position.
    keyLimit = n - 2
    rebuildAt = _REBUILD_INTERVAL
    literalStart = 0
    i = 0
    misses = 0
    while i <= last:
        key = keys[i]
        candidate = get(key)
        table[key] = i
        if candidate is None or i - candidate > MAX_OFFSET:
            misses += 1
            i += 1 + (misses >> 4)
            if i > rebuildAt:
                low = i - MAX_OFFSET
                table = dict(zip(keys[low:i], range(low, i)))
                get = table.get
                rebuildAt = i + _REBUILD_INTERVAL
            continue
        misses = 0

        # The 3-byte prefix matches; extend it, three bytes at a time first.
        distance = i - candidate
        j = i + 3
        while j < keyLimit and keys[j - distance] == keys[j]:
            j += 3
            if j - i >= 30:
                # A long match: compare ever larger slices.
                chunk = 32
                while j < n:
                    m = n - j
                    if m > chunk:
                        m = chunk
                    a = data[j - distance : j - distance + m]
                    b = data[j : j + m]
                    if a == b:
                        j += m
                        if chunk < 65536:
                            chunk <<= 1
                        continue
                    x = int.from_bytes(a, "little") ^ int.from_bytes(b, "little")
                    j += ((x & -x).bit_length() - 1) >> 3
                    break
                break
        while j < n and data[j - distance] == data[j]:
            j += 1
        length = j - i
        if length < 4:
            # A 3-byte match saves about one byte and often hides a longer
            # one that starts a byte later: leave it.
            i += 1
            continue

        # Pending literals, group by group.
        while literalStart < i:
            take = 32 - count
            if take > i - literalStart:
                take = i - literalStart
            out += data[literalStart : literalStart + take]
            literalStart += take
            flags <<= take
            count += take
            if count == 32:
                packFlags(out, flagPos, flags)
                flagPos = len(out)
                out += _FLAG_WORD_PLACEHOLDER
                flags = 0
                count = 0

        # The match token and its extended length.
        rest = length - 3
        if rest < 7:
            out += packU16(((distance - 1) << 3) | rest)
        else:
            out += packU16(((distance - 1) << 3) | 7)
            rest -= 7
            nibble = 15 if rest >= 15 else rest
            if half < 0:
                half = len(out)
                out.append(nibble)
            else:
                out[half] |= nibble << 4
                half = -1
            if rest >= 15:
                rest -= 15
                if rest < 255:
                    out.append(rest)
                else:
                    out.append(255)
                    rest = length - 3
                    if rest <= 0xFFFF:
                        out += packU16(rest)
                    else:
                        out += b"\x00\x00"
                        out += _U32.pack(rest)
        flags = (flags << 1) | 1
        count += 1
        if count == 32:
            packFlags(out, flagPos, flags)
            flagPos = len(out)
            out += _FLAG_WORD_PLACEHOLDER
            flags = 0
            count = 0
        i = j
        literalStart = j

    # Trailing literals.
    while literalStart < n:
        take = 32 - count
        if take > n - literalStart:
            take = n - literalStart
        out += data[literalStart : literalStart + take]
        literalStart += take
        flags <<= take
        count += take
        if count == 32:
            packFlags(out, flagPos, flags)
            flagPos = len(out)
            out += _FLAG_WORD_PLACEHOLDER
            flags = 0
            count = 0

    # Unused bits of the last flag word are ones ([MS-XCA] 2.3).
    free = 32 - count
    packFlags(out, flagPos, ((flags << free) | ((1 << free) - 1)) & 0xFFFFFFFF)
    return bytes(out)
