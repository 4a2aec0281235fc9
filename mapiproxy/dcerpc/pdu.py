# -*- test-case-name: tests.dcerpc.test_pdu -*-
"""
Sans-I/O codec for connection-oriented DCE/RPC PDUs (C706 chapter 12,
[MS-RPCE] 2.2.2).

L{decode} turns exactly one fragment into a PDU object and L{encode} turns
a PDU object back into one fragment. Stubs are opaque bytes: this module
knows no NDR beyond the fixed PDU bodies.

Byte-exactness: C{encode(decode(fragment)) == fragment} for well-formed
fragments from real peers, even where they chose their own padding (the
bytes between a body and its sec_trailer are remembered in the
C{wirePad} field and written back while they still fit the PDU; see
L{_PDU}). Integers of the header and of the fixed body fields honour the
integer representation of the C{drep} field (C706 14.1).
"""

import struct
import uuid
from dataclasses import KW_ONLY, dataclass, field, fields
from typing import ClassVar, List, Optional, Tuple

from mapiproxy.dcerpc import constants
from mapiproxy.dcerpc.constants import PFC, PType
from mapiproxy.errors import FragmentTooLarge, MalformedPDU

_HEADER_LENGTH = constants.COMMON_HEADER_LENGTH
_TRAILER_LENGTH = constants.SEC_TRAILER_LENGTH
_ALIGN = constants.AUTH_PAD_ALIGNMENT
_FIRST_LAST = int(PFC.FIRST_FRAG | PFC.LAST_FRAG)
_OBJECT_UUID = int(PFC.OBJECT_UUID)
_NO_OBJECT_UUID = ~_OBJECT_UUID & 0xFF
_BTFN_PREFIX = uuid.UUID(constants.BIND_TIME_FEATURE_PREFIX + "0000-000000000000").bytes[:8]
#: Offset of the stub in request/response/fault PDUs ([MS-RPCE] 2.2.2.9,
#: 2.2.2.10; for a fault the region a security context protects starts
#: there too, before the status).
_STUB_OFFSET = 24
_OBJECT_STUB_OFFSET = 40


class _ByteOrder:
    """
    The precompiled structs of one integer representation.

    @ivar bigEndian: whether integers are big-endian.
    """

    def __init__(self, prefix):
        self.bigEndian = prefix == ">"
        # C706 12.6.3.1: rpc_vers, rpc_vers_minor, PTYPE, pfc_flags,
        # drep[4], frag_length, auth_length, call_id.
        self.header = struct.Struct(prefix + "BBBB4sHHI")
        self.fragLength = struct.Struct(prefix + "H")
        # alloc_hint, p_cont_id, opnum ([MS-RPCE] 2.2.2.9).
        self.request = struct.Struct(prefix + "IHH")
        # alloc_hint, p_cont_id, cancel_count, reserved ([MS-RPCE] 2.2.2.10).
        self.response = struct.Struct(prefix + "IHBB")
        # alloc_hint, p_cont_id, cancel_count, fault_flags, status,
        # reserved ([MS-RPCE] 2.2.2.11, C706 12.6.4.7).
        self.fault = struct.Struct(prefix + "IHBBII")
        # max_xmit_frag, max_recv_frag, assoc_group_id, n_context_elem,
        # 3 reserved (C706 12.6.4.3).
        self.bind = struct.Struct(prefix + "HHIB3x")
        # p_cont_id, n_transfer_syn, reserved (C706 12.6.3.1 p_cont_elem_t).
        self.contextElement = struct.Struct(prefix + "HBx")
        # max_xmit_frag, max_recv_frag, assoc_group_id, sec_addr length
        # (C706 12.6.4.4 / port_any_t).
        self.bindAck = struct.Struct(prefix + "HHIH")
        # n_results, 3 reserved (p_result_list_t).
        self.resultCount = struct.Struct(prefix + "B3x")
        # result, reason (p_result_t).
        self.result = struct.Struct(prefix + "HH")
        # provider_reject_reason, n_protocols (C706 12.6.4.5).
        self.bindNak = struct.Struct(prefix + "HB")
        # auth_type, auth_level, auth_pad_length, auth_reserved,
        # auth_context_id ([MS-RPCE] 2.2.2.11 sec_trailer).
        self.secTrailer = struct.Struct(prefix + "BBBBI")
        # if_version as one u32: major in the low 16 bits (C706 12.6.3.1).
        self.version = struct.Struct(prefix + "I")

    def uuidFromBytes(self, raw):
        """
        Read a 16-byte NDR uuid_t in this byte order.

        @type raw: L{bytes}
        @rtype: L{uuid.UUID}
        """
        if self.bigEndian:
            return uuid.UUID(bytes=bytes(raw))
        return uuid.UUID(bytes_le=bytes(raw))

    def uuidToBytes(self, value):
        """
        Write a uuid_t in this byte order.

        @type value: L{uuid.UUID}
        @rtype: L{bytes}
        """
        return value.bytes if self.bigEndian else value.bytes_le


_LE = _ByteOrder("<")
_BE = _ByteOrder(">")


def _byteOrder(drep):
    """
    Pick the byte order a data representation label asks for.

    @param drep: the 4-byte drep field; bit 0x10 of byte 0 set means
        little-endian integers (C706 14.1).
    @rtype: L{_ByteOrder}
    """
    return _LE if drep[0] & 0x10 else _BE


