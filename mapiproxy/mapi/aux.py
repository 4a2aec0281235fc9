# -*- test-case-name: tests.mapi.test_aux -*-
"""
Auxiliary buffers of EcDoConnectEx and EcDoRpcExt2 (rgbAuxIn, rgbAuxOut):
an RPC_HEADER_EXT chain ([MS-OXCRPC] 2.2.2.1, see L{mapiproxy.mapi.extbuf})
whose payload is a sequence of AUX_HEADER blocks ([MS-OXCRPC] 2.2.2.2).

Each block is C{Size} (u16, counting the 4-byte header), C{Version} (u8)
and C{Type} (u8), then a type-specific body. Known (type, version) pairs
decode into a dataclass of their fields; strings and byte fields that the
body reaches through offsets (counted from the start of the AUX_HEADER) are
exposed as values, their offsets and sizes being recomputed on encode. The
strings are null-terminated UTF-16LE, as [MS-OXCRPC] 2.2.2.2.4 and its siblings say
("null-terminated Unicode string"); lone surrogates survive a round trip.

A decoded block remembers its original body: as long as its fields are left
unchanged, L{encodeAuxBlocks} writes that body back byte for byte (padding
and field order included); a changed block is encoded afresh, its variable
parts packed after the fixed fields and the block padded to 4 bytes.
Unknown pairs stay L{RawAuxBlock}.

Sans-I/O; no Twisted.
"""

import enum
import uuid
from dataclasses import dataclass, field, fields
from struct import Struct, error as StructError

from mapiproxy.errors import MapiBufferError
from mapiproxy.mapi.extbuf import ExtendedBuffer, decodeChain, encodeChain

__all__ = [
    "AUX_VERSION_1",
    "AUX_VERSION_2",
    "MAX_AUX_SIZE",
    "AuxType",
    "AuxHeader",
    "AuxBlock",
    "RawAuxBlock",
    "AuxPerfRequestId",
    "AuxPerfClientInfo",
    "AuxPerfServerInfo",
    "AuxPerfSessionInfo",
    "AuxPerfSessionInfoV2",
    "AuxPerfDefMdbSuccess",
    "AuxPerfDefGcSuccess",
    "AuxPerfMdbSuccess",
    "AuxPerfMdbSuccessV2",
    "AuxPerfGcSuccess",
    "AuxPerfGcSuccessV2",
    "AuxPerfFailure",
    "AuxPerfFailureV2",
    "AuxClientControl",
    "AuxPerfProcessInfo",
    "AuxOsVersionInfo",
    "AuxExOrgInfo",
    "AuxPerfAccountInfo",
    "AuxEndpointCapabilities",
    "AuxClientConnectionInfo",
    "AuxServerSessionInfo",
    "AuxProtocolDeviceIdentification",
    "decodeAuxBlocks",
    "encodeAuxBlocks",
    "decodeAux",
    "encodeAux",
]

AUX_VERSION_1 = 0x01
AUX_VERSION_2 = 0x02
#: The largest rgbAuxIn/rgbAuxOut, header included ([MS-OXCRPC] 3.1.4.1).
MAX_AUX_SIZE = 0x1008

_AUX_HEADER = Struct("<HBB")
_AUX_HEADER_SIZE = 4


class AuxType(enum.IntEnum):
    """AUX_HEADER Type values ([MS-OXCRPC] 2.2.2.2)."""

    PERF_REQUESTID = 0x01
    PERF_CLIENTINFO = 0x02
    PERF_SERVERINFO = 0x03
    PERF_SESSIONINFO = 0x04
    PERF_DEFMDB_SUCCESS = 0x05
    PERF_DEFGC_SUCCESS = 0x06
    PERF_MDB_SUCCESS = 0x07
    PERF_GC_SUCCESS = 0x08
    PERF_FAILURE = 0x09
    CLIENT_CONTROL = 0x0A
    PERF_PROCESSINFO = 0x0B
    PERF_BG_DEFMDB_SUCCESS = 0x0C
    PERF_BG_DEFGC_SUCCESS = 0x0D
    PERF_BG_MDB_SUCCESS = 0x0E
    PERF_BG_GC_SUCCESS = 0x0F
    PERF_BG_FAILURE = 0x10
    PERF_FG_DEFMDB_SUCCESS = 0x11
    PERF_FG_DEFGC_SUCCESS = 0x12
    PERF_FG_MDB_SUCCESS = 0x13
    PERF_FG_GC_SUCCESS = 0x14
    PERF_FG_FAILURE = 0x15
    OSVERSIONINFO = 0x16
    EXORGINFO = 0x17
    PERF_ACCOUNTINFO = 0x18
    ENDPOINT_CAPABILITIES = 0x48
    CLIENT_CONNECTION_INFO = 0x4A
    SERVER_SESSION_INFO = 0x4B
    PROTOCOL_DEVICE_IDENTIFICATION = 0x4E


