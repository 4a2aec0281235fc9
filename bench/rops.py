"""
ROP codec benchmark: decode and re-encode about 1 MB of ROP responses (a
realistic Outlook mix: contents-table rows, property reads, stream reads),
with the matching requests for pairing, and print MB/s.

    python3 bench/rops.py [--size MB] [--repeat N]

A benchmark, not a test: nothing asserts on time.
"""

import argparse
import os
import platform
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from mapiproxy.mapi import oxcdata as D  # noqa: E402
from mapiproxy.mapi import rops  # noqa: E402
from mapiproxy.mapi.rops import property as P  # noqa: E402
from mapiproxy.mapi.rops import table as T  # noqa: E402

COLUMNS = [0x0037001F, 0x0C1A001F, 0x0E060040, 0x0E080003, 0x0E070003, 0x674A0014]  # subject, sender, time, size, flags, mid
PROPS = [0x0037001F, 0x1000001F, 0x0E080003, 0x0E1B000B, 0x00170003, 0x0C1F001F, 0x0039 << 16 | 0x40, 0x3FDE0003]


def row(i):
    return D.PropertyRow(
        flag=0,
        values=[
            "Quarterly report %d and the numbers behind it" % (i,),
            "Alice Anderson",
            132_000_000_000_000_000 + i,
            4096 + i,
            1,
            (1 << 48) | i,
        ],
    )


def cycle(k, streamBytes):
    """
    One round of requests and their responses.
    """
    requests = [
        T.QueryRowsRequest(inputHandleIndex=0, queryRowsFlags=0, forwardRead=1, rowCount=20),
        P.GetPropertiesSpecificRequest(inputHandleIndex=1, propertySizeLimit=0, wantUnicode=1, propertyTags=PROPS),
        P.ReadStreamRequest(inputHandleIndex=2, byteCount=streamBytes),
    ]
    responses = [
        T.QueryRowsResponse(handleIndex=0, origin=2, rows=[row(k * 20 + i) for i in range(20)]),
        P.GetPropertiesSpecificResponse(
            handleIndex=1,
            rowData=D.PropertyRow(
                flag=0,
                values=["Re: budget %d" % (k,), "Body text " * 40, 5000, True, 1, "Bob Brown", 132_000_000_000_000_000, 1252],
            ),
        ),
        P.ReadStreamResponse(handleIndex=2, data=os.urandom(streamBytes)),
    ]
    if not streamBytes:
        return requests[:2], responses[:2]
    return requests, responses


def build(size, streamBytes):
    ctx = rops.RopContext()
    handles = [0x100, 0x200, 0x300]
    ctx.columns[0x100] = COLUMNS
    requests, responses = [], []
    total = 0
    k = 0
    while total < size:
        rq, rs = cycle(k, streamBytes)
        requests.extend(rq)
        responses.extend(rs)
        total = len(rops.encodeResponses(rs, rq, ctx, handles=handles, requestHandles=handles)) * (k + 1)
        k += 1
    requestBytes = rops.encodeRequests(requests, ctx, handles=handles)
    responseBytes = rops.encodeResponses(responses, requests, ctx, handles=handles, requestHandles=handles)
    return requestBytes, responseBytes, handles


def measure(fn, repeat):
    best = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--size", type=float, default=1.0, help="MB of ROP responses (default 1)")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the best is reported")
    parser.add_argument("--stream", type=int, default=4096, help="ReadStream bytes per round, 0 for none (rows only)")
    options = parser.parse_args()
    requestBytes, responseBytes, handles = build(int(options.size * 1024 * 1024), options.stream)

    def decode():
        ctx = rops.RopContext()
        ctx.columns[0x100] = COLUMNS
        requests = rops.decodeRequests(requestBytes, handles, ctx)
        return ctx, requests, rops.decodeResponses(responseBytes, handles, requests, ctx, requestHandles=handles)

    decodeTime, (ctx, requests, responses) = measure(decode, options.repeat)
    unknown = [r for r in responses if isinstance(r, rops.UnknownRop)]
    if unknown:
        raise SystemExit("benchmark buffer did not decode: %s" % (unknown[0].error,))

    def encode():
        return rops.encodeResponses(responses, requests, ctx, handles=handles, requestHandles=handles)

    encodeTime, again = measure(encode, options.repeat)
    if again != responseBytes:
        raise SystemExit("re-encoding changed the bytes")
    mb = len(responseBytes) / 1e6
    print("ROP codec benchmark (%s, Python %s, %d cores)" % (platform.machine(), platform.python_version(), os.cpu_count()))
    print(
        "  response buffer: %d bytes, %d ROPs (QueryRows 20x6, GetPropertiesSpecific 8 props, ReadStream %d bytes)"
        % (len(responseBytes), len(responses), options.stream)
    )
    print("  request buffer:  %d bytes, %d ROPs" % (len(requestBytes), len(requests)))
    print("  decode (requests + responses): %.1f MB/s (%.1f ms)" % ((mb + len(requestBytes) / 1e6) / decodeTime, decodeTime * 1000))
    print("  encode responses:              %.1f MB/s (%.1f ms)" % (mb / encodeTime, encodeTime * 1000))


if __name__ == "__main__":
    main()