def _opaque(data):
    """
    Describe opaque bytes without showing them (they may be secret).

    @rtype: L{str}
    """
    return "<%d bytes>" % (len(data),)


@dataclass(frozen=True, slots=True)
class SyntaxId:
    """
    A presentation syntax identifier, C{p_syntax_id_t} (C706 12.6.3.1,
    [MS-RPCE] 2.2.2.13): an interface or transfer syntax UUID and version.

    On the wire: the UUID as an NDR C{uuid_t} (C{uuid.bytes_le} for a
    little-endian drep), then C{if_version} whose low 16 bits are the major
    version and high 16 bits the minor version (so u16 major, u16 minor in
    little-endian).

    @ivar uuid: the syntax UUID.
    @ivar version: the major version.
    @ivar versionMinor: the minor version.
    """

    uuid: uuid.UUID
    version: int
    versionMinor: int = 0

    LENGTH: ClassVar[int] = 20

    def encode(self, bigEndian=False):
        """
        Encode this syntax identifier.

        @param bigEndian: encode for a big-endian drep.
        @return: 20 bytes.
        @rtype: L{bytes}
        @raise MalformedPDU: a version does not fit 16 bits.
        """
        order = _BE if bigEndian else _LE
        if not (0 <= self.version <= 0xFFFF and 0 <= self.versionMinor <= 0xFFFF):
            raise MalformedPDU("syntax version out of range: %r" % (self,))
        return order.uuidToBytes(self.uuid) + order.version.pack(
            self.version | (self.versionMinor << 16)
        )

    @classmethod
    def decode(cls, data, offset=0, bigEndian=False):
        """
        Decode a syntax identifier.

        @param data: the bytes holding it.
        @type data: L{bytes}, L{bytearray} or L{memoryview}
        @param offset: where it starts in C{data}.
        @param bigEndian: decode for a big-endian drep.
        @rtype: L{SyntaxId}
        @raise MalformedPDU: fewer than 20 bytes are left at C{offset}.
        """
        order = _BE if bigEndian else _LE
        if offset < 0 or len(data) - offset < 20:
            raise MalformedPDU("truncated syntax identifier at offset %d" % (offset,))
        (version,) = order.version.unpack_from(data, offset + 16)
        return cls(
            order.uuidFromBytes(data[offset : offset + 16]),
            version & 0xFFFF,
            version >> 16,
        )

    @classmethod
    def forBindTimeFeatures(cls, features):
        """
        Build the transfer syntax a client offers to negotiate bind time
        features ([MS-RPCE] 2.2.2.14, 3.3.1.5.3): the fixed first 8 bytes
        and the feature bitmask as a little-endian 64-bit integer in the
        last 8 bytes, version 1.0.

        @param features: L{constants.BindTimeFeature} bits.
        @type features: L{int}
        @rtype: L{SyntaxId}
        """
        return cls(uuid.UUID(bytes=_BTFN_PREFIX + int(features).to_bytes(8, "little")), 1, 0)

    @property
    def isNDR(self):
        """
        Whether this is the NDR 2.0 transfer syntax.

        @rtype: L{bool}
        """
        return (
            self.uuid == constants.NDR_SYNTAX_UUID
            and self.version == constants.NDR_SYNTAX_VERSION
        )

    @property
    def isNDR64(self):
        """
        Whether this is the NDR64 transfer syntax.

        @rtype: L{bool}
        """
        return (
            self.uuid == constants.NDR64_SYNTAX_UUID
            and self.version == constants.NDR64_SYNTAX_VERSION
        )

    @property
    def bindTimeFeatures(self):
        """
        The bind time feature bits offered by this syntax, if it is the
        bind time feature negotiation syntax ([MS-RPCE] 2.2.2.14): its
        string form starts with
        L{constants.BIND_TIME_FEATURE_PREFIX} and the last 8 bytes are
        the bitmask, little-endian, e.g.
        C{6cb71c2c-9812-4540-0300-000000000000} offers C{0x03}.

        @return: the bits, or L{None} for any other syntax.
        @rtype: L{int} or L{None}
        """
        raw = self.uuid.bytes
        if raw[:8] != _BTFN_PREFIX:
            return None
        return int.from_bytes(raw[8:], "little")


NDR_SYNTAX = SyntaxId(constants.NDR_SYNTAX_UUID, constants.NDR_SYNTAX_VERSION, 0)
NDR64_SYNTAX = SyntaxId(constants.NDR64_SYNTAX_UUID, constants.NDR64_SYNTAX_VERSION, 0)
#: The transfer syntax of a rejected or negotiate_ack result: all zeros.
NULL_SYNTAX = SyntaxId(constants.NULL_UUID, 0, 0)


@dataclass(slots=True)
class PresentationContext:
    """
    One element of a bind or alter_context C{p_context_list_t} (C706
    12.6.3.1 C{p_cont_elem_t}).

    @ivar contextId: C{p_cont_id}.
    @ivar abstractSyntax: the interface.
    @ivar transferSyntaxes: every transfer syntax offered, in order.
    """

    contextId: int
    abstractSyntax: SyntaxId
    transferSyntaxes: List[SyntaxId]