@dataclass(frozen=True)
class AuxHeader:
    """
    An AUX_HEADER ([MS-OXCRPC] 2.2.2.2).

    @ivar size: Size of the block, these 4 bytes included.
    @ivar version: L{AUX_VERSION_1} or L{AUX_VERSION_2}.
    @ivar type: An L{AuxType} value.
    """

    size: int
    version: int
    type: int

    @classmethod
    def decode(cls, data, offset=0):
        """
        Read a header.

        @param data: The buffer.
        @type data: L{bytes}

        @param offset: Where the header starts.
        @type offset: L{int}

        @rtype: L{AuxHeader}

        @raise MapiBufferError: When fewer than 4 bytes are left or Size
            is below 4.
        """
        if len(data) - offset < _AUX_HEADER_SIZE:
            raise MapiBufferError(
                "truncated AUX_HEADER at offset %d (%d byte(s) left)"
                % (offset, len(data) - offset)
            )
        size, version, type_ = _AUX_HEADER.unpack_from(data, offset)
        if size < _AUX_HEADER_SIZE:
            raise MapiBufferError("AUX_HEADER Size %d at offset %d is below 4" % (size, offset))
        return cls(size, version, type_)

    def encode(self):
        """
        @return: The 4 header bytes.
        @rtype: L{bytes}
        """
        return _AUX_HEADER.pack(self.size, self.version, self.type)


@dataclass
class RawAuxBlock:
    """
    An AUX block of a type (or version) this module does not decode.

    @ivar version: AUX_HEADER Version.
    @ivar type: AUX_HEADER Type.
    @ivar body: The bytes after the AUX_HEADER.
    """

    version: int
    type: int
    body: bytes

    def encodeBody(self):
        """
        @return: C{body}.
        @rtype: L{bytes}
        """
        return bytes(self.body)


# Field codes of the fixed part of a block: struct format, and how to turn
# the unpacked value into the attribute (and back).
_CODES = {
    "B": ("B", None, None),
    "H": ("H", None, None),
    "I": ("I", None, None),
    "guid": ("16s", lambda raw: uuid.UUID(bytes_le=raw), lambda value: value.bytes_le),
    "3s": ("3s", None, bytes),
    "132s": ("132s", None, bytes),
}


@dataclass
class AuxBlock:
    """
    Base of the decoded AUX blocks.

    A subclass lists its fixed fields in C{_LAYOUT} (name, code) pairs,
    the (type, version) pairs it decodes in C{_TYPES}, and, when the body
    has parts reached through offsets, overrides L{_decodeVariable} and
    L{_encodeVariable}.

    @ivar version: AUX_HEADER Version (defaults to the class's usual one).
    @ivar type: AUX_HEADER Type (defaults to the class's first type; the
        BG/FG variants share a class).
    """

    version: int = field(default=None, kw_only=True)
    type: int = field(default=None, kw_only=True)
    _original: tuple = field(default=None, init=False, repr=False, compare=False)

    _LAYOUT = ()
    _TYPES = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        formats = "".join(_CODES[code][0] for _, code in cls._LAYOUT)
        cls._FIXED = Struct("<" + formats)

    def __post_init__(self):
        if self.type is None:
            self.type = self._TYPES[0][0]
        if self.version is None:
            self.version = self._TYPES[0][1]

    def _values(self):
        """
        @return: The values of every init field, for change detection.
        @rtype: L{tuple}
        """
        return tuple(getattr(self, f.name) for f in fields(self) if f.init)

    @classmethod
    def decodeBody(cls, version, type_, body):
        """
        Decode the body of a block of this class.

        @param version: AUX_HEADER Version.
        @type version: L{int}

        @param type_: AUX_HEADER Type.
        @type type_: L{int}

        @param body: The bytes after the AUX_HEADER.
        @type body: L{bytes}

        @rtype: C{cls}

        @raise MapiBufferError: When the body is too short or an offset,
            size or string is out of bounds.
        """
        fixed = cls._FIXED
        if len(body) < fixed.size:
            raise MapiBufferError(
                "%s body of %d bytes, at least %d needed" % (cls.__name__, len(body), fixed.size)
            )
        values = {}
        for (name, code), raw in zip(cls._LAYOUT, fixed.unpack_from(body, 0)):
            convert = _CODES[code][1]
            values[name] = convert(raw) if convert is not None else raw
        values.update(cls._decodeVariable(values, body))
        for name in [name for name in values if name.startswith("_")]:
            del values[name]
        block = cls(version=version, type=type_, **values)
        block._original = (block._values(), bytes(body))
        return block

    @classmethod
    def _decodeVariable(cls, fixedValues, body):
        """
        Decode the parts reached through offsets; nothing by default.

        @param fixedValues: The fixed fields by name (offsets and sizes are
            named with a leading underscore and dropped afterwards).
        @type fixedValues: L{dict}

        @param body: The bytes after the AUX_HEADER.
        @type body: L{bytes}

        @return: Extra attributes by name.
        @rtype: L{dict}
        """
        return {}

    def encodeBody(self):
        """
        Encode the body: the original bytes when no field changed since
        decoding, a fresh encoding otherwise.

        @rtype: L{bytes}

        @raise MapiBufferError: When a field does not fit its wire type.
        """
        if self._original is not None and self._original[0] == self._values():
            return self._original[1]
        variable = self._encodeVariable(_AUX_HEADER_SIZE + self._FIXED.size)
        packed = []
        for name, code in self._LAYOUT:
            value = variable[name] if name.startswith("_") else getattr(self, name)
            back = _CODES[code][2]
            packed.append(back(value) if back is not None else value)
        try:
            head = self._FIXED.pack(*packed)
        except (StructError, TypeError, AttributeError) as e:
            raise MapiBufferError("%s: %s" % (type(self).__name__, e)) from None
        body = head + variable.get("_tail", b"")
        return body + b"\x00" * (-(len(body) + _AUX_HEADER_SIZE) % 4)

    def _encodeVariable(self, start):
        """
        Lay out the parts reached through offsets; nothing by default.

        @param start: Offset from the AUX_HEADER start where they begin.
        @type start: L{int}

        @return: The offset/size fields by their underscore names, and
            C{"_tail"}: the bytes to append after the fixed part.
        @rtype: L{dict}
        """
        return {}


