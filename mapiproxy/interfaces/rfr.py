# -*- test-case-name: tests.interfaces.test_rfr -*-
"""
Stub codec of the address book referral interface (C{exchange_ds_rfr},
1544f5e0-613c-11d1-93df-00c04fd7bd09 v1.0), [MS-OXABREF] 3.1.4: Outlook
asks it which NSPI server to use (RfrGetNewDSA) and the FQDN of its
mailbox server (RfrGetFQDNFromServerDN). The proxy rewrites both answers
so that Outlook keeps talking to it.

Wire forms ([MS-OXABREF] 6 IDL; OpenChange C{exchange.idl}):
  - C{[in, string] unsigned char *pUserDN}: a top-level C{[ref]} pointer,
    so just the conformant varying string.
  - C{[in, out, unique, string] unsigned char **ppszServer}: a C{[unique]}
    referent id; when non-NULL, the inner C{[unique]} referent id; when
    that is non-NULL, the string.
  - C{[out, ref, string] unsigned char **ppszServerFQDN}: a referent id,
    then the string when non-NULL.
  - The C{long} return value follows the last [out] parameter (impacket's
    C{RfrGetNewDSAResponse} omits it).

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass, field
from typing import Optional, Tuple

from mapiproxy.errors import NDRError
from mapiproxy.interfaces.base import InterfaceCodec, Operation, Stub
from mapiproxy.interfaces.ndr import NULL_REFERENT, checkRange, decodeString, encodeString

__all__ = [
    "SERVER_DN_MIN",
    "SERVER_DN_MAX",
    "RfrGetNewDSARequest",
    "RfrGetNewDSAResponse",
    "RfrGetFQDNFromServerDNRequest",
    "RfrGetFQDNFromServerDNResponse",
    "RFR",
]

#: The IDL C{range(10, 1024)} of C{cbMailboxServerDN} ([MS-OXABREF] 3.1.4.2).
SERVER_DN_MIN = 10
#: See L{SERVER_DN_MIN}.
SERVER_DN_MAX = 1024


def _readDoublePointer(reader, name):
    """
    Read a C{[unique, string] uint8 **}.

    @return: C{(text or None, outer non-NULL, (outer id, inner id))}.
    """
    outer = reader.pointer()
    if outer == NULL_REFERENT:
        return None, False, (NULL_REFERENT, NULL_REFERENT)
    inner = reader.pointer()
    if inner == NULL_REFERENT:
        return None, True, (outer, NULL_REFERENT)
    return reader.string(name=name), True, (outer, inner)


def _writeDoublePointer(writer, text, present, referents):
    outer, inner = referents
    if text is None and not present:
        writer.pointer(NULL_REFERENT)
        return
    writer.pointer(outer or writer.nextReferentId())
    if text is None:
        writer.pointer(NULL_REFERENT)
        return
    writer.pointer(inner or writer.nextReferentId())
    writer.string(text)


@dataclass
class RfrGetNewDSARequest(Stub):
    """
    RfrGetNewDSA [in] ([MS-OXABREF] 3.1.4.1).

    A C{[unique, string] uint8 **} parameter is three things: the string
    (L{None} when either pointer is NULL), whether the outer pointer is
    non-NULL (C{...Present}; a string implies it), and the two referent ids
    seen on the wire (C{...Referents}, re-sent on encode; 0 picks fresh
    ones).

    @ivar ulFlags: 0.
    @ivar pUserDN: the user's legacy DN.
    @ivar ppszUnused: unused; clients send NULL.
    @ivar ppszServer: a server the client would like, or L{None}.
    """

    ulFlags: int = 0
    pUserDN: str = ""
    ppszUnused: Optional[str] = None
    ppszServer: Optional[str] = None
    ppszUnusedPresent: bool = False
    ppszServerPresent: bool = True
    ppszUnusedReferents: Tuple[int, int] = field(default=(0, 0), compare=False, repr=False)
    ppszServerReferents: Tuple[int, int] = field(default=(0, 0), compare=False, repr=False)

    @classmethod
    def _read(cls, r):
        flags = r.u32()
        userDN = r.string(name="pUserDN")
        unused, unusedPresent, unusedRefs = _readDoublePointer(r, "ppszUnused")
        server, serverPresent, serverRefs = _readDoublePointer(r, "ppszServer")
        return cls(
            flags, userDN, unused, server, unusedPresent, serverPresent, unusedRefs, serverRefs
        )

    def _write(self, w):
        w.u32(self.ulFlags)
        w.string(self.pUserDN)
        _writeDoublePointer(w, self.ppszUnused, self.ppszUnusedPresent, self.ppszUnusedReferents)
        _writeDoublePointer(w, self.ppszServer, self.ppszServerPresent, self.ppszServerReferents)


@dataclass
class RfrGetNewDSAResponse(Stub):
    """
    RfrGetNewDSA [out]: the two [in,out] pointers (same representation as
    in L{RfrGetNewDSARequest}) and the return value.

    @ivar ppszServer: the NSPI server's FQDN, or L{None}.
    @ivar result: the return value (u32).
    """

    ppszUnused: Optional[str] = None
    ppszServer: Optional[str] = None
    result: int = 0
    ppszUnusedPresent: bool = False
    ppszServerPresent: bool = True
    ppszUnusedReferents: Tuple[int, int] = field(default=(0, 0), compare=False, repr=False)
    ppszServerReferents: Tuple[int, int] = field(default=(0, 0), compare=False, repr=False)

    @classmethod
    def _read(cls, r):
        unused, unusedPresent, unusedRefs = _readDoublePointer(r, "ppszUnused")
        server, serverPresent, serverRefs = _readDoublePointer(r, "ppszServer")
        return cls(
            unused, server, r.u32(), unusedPresent, serverPresent, unusedRefs, serverRefs
        )

    def _write(self, w):
        _writeDoublePointer(w, self.ppszUnused, self.ppszUnusedPresent, self.ppszUnusedReferents)
        _writeDoublePointer(w, self.ppszServer, self.ppszServerPresent, self.ppszServerReferents)
        w.u32(self.result)


@dataclass
class RfrGetFQDNFromServerDNRequest(Stub):
    """
    RfrGetFQDNFromServerDN [in] ([MS-OXABREF] 3.1.4.2; OpenChange calls it
    RfrGetFQDNFromLegacyDN).

    @ivar ulFlags: 0.
    @ivar szMailboxServerDN: the mailbox server's DN.
    @ivar cbMailboxServerDN: the C{size_is} of the string (its C{max_count}
        on the wire), in C{range(10, 1024)}. L{None} means "the string's
        length plus its NUL". On encode a value too small for the string
        grows to fit it.
    """

    ulFlags: int = 0
    szMailboxServerDN: str = ""
    cbMailboxServerDN: Optional[int] = None

    @classmethod
    def _read(cls, r):
        flags = r.u32()
        size = checkRange("cbMailboxServerDN", r.u32(), SERVER_DN_MIN, SERVER_DN_MAX)
        maxCount, raw = r.conformantVaryingArray(SERVER_DN_MAX, name="szMailboxServerDN")
        if maxCount != size:
            raise NDRError(
                "szMailboxServerDN max_count %d != cbMailboxServerDN %d" % (maxCount, size)
            )
        return cls(flags, decodeString(raw), size)

    def _write(self, w):
        raw = encodeString(self.szMailboxServerDN)
        size = self.cbMailboxServerDN
        if size is None or size < len(raw):
            size = len(raw)
        checkRange("cbMailboxServerDN", size, SERVER_DN_MIN, SERVER_DN_MAX)
        w.u32(self.ulFlags)
        w.u32(size)
        w.conformantVaryingArray(raw, maxCount=size)


@dataclass
class RfrGetFQDNFromServerDNResponse(Stub):
    """
    RfrGetFQDNFromServerDN [out].

    @ivar ppszServerFQDN: the mailbox server's FQDN, or L{None} for a NULL
        pointer.
    @ivar result: the return value (u32).
    @ivar ppszServerFQDNReferent: the referent id seen on the wire (0 picks
        a fresh one on encode).
    """

    ppszServerFQDN: Optional[str] = None
    result: int = 0
    ppszServerFQDNReferent: int = field(default=0, compare=False, repr=False)

    @classmethod
    def _read(cls, r):
        referent = r.pointer()
        text = None
        if referent != NULL_REFERENT:
            text = r.string(name="ppszServerFQDN")
        return cls(text, r.u32(), referent)

    def _write(self, w):
        if self.ppszServerFQDN is None:
            w.pointer(NULL_REFERENT)
        else:
            w.pointer(self.ppszServerFQDNReferent or w.nextReferentId())
            w.string(self.ppszServerFQDN)
        w.u32(self.result)


#: The RFR codec.
RFR = InterfaceCodec(
    "exchange_ds_rfr",
    [
        Operation(0, "RfrGetNewDSA", RfrGetNewDSARequest, RfrGetNewDSAResponse),
        Operation(
            1,
            "RfrGetFQDNFromServerDN",
            RfrGetFQDNFromServerDNRequest,
            RfrGetFQDNFromServerDNResponse,
        ),
    ],
)