@dataclass(slots=True)
class ContextResult:
    """
    One C{p_result_t} of a bind_ack or alter_context_resp (C706 12.6.3.1,
    [MS-RPCE] 2.2.2.4).

    @ivar result: L{constants.ContextResult}.
    @ivar reason: L{constants.ProviderReason}, or the accepted
        L{constants.BindTimeFeature} bits for a negotiate_ack.
    @ivar transferSyntax: the accepted transfer syntax (L{NULL_SYNTAX}
        when rejected).
    """

    result: int
    reason: int
    transferSyntax: SyntaxId


@dataclass(slots=True, repr=False)
class AuthVerifier:
    """
    The auth trailer of a PDU: the 8-byte C{sec_trailer} and the
    C{auth_value} that follows it ([MS-RPCE] 2.2.2.11).

    @ivar authType: L{constants.AuthType}.
    @ivar authLevel: L{constants.AuthLevel}.
    @ivar authPadLength: C{auth_pad_length}, the padding bytes before the
        sec_trailer. L{encode} computes it for PDUs it pads itself; a
        decoded value is kept on re-encoding while it still fits.
    @ivar authContextId: C{auth_context_id}.
    @ivar authValue: the token or verifier (never shown by C{repr}).
    """

    authType: int
    authLevel: int
    authPadLength: int
    authContextId: int
    authValue: bytes

    def __repr__(self):
        return (
            "AuthVerifier(authType=%r, authLevel=%r, authPadLength=%r, "
            "authContextId=%r, authValue=%s)"
        ) % (
            self.authType,
            self.authLevel,
            self.authPadLength,
            self.authContextId,
            _opaque(self.authValue),
        )


@dataclass(slots=True, repr=False)
class _PDU:
    """
    The common header fields of every PDU (C706 12.6.3.1). Keyword-only,
    after the fields of each PDU type.

    @ivar callId: C{call_id}.
    @ivar pfcFlags: L{PFC} flags.
    @ivar drep: the 4-byte data representation label.
    @ivar auth: the auth trailer, or L{None}.
    @ivar versionMinor: C{rpc_vers_minor} (0 or 1).
    @ivar wirePad: the bytes seen between the body (the stub for
        request/response/fault) and the sec_trailer (or the end of the
        fragment) when this PDU was decoded; L{None} for a PDU built in
        memory. Written back by L{encode} while it still fits; ignored by
        equality.
    """

    PTYPE: ClassVar[int]
    _: KW_ONLY
    callId: int = 0
    pfcFlags: int = _FIRST_LAST
    drep: bytes = constants.DREP_LE
    auth: Optional[AuthVerifier] = None
    versionMinor: int = 0
    wirePad: Optional[bytes] = field(default=None, compare=False)

    def __repr__(self):
        parts = []
        for f in fields(self):
            if f.name == "wirePad":
                continue
            value = getattr(self, f.name)
            if f.name in ("stub", "extra"):
                parts.append("%s=%s" % (f.name, _opaque(value)))
            else:
                parts.append("%s=%r" % (f.name, value))
        return "%s(%s)" % (type(self).__name__, ", ".join(parts))

    def _wireFlags(self):
        """
        @return: the pfc_flags to write.
        @rtype: L{int}
        """
        return self.pfcFlags

    def _dataStart(self):
        """
        @return: the offset of the region a security context protects, or
            L{None} for PDUs without a stub.
        """
        return None

    def _encodeBody(self, order):
        """
        @param order: the L{_ByteOrder} of the drep.
        @return: the parts of the body after the common header and before
            any padding.
        @rtype: L{list} of bytes-like
        """
        return []

    def _defaultPad(self, bodyEnd, hasAuth):
        """
        The padding this PDU type writes between its body and the
        sec_trailer when there is no usable C{wirePad}: zeros up to a
        multiple of 4 from the start of the PDU ([MS-RPCE] 2.2.2.11).

        @param bodyEnd: the offset the body ends at.
        @param hasAuth: whether a sec_trailer follows.
        @return: the pad bytes and the auth_pad_length to write.
        @rtype: L{tuple} of (L{bytes}, L{int})
        """
        if not hasAuth:
            return b"", 0
        count = -bodyEnd & 3
        return b"\x00" * count, count

    def _wirePadFits(self, bodyEnd):
        """
        Whether C{wirePad} can be written back after a body ending at
        C{bodyEnd}.

        @rtype: L{bool}
        """
        pad = self.wirePad
        if pad is None:
            return False
        if self.auth is None:
            return True
        return len(pad) >= self.auth.authPadLength and (bodyEnd + len(pad)) & 3 == 0


class _StubPDU(_PDU):
    """
    Shared behaviour of request, response and fault: a stub padded with
    zeros to L{constants.AUTH_PAD_ALIGNMENT}, counted from the start of
    the stub, when an auth trailer follows (as Samba and Windows do).
    """

    __slots__ = ()

    def _dataStart(self):
        return _STUB_OFFSET

    def _defaultPad(self, bodyEnd, hasAuth):
        if not hasAuth:
            return b"", 0
        count = -(bodyEnd - self._dataStart()) % _ALIGN
        return b"\x00" * count, count

    def _wirePadFits(self, bodyEnd):
        pad = self.wirePad
        return (
            pad is not None
            and self.auth is not None
            and len(pad) == self.auth.authPadLength
            and (bodyEnd + len(pad)) & 3 == 0
        )