def _readString(body, offset, what):
    """
    Read a null-terminated UTF-16LE string the block reaches at C{offset}
    (counted from the AUX_HEADER start).

    @return: The string, or L{None} when C{offset} is 0.
    @rtype: L{str} or L{None}

    @raise MapiBufferError: When the offset is outside the block or the
        string has no terminator inside it.
    """
    if offset == 0:
        return None
    start = offset - _AUX_HEADER_SIZE
    if start < 0 or start > len(body):
        raise MapiBufferError("%s offset %d outside the block" % (what, offset))
    end = start
    while True:
        end = body.find(b"\x00\x00", end)
        if end < 0:
            raise MapiBufferError("%s at offset %d has no terminator" % (what, offset))
        if (end - start) % 2 == 0:
            break
        end += 1
    return body[start:end].decode("utf-16-le", "surrogatepass")


def _readBytes(body, offset, size, what):
    """
    Read C{size} bytes the block reaches at C{offset}.

    @return: The bytes, or L{None} when C{offset} or C{size} is 0.
    @rtype: L{bytes} or L{None}

    @raise MapiBufferError: When they are outside the block.
    """
    if offset == 0 or size == 0:
        return None
    start = offset - _AUX_HEADER_SIZE
    if start < 0 or start + size > len(body):
        raise MapiBufferError(
            "%s (%d bytes at offset %d) outside the block" % (what, size, offset)
        )
    return body[start : start + size]


def _layoutParts(start, parts):
    """
    Place variable parts one after the other.

    @param start: Offset (from the AUX_HEADER start) of the first part.
    @type start: L{int}

    @param parts: C{(offsetName, sizeName or None, value, isString)}
        in wire order; a L{None} value gets offset 0 (and size 0).
    @type parts: L{list}

    @return: See L{AuxBlock._encodeVariable}.
    @rtype: L{dict}

    @raise MapiBufferError: When the block outgrows the u16 offsets.
    """
    result = {}
    tail = []
    position = start
    for offsetName, sizeName, value, isString in parts:
        if value is None:
            result[offsetName] = 0
            if sizeName is not None:
                result[sizeName] = 0
            continue
        try:
            if isString:
                raw = value.encode("utf-16-le", "surrogatepass") + b"\x00\x00"
            else:
                raw = bytes(value)
        except (AttributeError, TypeError) as e:
            raise MapiBufferError("%s: %s" % (offsetName[1:], e)) from None
        result[offsetName] = position
        if sizeName is not None:
            result[sizeName] = len(raw)
        tail.append(raw)
        position += len(raw)
    if position > 0xFFFF:
        raise MapiBufferError("AUX block of %d bytes does not fit its u16 Size" % (position,))
    result["_tail"] = b"".join(tail)
    return result


def _successTypes(base, bg, fg, version):
    """
    The (type, version) pairs of a performance block and its background
    and foreground variants, which share one structure.

    @rtype: L{tuple}
    """
    return tuple((t, version) for t in (base, bg, fg))


@dataclass
class AuxPerfRequestId(AuxBlock):
    """AUX_PERF_REQUESTID ([MS-OXCRPC] 2.2.2.2.1)."""

    sessionId: int = 0
    requestId: int = 0

    _LAYOUT = (("sessionId", "H"), ("requestId", "H"))
    _TYPES = ((AuxType.PERF_REQUESTID, AUX_VERSION_1),)


