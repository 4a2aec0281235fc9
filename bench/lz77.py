"""
Benchmark of the EMSMDB buffer layer: MS-XCA Plain LZ77 compress and
decompress, and the XOR 0xA5 obfuscation, on about 1 MB of data that looks
like MAPI traffic (ROP rows: repeated property tags, UTF-16 strings, entry
IDs, timestamps, and a share of random binary).

Not a test: it prints one table of figures measured in one run. Usage::

    python3 bench/lz77.py [--size BYTES] [--repeat N] [--seed N]
"""

import argparse
import os
import platform
import random
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from mapiproxy.mapi.lz77 import compress, decompress  # noqa: E402
from mapiproxy.mapi.obfuscation import xorMagic  # noqa: E402

_WORDS = (
    "Meeting Project Budget Review Quarterly Report Draft Re: Fwd: Lunch "
    "Exchange Outlook Calendar Invitation Updated Notes Alice Bob Carol "
    "Dave Sales Marketing Engineering Status Weekly Monday Friday Agenda"
).split()

# (tag, kind) pairs as they appear in a RopQueryRows / RopGetPropertiesSpecific
# reply: the same columns row after row.
_COLUMNS = (
    (0x0037001F, "unicode"),  # PidTagSubject
    (0x0C1A001F, "unicode"),  # PidTagSenderName
    (0x0E060040, "systime"),  # PidTagMessageDeliveryTime
    (0x0E080003, "long"),  # PidTagMessageSize
    (0x0E070003, "long"),  # PidTagMessageFlags
    (0x0FFF0102, "entryid"),  # PidTagEntryId
    (0x001A001F, "class"),  # PidTagMessageClass
    (0x10130102, "random"),  # some body fragment, incompressible
)


def makePayload(size, seed=0):
    """
    Build C{size} bytes of MAPI-looking data.

    @param size: How many bytes.
    @type size: L{int}

    @param seed: Seed of the generator, so that runs are comparable.
    @type seed: L{int}

    @return: The data.
    @rtype: L{bytes}
    """
    rng = random.Random(seed)
    prefix = bytes(rng.randrange(256) for _ in range(24))
    base = 133000000000000000
    parts = []
    total = 0
    while total < size:
        row = []
        for tag, kind in _COLUMNS:
            row.append(struct.pack("<I", tag))
            if kind == "unicode":
                text = " ".join(rng.choice(_WORDS) for _ in range(rng.randrange(1, 6)))
                row.append(text.encode("utf-16-le") + b"\x00\x00")
            elif kind == "class":
                row.append("IPM.Note".encode("utf-16-le") + b"\x00\x00")
            elif kind == "systime":
                row.append(struct.pack("<Q", base + rng.randrange(10**12)))
            elif kind == "long":
                row.append(struct.pack("<I", rng.randrange(1 << 16)))
            elif kind == "entryid":
                row.append(struct.pack("<H", 46) + prefix + rng.randbytes(22))
            else:
                blob = rng.randbytes(rng.randrange(8, 64))
                row.append(struct.pack("<H", len(blob)) + blob)
        chunk = b"".join(row)
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)[:size]


def _best(function, argument, repeat):
    """
    Time C{function(argument)} C{repeat} times.

    @return: The result and the best wall time in seconds.
    @rtype: L{tuple}
    """
    best = None
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(argument)
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best:
            best = elapsed
    return result, best


def main(argv=None):
    """
    Run the benchmark and print the table.

    @param argv: Command line arguments (default: C{sys.argv[1:]}).
    @type argv: L{list} of L{str}
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--size", type=int, default=1 << 20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)

    samples = [
        ("MAPI-like", makePayload(options.size, options.seed)),
        ("random", random.Random(options.seed).randbytes(options.size)),
        ("zeros", bytes(options.size)),
    ]
    megabytes = options.size / 1e6
    print(
        "Python %s on %s, %d CPU(s); %d bytes per sample, best of %d"
        % (
            platform.python_version(),
            platform.machine(),
            os.cpu_count() or 0,
            options.size,
            options.repeat,
        )
    )
    header = "%-10s %8s %14s %16s %10s" % (
        "data",
        "ratio",
        "compress MB/s",
        "decompress MB/s",
        "XOR MB/s",
    )
    print(header)
    print("-" * len(header))
    for name, data in samples:
        packed, compressTime = _best(compress, data, options.repeat)
        unpacked, decompressTime = _best(
            lambda z: decompress(z, len(data)), packed, options.repeat
        )
        if unpacked != data:
            raise SystemExit("round trip failed on %s" % (name,))
        _, xorTime = _best(xorMagic, data, options.repeat * 10)
        print(
            "%-10s %8.3f %14.2f %16.2f %10.0f"
            % (
                name,
                len(packed) / len(data),
                megabytes / compressTime,
                megabytes / decompressTime,
                megabytes / xorTime,
            )
        )


if __name__ == "__main__":
    main()