@dataclass(slots=True, repr=False)
class Request(_StubPDU):
    """
    A request PDU ([MS-RPCE] 2.2.2.9, C706 12.6.4.9). The object UUID is
    present iff L{PFC.OBJECT_UUID} is set: the flag follows C{object}.

    @ivar allocHint: C{alloc_hint}.
    @ivar contextId: C{p_cont_id}.
    @ivar opnum: the operation number.
    @ivar stub: the stub data, without any auth padding.
    @ivar object: the object UUID, or L{None}.
    """

    PTYPE: ClassVar[int] = PType.REQUEST
    allocHint: int = 0
    contextId: int = 0
    opnum: int = 0
    stub: bytes = b""
    object: Optional[uuid.UUID] = None

    def __post_init__(self):
        if self.object is None:
            self.pfcFlags &= _NO_OBJECT_UUID
        else:
            self.pfcFlags |= _OBJECT_UUID

    def _wireFlags(self):
        if self.object is None:
            return self.pfcFlags & _NO_OBJECT_UUID
        return self.pfcFlags | _OBJECT_UUID

    def _dataStart(self):
        return _STUB_OFFSET if self.object is None else _OBJECT_STUB_OFFSET

    def _encodeBody(self, order):
        fixed = order.request.pack(self.allocHint, self.contextId, self.opnum)
        if self.object is None:
            return [fixed, self.stub]
        return [fixed, order.uuidToBytes(self.object), self.stub]


@dataclass(slots=True, repr=False)
class Response(_StubPDU):
    """
    A response PDU ([MS-RPCE] 2.2.2.10, C706 12.6.4.10).

    @ivar allocHint: C{alloc_hint}.
    @ivar contextId: C{p_cont_id}.
    @ivar cancelCount: C{cancel_count}.
    @ivar stub: the stub data, without any auth padding.
    """

    PTYPE: ClassVar[int] = PType.RESPONSE
    allocHint: int = 0
    contextId: int = 0
    cancelCount: int = 0
    stub: bytes = b""

    def _encodeBody(self, order):
        fixed = order.response.pack(self.allocHint, self.contextId, self.cancelCount, 0)
        return [fixed, self.stub]


@dataclass(slots=True, repr=False)
class Fault(_StubPDU):
    """
    A fault PDU (C706 12.6.4.7, [MS-RPCE] 2.2.2.11 for the extended error
    flag). For the security layer its protected region starts at offset
    24, before C{status}, as Samba and Windows sign and seal it.

    @ivar allocHint: C{alloc_hint}.
    @ivar contextId: C{p_cont_id}.
    @ivar cancelCount: C{cancel_count}.
    @ivar status: the fault status (L{constants.Status}).
    @ivar faultFlags: the byte after C{cancel_count} (0x01: extended
        error information follows).
    @ivar stub: what follows status and the reserved word, without any
        auth padding.
    """

    PTYPE: ClassVar[int] = PType.FAULT
    allocHint: int = 0
    contextId: int = 0
    cancelCount: int = 0
    status: int = 0
    faultFlags: int = 0
    stub: bytes = b""

    def _encodeBody(self, order):
        return [
            order.fault.pack(
                self.allocHint, self.contextId, self.cancelCount, self.faultFlags, self.status, 0
            ),
            self.stub,
        ]


def _encodeContexts(order, contexts):
    """
    Encode a C{p_cont_list_t} tail: each element with all its transfer
    syntaxes (C706 12.6.3.1).

    @rtype: L{list} of L{bytes}
    """
    parts = []
    bigEndian = order.bigEndian
    for context in contexts:
        parts.append(order.contextElement.pack(context.contextId, len(context.transferSyntaxes)))
        parts.append(context.abstractSyntax.encode(bigEndian))
        for syntax in context.transferSyntaxes:
            parts.append(syntax.encode(bigEndian))
    return parts


@dataclass(slots=True, repr=False)
class Bind(_PDU):
    """
    A bind PDU (C706 12.6.4.3, [MS-RPCE] 2.2.2.13).

    @ivar maxXmitFrag: C{max_xmit_frag}.
    @ivar maxRecvFrag: C{max_recv_frag}.
    @ivar assocGroupId: C{assoc_group_id}.
    @ivar contexts: the L{PresentationContext}s offered.
    """

    PTYPE: ClassVar[int] = PType.BIND
    maxXmitFrag: int = constants.DEFAULT_MAX_FRAGMENT
    maxRecvFrag: int = constants.DEFAULT_MAX_FRAGMENT
    assocGroupId: int = 0
    contexts: List[PresentationContext] = field(default_factory=list)

    def _encodeBody(self, order):
        head = order.bind.pack(
            self.maxXmitFrag, self.maxRecvFrag, self.assocGroupId, len(self.contexts)
        )
        return [head] + _encodeContexts(order, self.contexts)


@dataclass(slots=True, repr=False)
class AlterContext(Bind):
    """
    An alter_context PDU (C706 12.6.4.1): the layout of L{Bind}.
    """

    PTYPE: ClassVar[int] = PType.ALTER_CONTEXT