@dataclass
class AuxPerfClientInfo(AuxBlock):
    """
    AUX_PERF_CLIENTINFO ([MS-OXCRPC] 2.2.2.2.4). The strings and byte
    fields are L{None} when their offset is 0.
    """

    adapterSpeed: int = 0
    clientId: int = 0
    clientMode: int = 0
    reserved: int = 0
    machineName: str = None
    userName: str = None
    clientIp: bytes = None
    clientIpMask: bytes = None
    adapterName: str = None
    macAddress: bytes = None

    _LAYOUT = (
        ("adapterSpeed", "I"),
        ("clientId", "H"),
        ("_machineNameOffset", "H"),
        ("_userNameOffset", "H"),
        ("_clientIpSize", "H"),
        ("_clientIpOffset", "H"),
        ("_clientIpMaskSize", "H"),
        ("_clientIpMaskOffset", "H"),
        ("_adapterNameOffset", "H"),
        ("_macAddressSize", "H"),
        ("_macAddressOffset", "H"),
        ("clientMode", "H"),
        ("reserved", "H"),
    )
    _TYPES = ((AuxType.PERF_CLIENTINFO, AUX_VERSION_1),)

    @classmethod
    def _decodeVariable(cls, v, body):
        return {
            "machineName": _readString(body, v["_machineNameOffset"], "MachineName"),
            "userName": _readString(body, v["_userNameOffset"], "UserName"),
            "clientIp": _readBytes(body, v["_clientIpOffset"], v["_clientIpSize"], "ClientIP"),
            "clientIpMask": _readBytes(
                body, v["_clientIpMaskOffset"], v["_clientIpMaskSize"], "ClientIPMask"
            ),
            "adapterName": _readString(body, v["_adapterNameOffset"], "AdapterName"),
            "macAddress": _readBytes(
                body, v["_macAddressOffset"], v["_macAddressSize"], "MacAddress"
            ),
        }

    def _encodeVariable(self, start):
        return _layoutParts(
            start,
            [
                ("_machineNameOffset", None, self.machineName, True),
                ("_userNameOffset", None, self.userName, True),
                ("_clientIpOffset", "_clientIpSize", self.clientIp, False),
                ("_clientIpMaskOffset", "_clientIpMaskSize", self.clientIpMask, False),
                ("_adapterNameOffset", None, self.adapterName, True),
                ("_macAddressOffset", "_macAddressSize", self.macAddress, False),
            ],
        )


@dataclass
class AuxPerfServerInfo(AuxBlock):
    """AUX_PERF_SERVERINFO ([MS-OXCRPC] 2.2.2.2.5)."""

    serverId: int = 0
    serverType: int = 0
    serverDn: str = None
    serverName: str = None

    _LAYOUT = (
        ("serverId", "H"),
        ("serverType", "H"),
        ("_serverDnOffset", "H"),
        ("_serverNameOffset", "H"),
    )
    _TYPES = ((AuxType.PERF_SERVERINFO, AUX_VERSION_1),)

    @classmethod
    def _decodeVariable(cls, v, body):
        return {
            "serverDn": _readString(body, v["_serverDnOffset"], "ServerDN"),
            "serverName": _readString(body, v["_serverNameOffset"], "ServerName"),
        }

    def _encodeVariable(self, start):
        return _layoutParts(
            start,
            [
                ("_serverDnOffset", None, self.serverDn, True),
                ("_serverNameOffset", None, self.serverName, True),
            ],
        )


_NIL_GUID = uuid.UUID(int=0)


@dataclass
class AuxPerfSessionInfo(AuxBlock):
    """AUX_PERF_SESSIONINFO ([MS-OXCRPC] 2.2.2.2.2)."""

    sessionId: int = 0
    reserved: int = 0
    sessionGuid: uuid.UUID = _NIL_GUID

    _LAYOUT = (("sessionId", "H"), ("reserved", "H"), ("sessionGuid", "guid"))
    _TYPES = ((AuxType.PERF_SESSIONINFO, AUX_VERSION_1),)


@dataclass
class AuxPerfSessionInfoV2(AuxBlock):
    """AUX_PERF_SESSIONINFO_V2 ([MS-OXCRPC] 2.2.2.2.3)."""

    sessionId: int = 0
    reserved: int = 0
    sessionGuid: uuid.UUID = _NIL_GUID
    connectionId: int = 0

    _LAYOUT = (
        ("sessionId", "H"),
        ("reserved", "H"),
        ("sessionGuid", "guid"),
        ("connectionId", "I"),
    )
    _TYPES = ((AuxType.PERF_SESSIONINFO, AUX_VERSION_2),)


