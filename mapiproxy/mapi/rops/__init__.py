# -*- test-case-name: tests.mapi.rops -*-
"""
The ROP codec ([MS-OXCROPS]): every ROP request and response of an
EcDoRpc/EcDoRpcExt2 ROP buffer, decoded to objects and encoded back.

The framework lives in L{mapiproxy.mapi.rops.base}; one module per family
registers the ROP classes (C{logon}, C{table}, C{message}, C{property},
C{sync}, C{notify}); they are imported on the first decode or encode (or by
L{loadFamilies}). The [MS-OXCDATA] types are in L{mapiproxy.mapi.oxcdata}.

Sans-I/O; no Twisted.
"""

from mapiproxy.mapi.rops.base import (
    FAMILY_MODULES,
    NO_HEADER_IDS,
    NO_RESPONSE_IDS,
    REQUEST_CLASSES,
    RESPONSE_CLASSES,
    ROP_IDS,
    ROP_NAMES,
    Reader,
    RopContext,
    RopRequest,
    RopResponse,
    UnknownRop,
    Writer,
    decodeRequests,
    decodeResponses,
    encodeRequests,
    encodeResponses,
    loadFamilies,
    ropName,
    ropRequest,
    ropResponse,
)

__all__ = [
    "FAMILY_MODULES",
    "NO_HEADER_IDS",
    "NO_RESPONSE_IDS",
    "REQUEST_CLASSES",
    "RESPONSE_CLASSES",
    "ROP_IDS",
    "ROP_NAMES",
    "Reader",
    "RopContext",
    "RopRequest",
    "RopResponse",
    "UnknownRop",
    "Writer",
    "decodeRequests",
    "decodeResponses",
    "encodeRequests",
    "encodeResponses",
    "loadFamilies",
    "ropName",
    "ropRequest",
    "ropResponse",
]