@dataclass(slots=True, repr=False)
class BindAck(_PDU):
    """
    A bind_ack PDU (C706 12.6.4.4, [MS-RPCE] 2.2.2.4).

    @ivar maxXmitFrag: C{max_xmit_frag}.
    @ivar maxRecvFrag: C{max_recv_frag}.
    @ivar assocGroupId: C{assoc_group_id}.
    @ivar secondaryAddress: the port_any_t string without its NUL; C{b""}
        is written with length 0 and no bytes.
    @ivar results: one L{ContextResult} per context offered.
    """

    PTYPE: ClassVar[int] = PType.BIND_ACK
    maxXmitFrag: int = constants.DEFAULT_MAX_FRAGMENT
    maxRecvFrag: int = constants.DEFAULT_MAX_FRAGMENT
    assocGroupId: int = 0
    secondaryAddress: bytes = b""
    results: List[ContextResult] = field(default_factory=list)

    def _encodeBody(self, order):
        address = self.secondaryAddress
        if address:
            address = bytes(address) + b"\x00"
        parts = [
            order.bindAck.pack(
                self.maxXmitFrag, self.maxRecvFrag, self.assocGroupId, len(address)
            ),
            address,
            b"\x00" * (-(26 + len(address)) & 3),
            order.resultCount.pack(len(self.results)),
        ]
        bigEndian = order.bigEndian
        for result in self.results:
            parts.append(order.result.pack(result.result, result.reason))
            parts.append(result.transferSyntax.encode(bigEndian))
        return parts


@dataclass(slots=True, repr=False)
class AlterContextResp(BindAck):
    """
    An alter_context_resp PDU (C706 12.6.4.2): the layout of L{BindAck}.
    """

    PTYPE: ClassVar[int] = PType.ALTER_CONTEXT_RESP


@dataclass(slots=True, repr=False)
class BindNak(_PDU):
    """
    A bind_nak PDU (C706 12.6.4.5, [MS-RPCE] 2.2.2.5).

    @ivar rejectReason: L{constants.BindNakReason}.
    @ivar versions: the supported (major, minor) protocol versions.
    @ivar extra: whatever follows the versions (e.g. the extended error
        signature of [MS-RPCE] 2.2.2.5), kept as it came.
    """

    PTYPE: ClassVar[int] = PType.BIND_NAK
    rejectReason: int = 0
    versions: List[Tuple[int, int]] = field(default_factory=lambda: [(5, 0)])
    extra: bytes = b""

    def _encodeBody(self, order):
        parts = [order.bindNak.pack(self.rejectReason, len(self.versions))]
        parts.append(bytes(b for version in self.versions for b in version))
        parts.append(self.extra)
        return parts


@dataclass(slots=True, repr=False)
class Auth3(_PDU):
    """
    An rpc_auth_3 PDU ([MS-RPCE] 2.2.2.1): 4 pad bytes, then the auth
    trailer carrying the last authentication leg.
    """

    PTYPE: ClassVar[int] = PType.AUTH3

    def _defaultPad(self, bodyEnd, hasAuth):
        # The 4-byte pad field is part of the body; auth_pad_length is 0.
        return b"\x00\x00\x00\x00", 0


@dataclass(slots=True, repr=False)
class Shutdown(_PDU):
    """A shutdown PDU (C706 12.6.4.11): header only."""

    PTYPE: ClassVar[int] = PType.SHUTDOWN


@dataclass(slots=True, repr=False)
class CoCancel(_PDU):
    """A co_cancel PDU (C706 12.6.4.6): header, maybe an auth trailer."""

    PTYPE: ClassVar[int] = PType.CO_CANCEL


@dataclass(slots=True, repr=False)
class Orphaned(_PDU):
    """An orphaned PDU (C706 12.6.4.8): header, maybe an auth trailer."""

    PTYPE: ClassVar[int] = PType.ORPHANED


#: Every PDU class by PTYPE.
PDU_TYPES = {
    cls.PTYPE: cls
    for cls in (
        Request,
        Response,
        Fault,
        Bind,
        BindAck,
        BindNak,
        AlterContext,
        AlterContextResp,
        Auth3,
        Shutdown,
        CoCancel,
        Orphaned,
    )
}


def headerLength(ptype, pfcFlags=0):
    """
    The length of the fixed part before the stub ([MS-RPCE] 2.2.2.9 -
    2.2.2.11): 24 for request (40 with L{PFC.OBJECT_UUID}), response and
    fault; L{constants.COMMON_HEADER_LENGTH} for every other PDU type.

    @param ptype: a L{PType}.
    @param pfcFlags: the PDU's flags.
    @rtype: L{int}
    """
    if ptype == PType.REQUEST:
        return _OBJECT_STUB_OFFSET if pfcFlags & _OBJECT_UUID else _STUB_OFFSET
    if ptype == PType.RESPONSE or ptype == PType.FAULT:
        return _STUB_OFFSET
    return _HEADER_LENGTH


#: Where the region a security context signs or seals starts; the same
#: numbers as L{headerLength}.
stubOffset = headerLength


# -- decoding ---------------------------------------------------------------


def _stubEnd(start, secStart, auth):
    """
    Where the stub ends: before the auth padding when there is an auth
    trailer.

    @raise MalformedPDU: the pad is longer than the data before it.
    """
    if auth is None:
        return secStart
    end = secStart - auth.authPadLength
    if end < start:
        raise MalformedPDU(
            "auth_pad_length %d is longer than the %d bytes of stub"
            % (auth.authPadLength, secStart - start)
        )
    return end


def _need(end, limit, what):
    """
    @raise MalformedPDU: when C{end} is past C{limit}.
    """
    if end > limit:
        raise MalformedPDU("truncated %s: needs %d bytes, body ends at %d" % (what, end, limit))