@dataclass
class AuxPerfDefMdbSuccess(AuxBlock):
    """AUX_PERF_DEFMDB_SUCCESS ([MS-OXCRPC] 2.2.2.2.7), also its BG/FG types."""

    timeSinceRequest: int = 0
    timeToCompleteRequest: int = 0
    requestId: int = 0
    reserved: int = 0

    _LAYOUT = (
        ("timeSinceRequest", "I"),
        ("timeToCompleteRequest", "I"),
        ("requestId", "H"),
        ("reserved", "H"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_DEFMDB_SUCCESS,
        AuxType.PERF_BG_DEFMDB_SUCCESS,
        AuxType.PERF_FG_DEFMDB_SUCCESS,
        AUX_VERSION_1,
    )


@dataclass
class AuxPerfDefGcSuccess(AuxBlock):
    """AUX_PERF_DEFGC_SUCCESS ([MS-OXCRPC] 2.2.2.2.8), also its BG/FG types."""

    serverId: int = 0
    sessionId: int = 0
    timeSinceRequest: int = 0
    timeToCompleteRequest: int = 0
    requestOperation: int = 0
    reserved: bytes = b"\x00\x00\x00"

    _LAYOUT = (
        ("serverId", "H"),
        ("sessionId", "H"),
        ("timeSinceRequest", "I"),
        ("timeToCompleteRequest", "I"),
        ("requestOperation", "B"),
        ("reserved", "3s"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_DEFGC_SUCCESS,
        AuxType.PERF_BG_DEFGC_SUCCESS,
        AuxType.PERF_FG_DEFGC_SUCCESS,
        AUX_VERSION_1,
    )


@dataclass
class AuxPerfMdbSuccess(AuxBlock):
    """AUX_PERF_MDB_SUCCESS ([MS-OXCRPC] 2.2.2.2.9), also its BG/FG types."""

    clientId: int = 0
    serverId: int = 0
    sessionId: int = 0
    requestId: int = 0
    timeSinceRequest: int = 0
    timeToCompleteRequest: int = 0

    _LAYOUT = (
        ("clientId", "H"),
        ("serverId", "H"),
        ("sessionId", "H"),
        ("requestId", "H"),
        ("timeSinceRequest", "I"),
        ("timeToCompleteRequest", "I"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_MDB_SUCCESS,
        AuxType.PERF_BG_MDB_SUCCESS,
        AuxType.PERF_FG_MDB_SUCCESS,
        AUX_VERSION_1,
    )


@dataclass
class AuxPerfMdbSuccessV2(AuxBlock):
    """AUX_PERF_MDB_SUCCESS_V2 ([MS-OXCRPC] 2.2.2.2.10), also its BG/FG types."""

    processId: int = 0
    clientId: int = 0
    serverId: int = 0
    sessionId: int = 0
    requestId: int = 0
    reserved: int = 0
    timeSinceRequest: int = 0
    timeToCompleteRequest: int = 0

    _LAYOUT = (
        ("processId", "H"),
        ("clientId", "H"),
        ("serverId", "H"),
        ("sessionId", "H"),
        ("requestId", "H"),
        ("reserved", "H"),
        ("timeSinceRequest", "I"),
        ("timeToCompleteRequest", "I"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_MDB_SUCCESS,
        AuxType.PERF_BG_MDB_SUCCESS,
        AuxType.PERF_FG_MDB_SUCCESS,
        AUX_VERSION_2,
    )


@dataclass
class AuxPerfGcSuccess(AuxBlock):
    """AUX_PERF_GC_SUCCESS ([MS-OXCRPC] 2.2.2.2.11), also its BG/FG types."""

    clientId: int = 0
    serverId: int = 0
    sessionId: int = 0
    reserved1: int = 0
    timeSinceRequest: int = 0
    timeToCompleteRequest: int = 0
    requestOperation: int = 0
    reserved2: bytes = b"\x00\x00\x00"

    _LAYOUT = (
        ("clientId", "H"),
        ("serverId", "H"),
        ("sessionId", "H"),
        ("reserved1", "H"),
        ("timeSinceRequest", "I"),
        ("timeToCompleteRequest", "I"),
        ("requestOperation", "B"),
        ("reserved2", "3s"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_GC_SUCCESS,
        AuxType.PERF_BG_GC_SUCCESS,
        AuxType.PERF_FG_GC_SUCCESS,
        AUX_VERSION_1,
    )


@dataclass
class AuxPerfGcSuccessV2(AuxBlock):
    """AUX_PERF_GC_SUCCESS_V2 ([MS-OXCRPC] 2.2.2.2.12), also its BG/FG types."""

    processId: int = 0
    clientId: int = 0
    serverId: int = 0
    sessionId: int = 0
    timeSinceRequest: int = 0
    timeToCompleteRequest: int = 0
    requestOperation: int = 0
    reserved: bytes = b"\x00\x00\x00"

    _LAYOUT = (
        ("processId", "H"),
        ("clientId", "H"),
        ("serverId", "H"),
        ("sessionId", "H"),
        ("timeSinceRequest", "I"),
        ("timeToCompleteRequest", "I"),
        ("requestOperation", "B"),
        ("reserved", "3s"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_GC_SUCCESS,
        AuxType.PERF_BG_GC_SUCCESS,
        AuxType.PERF_FG_GC_SUCCESS,
        AUX_VERSION_2,
    )


@dataclass
class AuxPerfFailure(AuxBlock):
    """AUX_PERF_FAILURE ([MS-OXCRPC] 2.2.2.2.13), also its BG/FG types."""

    clientId: int = 0
    serverId: int = 0
    sessionId: int = 0
    requestId: int = 0
    timeSinceRequest: int = 0
    timeToFailRequest: int = 0
    resultCode: int = 0
    requestOperation: int = 0
    reserved: bytes = b"\x00\x00\x00"

    _LAYOUT = (
        ("clientId", "H"),
        ("serverId", "H"),
        ("sessionId", "H"),
        ("requestId", "H"),
        ("timeSinceRequest", "I"),
        ("timeToFailRequest", "I"),
        ("resultCode", "I"),
        ("requestOperation", "B"),
        ("reserved", "3s"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_FAILURE, AuxType.PERF_BG_FAILURE, AuxType.PERF_FG_FAILURE, AUX_VERSION_1
    )


@dataclass
class AuxPerfFailureV2(AuxBlock):
    """AUX_PERF_FAILURE_V2 ([MS-OXCRPC] 2.2.2.2.14), also its BG/FG types."""

    processId: int = 0
    clientId: int = 0
    serverId: int = 0
    sessionId: int = 0
    requestId: int = 0
    reserved1: int = 0
    timeSinceRequest: int = 0
    timeToFailRequest: int = 0
    resultCode: int = 0
    requestOperation: int = 0
    reserved2: bytes = b"\x00\x00\x00"

    _LAYOUT = (
        ("processId", "H"),
        ("clientId", "H"),
        ("serverId", "H"),
        ("sessionId", "H"),
        ("requestId", "H"),
        ("reserved1", "H"),
        ("timeSinceRequest", "I"),
        ("timeToFailRequest", "I"),
        ("resultCode", "I"),
        ("requestOperation", "B"),
        ("reserved2", "3s"),
    )
    _TYPES = _successTypes(
        AuxType.PERF_FAILURE, AuxType.PERF_BG_FAILURE, AuxType.PERF_FG_FAILURE, AUX_VERSION_2
    )


@dataclass
class AuxClientControl(AuxBlock):
    """
    AUX_CLIENT_CONTROL ([MS-OXCRPC] 2.2.2.2.15): the server tells the client
    what performance data to send (C{enableFlags}: 0x1 SendToServer, 0x4
    Compression, 0x8 HttpTunneling, 0x10 SendGcData) and for how long
    (C{expiryTime}, milliseconds).
    """

    enableFlags: int = 0
    expiryTime: int = 0

    _LAYOUT = (("enableFlags", "I"), ("expiryTime", "I"))
    _TYPES = ((AuxType.CLIENT_CONTROL, AUX_VERSION_1),)


@dataclass
class AuxPerfProcessInfo(AuxBlock):
    """AUX_PERF_PROCESSINFO ([MS-OXCRPC] 2.2.2.2.6); one layout for versions 2 and 1."""

    processId: int = 0
    reserved1: int = 0
    processGuid: uuid.UUID = _NIL_GUID
    reserved2: int = 0
    processName: str = None

    _LAYOUT = (
        ("processId", "H"),
        ("reserved1", "H"),
        ("processGuid", "guid"),
        ("_processNameOffset", "H"),
        ("reserved2", "H"),
    )
    _TYPES = (
        (AuxType.PERF_PROCESSINFO, AUX_VERSION_2),
        (AuxType.PERF_PROCESSINFO, AUX_VERSION_1),
    )

    @classmethod
    def _decodeVariable(cls, v, body):
        return {"processName": _readString(body, v["_processNameOffset"], "ProcessName")}

    def _encodeVariable(self, start):
        return _layoutParts(start, [("_processNameOffset", None, self.processName, True)])


@dataclass
class AuxOsVersionInfo(AuxBlock):
    """AUX_OSVERSIONINFO ([MS-OXCRPC] 2.2.2.2.16)."""

    osVersionInfoSize: int = 0
    majorVersion: int = 0
    minorVersion: int = 0
    buildNumber: int = 0
    reserved1: bytes = b"\x00" * 132
    servicePackMajor: int = 0
    servicePackMinor: int = 0
    reserved2: int = 0

    _LAYOUT = (
        ("osVersionInfoSize", "I"),
        ("majorVersion", "I"),
        ("minorVersion", "I"),
        ("buildNumber", "I"),
        ("reserved1", "132s"),
        ("servicePackMajor", "H"),
        ("servicePackMinor", "H"),
        ("reserved2", "I"),
    )
    _TYPES = ((AuxType.OSVERSIONINFO, AUX_VERSION_1),)


@dataclass
class AuxExOrgInfo(AuxBlock):
    """
    AUX_EXORGINFO ([MS-OXCRPC] 2.2.2.2.17): C{orgFlags} 0x1
    PublicFoldersEnabled, 0x2 UseAutodiscoverForPublicFolderConfiguration.
    """

    orgFlags: int = 0

    _LAYOUT = (("orgFlags", "I"),)
    _TYPES = ((AuxType.EXORGINFO, AUX_VERSION_1),)


@dataclass
class AuxPerfAccountInfo(AuxBlock):
    """AUX_PERF_ACCOUNTINFO ([MS-OXCRPC] 2.2.2.2.18)."""

    clientId: int = 0
    reserved: int = 0
    account: uuid.UUID = _NIL_GUID

    _LAYOUT = (("clientId", "H"), ("reserved", "H"), ("account", "guid"))
    _TYPES = ((AuxType.PERF_ACCOUNTINFO, AUX_VERSION_1),)


@dataclass
class AuxEndpointCapabilities(AuxBlock):
    """AUX_ENDPOINT_CAPABILITIES ([MS-OXCRPC] 2.2.2.2): 0x1 SingleEndpoint."""

    endpointCapabilityFlag: int = 0

    _LAYOUT = (("endpointCapabilityFlag", "I"),)
    _TYPES = ((AuxType.ENDPOINT_CAPABILITIES, AUX_VERSION_1),)


@dataclass
class AuxClientConnectionInfo(AuxBlock):
    """AUX_CLIENT_CONNECTION_INFO ([MS-OXCRPC] 2.2.2.2.20)."""

    connectionGuid: uuid.UUID = _NIL_GUID
    reserved: int = 0
    connectionAttempts: int = 0
    connectionFlags: int = 0
    connectionContextInfo: str = None

    _LAYOUT = (
        ("connectionGuid", "guid"),
        ("_connectionContextInfoOffset", "H"),
        ("reserved", "H"),
        ("connectionAttempts", "I"),
        ("connectionFlags", "I"),
    )
    _TYPES = ((AuxType.CLIENT_CONNECTION_INFO, AUX_VERSION_1),)

    @classmethod
    def _decodeVariable(cls, v, body):
        return {
            "connectionContextInfo": _readString(
                body, v["_connectionContextInfoOffset"], "ConnectionContextInfo"
            )
        }

    def _encodeVariable(self, start):
        return _layoutParts(
            start, [("_connectionContextInfoOffset", None, self.connectionContextInfo, True)]
        )


@dataclass
class AuxServerSessionInfo(AuxBlock):
    """AUX_SERVER_SESSION_INFO ([MS-OXCRPC] 2.2.2.2.21)."""

    serverSessionContextInfo: str = None

    _LAYOUT = (("_serverSessionContextInfoOffset", "H"),)
    _TYPES = ((AuxType.SERVER_SESSION_INFO, AUX_VERSION_1),)

    @classmethod
    def _decodeVariable(cls, v, body):
        return {
            "serverSessionContextInfo": _readString(
                body, v["_serverSessionContextInfoOffset"], "ServerSessionContextInfo"
            )
        }

    def _encodeVariable(self, start):
        return _layoutParts(
            start,
            [("_serverSessionContextInfoOffset", None, self.serverSessionContextInfo, True)],
        )


@dataclass
class AuxProtocolDeviceIdentification(AuxBlock):
    """AUX_PROTOCOL_DEVICE_IDENTIFICATION ([MS-OXCRPC] 2.2.2.2.22)."""

    deviceManufacturer: str = None
    deviceModel: str = None
    deviceSerialNumber: str = None
    deviceVersion: str = None
    deviceFirmwareVersion: str = None

    _STRINGS = (
        "deviceManufacturer",
        "deviceModel",
        "deviceSerialNumber",
        "deviceVersion",
        "deviceFirmwareVersion",
    )
    _LAYOUT = tuple(("_%sOffset" % (name,), "H") for name in _STRINGS)
    _TYPES = ((AuxType.PROTOCOL_DEVICE_IDENTIFICATION, AUX_VERSION_1),)

    @classmethod
    def _decodeVariable(cls, v, body):
        return {
            name: _readString(body, v["_%sOffset" % (name,)], name) for name in cls._STRINGS
        }

    def _encodeVariable(self, start):
        return _layoutParts(
            start,
            [("_%sOffset" % (name,), None, getattr(self, name), True) for name in self._STRINGS],
        )


_REGISTRY = {}
for _class in (
    AuxPerfRequestId,
    AuxPerfClientInfo,
    AuxPerfServerInfo,
    AuxPerfSessionInfo,
    AuxPerfSessionInfoV2,
    AuxPerfDefMdbSuccess,
    AuxPerfDefGcSuccess,
    AuxPerfMdbSuccess,
    AuxPerfMdbSuccessV2,
    AuxPerfGcSuccess,
    AuxPerfGcSuccessV2,
    AuxPerfFailure,
    AuxPerfFailureV2,
    AuxClientControl,
    AuxPerfProcessInfo,
    AuxOsVersionInfo,
    AuxExOrgInfo,
    AuxPerfAccountInfo,
    AuxEndpointCapabilities,
    AuxClientConnectionInfo,
    AuxServerSessionInfo,
    AuxProtocolDeviceIdentification,
):
    for _pair in _class._TYPES:
        _REGISTRY[(int(_pair[0]), _pair[1])] = _class
del _class, _pair


def decodeAuxBlocks(payload, strict=True):
    """
    Decode the AUX_HEADER blocks of a plain aux payload.

    @param payload: The plain payload of an extended buffer.
    @type payload: L{bytes}-like

    @param strict: When false, a known block whose body does not parse is
        kept as a L{RawAuxBlock} instead of raising.
    @type strict: L{bool}

    @return: One block per AUX_HEADER, in order: an L{AuxBlock} subclass
        for known (type, version) pairs, L{RawAuxBlock} otherwise.
    @rtype: L{list}

    @raise MapiBufferError: On a truncated header, a Size below 4 or past
        the end, or (when C{strict}) a malformed known block.
    """
    payload = bytes(payload)
    blocks = []
    position = 0
    total = len(payload)
    while position < total:
        header = AuxHeader.decode(payload, position)
        end = position + header.size
        if end > total:
            raise MapiBufferError(
                "AUX_HEADER at offset %d announces %d bytes, %d left"
                % (position, header.size, total - position)
            )
        body = payload[position + _AUX_HEADER_SIZE : end]
        blockClass = _REGISTRY.get((header.type, header.version))
        if blockClass is None:
            block = RawAuxBlock(header.version, header.type, body)
        else:
            try:
                block = blockClass.decodeBody(header.version, header.type, body)
            except MapiBufferError as e:
                if strict:
                    raise MapiBufferError(
                        "AUX block at offset %d: %s" % (position, e)
                    ) from None
                block = RawAuxBlock(header.version, header.type, body)
        blocks.append(block)
        position = end
    return blocks


def encodeAuxBlocks(blocks):
    """
    Encode AUX blocks, each behind its AUX_HEADER. Blocks decoded by
    L{decodeAuxBlocks} and left unchanged come out byte-identical.

    @param blocks: L{AuxBlock} or L{RawAuxBlock} instances.
    @type blocks: iterable

    @rtype: L{bytes}

    @raise MapiBufferError: When a block does not fit a u16 Size or has a
        version or type that is not a byte.
    """
    parts = []
    for block in blocks:
        body = block.encodeBody()
        size = _AUX_HEADER_SIZE + len(body)
        try:
            parts.append(_AUX_HEADER.pack(size, block.version, block.type))
        except StructError as e:
            raise MapiBufferError("AUX_HEADER of %r: %s" % (type(block).__name__, e)) from None
        parts.append(body)
    return b"".join(parts)


def decodeAux(rgbAux, strict=True):
    """
    Decode rgbAuxIn or rgbAuxOut: the RPC_HEADER_EXT chain, then the AUX
    blocks of every buffer in order.

    @param rgbAux: The aux bytes; empty (cbAuxIn 0) gives no buffer.
    @type rgbAux: L{bytes}-like

    @param strict: See L{decodeAuxBlocks}.
    @type strict: L{bool}

    @return: The extended buffers and the blocks of all of them.
    @rtype: L{tuple} of (L{list} of L{ExtendedBuffer}, L{list})

    @raise MapiBufferError: See L{decodeChain} and L{decodeAuxBlocks}.
    """
    if not rgbAux:
        return [], []
    buffers = decodeChain(rgbAux)
    blocks = []
    for buf in buffers:
        blocks.extend(decodeAuxBlocks(buf.payload, strict))
    return buffers, blocks


def encodeAux(blocks, compressed=False, obfuscated=False):
    """
    Encode AUX blocks as one extended buffer (rgbAuxIn/rgbAuxOut).

    @param blocks: The blocks.
    @type blocks: iterable

    @param compressed: Ask for LZ77 (applied only when it shrinks).
    @type compressed: L{bool}

    @param obfuscated: Ask for XOR 0xA5.
    @type obfuscated: L{bool}

    @rtype: L{bytes}

    @raise MapiBufferError: See L{encodeAuxBlocks} and L{encodeChain}.
    """
    payload = encodeAuxBlocks(blocks)
    return encodeChain(
        [ExtendedBuffer.make(payload, compressed=compressed, obfuscated=obfuscated)]
    )