def _decodeRequest(data, order, common, secStart, auth):
    _need(_STUB_OFFSET, secStart, "request header")
    allocHint, contextId, opnum = order.request.unpack_from(data, 16)
    obj = None
    start = _STUB_OFFSET
    if common["pfcFlags"] & _OBJECT_UUID:
        _need(_OBJECT_STUB_OFFSET, secStart, "request object UUID")
        obj = order.uuidFromBytes(data[_STUB_OFFSET:_OBJECT_STUB_OFFSET])
        start = _OBJECT_STUB_OFFSET
    end = _stubEnd(start, secStart, auth)
    return Request(
        allocHint=allocHint,
        contextId=contextId,
        opnum=opnum,
        stub=bytes(data[start:end]),
        object=obj,
        wirePad=bytes(data[end:secStart]) if auth is not None else None,
        **common,
    )


def _decodeResponse(data, order, common, secStart, auth):
    _need(_STUB_OFFSET, secStart, "response header")
    allocHint, contextId, cancelCount, _ = order.response.unpack_from(data, 16)
    end = _stubEnd(_STUB_OFFSET, secStart, auth)
    return Response(
        allocHint=allocHint,
        contextId=contextId,
        cancelCount=cancelCount,
        stub=bytes(data[_STUB_OFFSET:end]),
        wirePad=bytes(data[end:secStart]) if auth is not None else None,
        **common,
    )


def _decodeFault(data, order, common, secStart, auth):
    _need(32, secStart, "fault body")
    allocHint, contextId, cancelCount, flags, status, _ = order.fault.unpack_from(data, 16)
    end = _stubEnd(32, secStart, auth)
    return Fault(
        allocHint=allocHint,
        contextId=contextId,
        cancelCount=cancelCount,
        status=status,
        faultFlags=flags,
        stub=bytes(data[32:end]),
        wirePad=bytes(data[end:secStart]) if auth is not None else None,
        **common,
    )


def _decodeSyntax(data, offset, order):
    (version,) = order.version.unpack_from(data, offset + 16)
    return SyntaxId(
        order.uuidFromBytes(data[offset : offset + 16]), version & 0xFFFF, version >> 16
    )


def _decodeBind(cls):
    def decodeBind(data, order, common, secStart, auth):
        _need(28, secStart, "bind body")
        maxXmit, maxRecv, assocGroup, count = order.bind.unpack_from(data, 16)
        offset = 28
        contexts = []
        for _ in range(count):
            _need(offset + 24, secStart, "presentation context element")
            contextId, syntaxCount = order.contextElement.unpack_from(data, offset)
            abstract = _decodeSyntax(data, offset + 4, order)
            offset += 24
            _need(offset + 20 * syntaxCount, secStart, "transfer syntaxes")
            transfers = []
            for _ in range(syntaxCount):
                transfers.append(_decodeSyntax(data, offset, order))
                offset += 20
            contexts.append(PresentationContext(contextId, abstract, transfers))
        return cls(
            maxXmitFrag=maxXmit,
            maxRecvFrag=maxRecv,
            assocGroupId=assocGroup,
            contexts=contexts,
            wirePad=bytes(data[offset:secStart]),
            **common,
        )

    return decodeBind


def _decodeBindAck(cls):
    def decodeBindAck(data, order, common, secStart, auth):
        _need(26, secStart, "bind_ack body")
        maxXmit, maxRecv, assocGroup, addressLength = order.bindAck.unpack_from(data, 16)
        offset = 26 + addressLength
        _need(offset, secStart, "secondary address")
        address = b""
        if addressLength:
            if data[offset - 1] != 0:
                raise MalformedPDU("secondary address is not NUL-terminated")
            address = bytes(data[26 : offset - 1])
        offset += -offset & 3
        _need(offset + 4, secStart, "result list")
        (count,) = order.resultCount.unpack_from(data, offset)
        offset += 4
        _need(offset + 24 * count, secStart, "results")
        results = []
        for _ in range(count):
            result, reason = order.result.unpack_from(data, offset)
            results.append(ContextResult(result, reason, _decodeSyntax(data, offset + 4, order)))
            offset += 24
        return cls(
            maxXmitFrag=maxXmit,
            maxRecvFrag=maxRecv,
            assocGroupId=assocGroup,
            secondaryAddress=address,
            results=results,
            wirePad=bytes(data[offset:secStart]),
            **common,
        )

    return decodeBindAck


def _decodeBindNak(data, order, common, secStart, auth):
    _need(19, secStart, "bind_nak body")
    reason, count = order.bindNak.unpack_from(data, 16)
    end = 19 + 2 * count
    _need(end, secStart, "bind_nak versions")
    raw = data[19:end]
    versions = [(raw[i], raw[i + 1]) for i in range(0, 2 * count, 2)]
    return BindNak(
        rejectReason=reason,
        versions=versions,
        extra=bytes(data[end:secStart]),
        wirePad=b"",
        **common,
    )


def _decodeHeaderOnly(cls):
    def decodeHeaderOnly(data, order, common, secStart, auth):
        return cls(wirePad=bytes(data[16:secStart]), **common)

    return decodeHeaderOnly


_DECODERS = {
    PType.REQUEST: _decodeRequest,
    PType.RESPONSE: _decodeResponse,
    PType.FAULT: _decodeFault,
    PType.BIND: _decodeBind(Bind),
    PType.ALTER_CONTEXT: _decodeBind(AlterContext),
    PType.BIND_ACK: _decodeBindAck(BindAck),
    PType.ALTER_CONTEXT_RESP: _decodeBindAck(AlterContextResp),
    PType.BIND_NAK: _decodeBindNak,
    PType.AUTH3: _decodeHeaderOnly(Auth3),
    PType.SHUTDOWN: _decodeHeaderOnly(Shutdown),
    PType.CO_CANCEL: _decodeHeaderOnly(CoCancel),
    PType.ORPHANED: _decodeHeaderOnly(Orphaned),
}


def _readHeader(data):
    """
    Read and check the common header and the auth trailer position.

    @return: (order, ptype, pfcFlags, drep, callId, versionMinor,
        secStart, authLength)
    @raise MalformedPDU: bad version, frag_length or auth_length.
    """
    length = len(data)
    if length < _HEADER_LENGTH:
        raise MalformedPDU("PDU of %d bytes is shorter than the common header" % (length,))
    order = _LE if data[4] & 0x10 else _BE
    vers, minor, ptype, flags, drep, fragLength, authLength, callId = order.header.unpack_from(
        data, 0
    )
    if vers != constants.RPC_VERSION or minor > 1:
        raise MalformedPDU("unsupported RPC version %d.%d" % (vers, minor))
    if fragLength != length:
        raise MalformedPDU("frag_length %d but the fragment has %d bytes" % (fragLength, length))
    secStart = length
    if authLength:
        secStart = length - authLength - _TRAILER_LENGTH
        if secStart < _HEADER_LENGTH:
            raise MalformedPDU(
                "auth_length %d does not fit a %d-byte fragment" % (authLength, length)
            )
    return order, ptype, flags, drep, callId, minor, secStart, authLength


def _readVerifier(data, order, secStart):
    authType, authLevel, padLength, _, contextId = order.secTrailer.unpack_from(data, secStart)
    return AuthVerifier(
        authType, authLevel, padLength, contextId, bytes(data[secStart + _TRAILER_LENGTH :])
    )


def decode(data):
    """
    Decode exactly one fragment.

    @param data: one whole fragment, C{frag_length} bytes.
    @type data: L{bytes}, L{bytearray} or L{memoryview}
    @return: an instance of one of the PDU classes of L{PDU_TYPES}. For a
        request, response or fault with an auth trailer, C{stub} excludes
        the auth padding.
    @raise MalformedPDU: the bytes are not a well-formed PDU of a
        connection-oriented type we know.
    """
    order, ptype, flags, drep, callId, minor, secStart, authLength = _readHeader(data)
    decoder = _DECODERS.get(ptype)
    if decoder is None:
        raise MalformedPDU("unknown or connectionless PTYPE %d" % (ptype,))
    auth = _readVerifier(data, order, secStart) if authLength else None
    common = {
        "callId": callId,
        "pfcFlags": flags,
        "drep": drep,
        "auth": auth,
        "versionMinor": minor,
    }
    return decoder(data, order, common, secStart, auth)


def authRegion(fragment):
    """
    Locate the protected region and the verifier of an incoming fragment
    that carries an auth trailer, so that a security context can verify
    and unseal it in place ([MS-RPCE] 2.2.2.11, 3.3.1.5.2).

    The stub is then C{buf[dataStart:dataEnd - verifier.authPadLength]}.

    @param fragment: one whole fragment.
    @type fragment: L{bytes}, L{bytearray} or L{memoryview}
    @return: C{(dataStart, dataEnd, verifier)}: the stub (and for a fault
        the status before it) plus the auth padding is
        C{fragment[dataStart:dataEnd]}; C{dataEnd} is where the
        sec_trailer starts. For PDU types without a stub the region is
        empty (C{dataStart == dataEnd}).
    @rtype: L{tuple} of (L{int}, L{int}, L{AuthVerifier})
    @raise MalformedPDU: the fragment is malformed or has no auth trailer.
    """
    order, ptype, flags, drep, callId, minor, secStart, authLength = _readHeader(fragment)
    if not authLength:
        raise MalformedPDU("fragment has no auth trailer")
    if ptype not in _DECODERS:
        raise MalformedPDU("unknown or connectionless PTYPE %d" % (ptype,))
    verifier = _readVerifier(fragment, order, secStart)
    if ptype in (PType.REQUEST, PType.RESPONSE, PType.FAULT):
        dataStart = headerLength(ptype, flags)
        if secStart - verifier.authPadLength < dataStart:
            raise MalformedPDU(
                "auth_pad_length %d does not fit the %d bytes before the sec_trailer"
                % (verifier.authPadLength, secStart - dataStart)
            )
    else:
        dataStart = secStart
    return dataStart, secStart, verifier


def decodedAuthRegion(message, fragmentLength):
    """
    The region L{authRegion} gives, for a request, response or fault that
    L{decode} already checked, without reading the fragment again: the
    stub region starts after the fixed header ([MS-RPCE] 2.2.2.9 -
    2.2.2.11) and ends where the sec_trailer starts (2.2.2.11).

    @param message: the decoded PDU, with an C{auth} trailer.
    @type message: L{Request}, L{Response} or L{Fault}
    @param fragmentLength: the length of the fragment it was decoded from.
    @type fragmentLength: L{int}
    @return: C{(dataStart, dataEnd)}.
    @rtype: L{tuple} of (L{int}, L{int})
    """
    return message._dataStart(), fragmentLength - _TRAILER_LENGTH - len(message.auth.authValue)


# -- encoding ---------------------------------------------------------------


def _encodeParts(pdu, authValue):
    """
    Lay out a PDU.

    @return: (parts, dataStart, dataEnd): the byte strings to join, the
        start of the protected region and the start of the sec_trailer
        (the end of the fragment without auth).
    @raise FragmentTooLarge: the PDU does not fit 65535 bytes.
    @raise MalformedPDU: a field does not fit its wire width.
    """
    if len(pdu.drep) != 4:
        raise MalformedPDU("drep must be 4 bytes, not %r" % (pdu.drep,))
    try:
        order = _LE if pdu.drep[0] & 0x10 else _BE
        body = pdu._encodeBody(order)
        bodyEnd = _HEADER_LENGTH
        for part in body:
            bodyEnd += len(part)
        auth = pdu.auth
        if pdu._wirePadFits(bodyEnd):
            pad = pdu.wirePad
            padLength = auth.authPadLength if auth is not None else 0
        else:
            pad, padLength = pdu._defaultPad(bodyEnd, auth is not None)
        secStart = bodyEnd + len(pad)
        authLength = 0
        if auth is not None:
            authLength = len(authValue)
            trailer = order.secTrailer.pack(
                auth.authType, auth.authLevel, padLength, 0, auth.authContextId
            )
            total = secStart + _TRAILER_LENGTH + authLength
        else:
            total = secStart
        if total > constants.MAX_FRAGMENT_SIZE:
            raise FragmentTooLarge("PDU of %d bytes does not fit one fragment" % (total,))
        header = order.header.pack(
            constants.RPC_VERSION,
            pdu.versionMinor,
            pdu.PTYPE,
            pdu._wireFlags(),
            pdu.drep,
            total,
            authLength,
            pdu.callId,
        )
    except (struct.error, ValueError, OverflowError) as e:
        raise MalformedPDU("cannot encode %s: %s" % (type(pdu).__name__, e)) from None
    parts = [header]
    parts.extend(body)
    if pad:
        parts.append(pad)
    if auth is not None:
        parts.append(trailer)
        parts.append(authValue)
    dataStart = pdu._dataStart()
    if dataStart is None:
        dataStart = secStart
    return parts, dataStart, secStart


def encode(pdu):
    """
    Encode a PDU as one fragment, computing frag_length and auth_length.

    With an auth trailer, a request, response or fault stub is padded with
    zeros so that the sec_trailer starts at a multiple of
    L{constants.AUTH_PAD_ALIGNMENT} counted from the start of the stub
    (as Samba and Windows do), and the real pad length is written; other
    PDUs are padded to a multiple of 4 from the start of the PDU. A
    decoded PDU keeps the padding it came with while it still fits.

    @param pdu: one of the PDU classes of L{PDU_TYPES}.
    @rtype: L{bytes}
    @raise FragmentTooLarge: the PDU does not fit 65535 bytes.
    @raise MalformedPDU: a field does not fit its wire width.
    """
    authValue = pdu.auth.authValue if pdu.auth is not None else b""
    parts, _, _ = _encodeParts(pdu, authValue)
    return b"".join(parts)


def encodeForSigning(pdu, signatureSize):
    """
    Encode a PDU whose verifier a security context will compute: like
    L{encode}, but with C{signatureSize} zero bytes as the auth value.

    @param pdu: a PDU with an C{auth} trailer.
    @param signatureSize: the verifier length (16 for NTLM).
    @type signatureSize: L{int}
    @return: C{(buf, dataStart, dataEnd)}: C{buf[dataStart:dataEnd]} is the
        stub plus auth padding (the region a privacy-level context
        encrypts in place), and the verifier goes in
        C{buf[-signatureSize:]}.
    @rtype: L{tuple} of (L{bytearray}, L{int}, L{int})
    @raise ValueError: the PDU has no auth trailer.
    @raise FragmentTooLarge: the PDU does not fit 65535 bytes.
    """
    if pdu.auth is None:
        raise ValueError("encodeForSigning needs a PDU with an auth trailer")
    parts, dataStart, dataEnd = _encodeParts(pdu, b"\x00" * signatureSize)
    return bytearray().join(parts), dataStart, dataEnd


def fragLength(header):
    """
    Read C{frag_length} from the first 10 bytes of a fragment, honouring
    its drep.

    @param header: at least 10 bytes.
    @rtype: L{int}
    """
    return (_LE if header[4] & 0x10 else _BE).fragLength.unpack_from(header, 8)[0]


__all__ = [
    "SyntaxId",
    "NDR_SYNTAX",
    "NDR64_SYNTAX",
    "NULL_SYNTAX",
    "PresentationContext",
    "ContextResult",
    "AuthVerifier",
    "Request",
    "Response",
    "Fault",
    "Bind",
    "AlterContext",
    "BindAck",
    "AlterContextResp",
    "BindNak",
    "Auth3",
    "Shutdown",
    "CoCancel",
    "Orphaned",
    "PDU_TYPES",
    "decode",
    "encode",
    "encodeForSigning",
    "authRegion",
    "decodedAuthRegion",
    "headerLength",
    "stubOffset",
    "fragLength",
]
