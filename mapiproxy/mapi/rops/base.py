# -*- test-case-name: tests.mapi.rops.test_base -*-
"""
The ROP codec framework ([MS-OXCROPS] 2.2): a packed little-endian
L{Reader} and L{Writer}, the registry of request and response classes, the
per-session L{RopContext} and the buffer-level L{decodeRequests},
L{decodeResponses}, L{encodeRequests} and L{encodeResponses}.

A ROP request starts with a 3-byte header (RopId, LogonId,
InputHandleIndex, [MS-OXCROPS] 2.2.1); a ROP response with a 6-byte one
(RopId, a handle index, ReturnValue u32), except RopNotify, RopPending,
RopBackoff and RopBufferTooSmall, whose bodies follow the RopId directly.
ROPs carry no length, so a ROP that is unknown or does not parse ends the
decoded list with an L{UnknownRop} holding the rest of the bytes verbatim.

Family modules (C{logon}, C{table}, C{message}, C{property}, C{sync},
C{notify}) register one class per ROP with L{ropRequest} and
L{ropResponse}.

Sans-I/O; no Twisted.
"""

import codecs
import importlib
import struct
import uuid
from dataclasses import dataclass
from typing import ClassVar

from mapiproxy.errors import RopError

__all__ = [
    "ROP_NAMES",
    "ROP_IDS",
    "NO_RESPONSE_IDS",
    "NO_HEADER_IDS",
    "REQUEST_CLASSES",
    "RESPONSE_CLASSES",
    "Reader",
    "Writer",
    "RopContext",
    "RopRequest",
    "RopResponse",
    "UnknownRop",
    "ropRequest",
    "ropResponse",
    "ropName",
    "loadFamilies",
    "FAMILY_MODULES",
    "decodeRequests",
    "decodeResponses",
    "encodeRequests",
    "encodeResponses",
]

#: Every RopId of [MS-OXCROPS] 2.2.2, plus OpenChange's private 0xA5.
ROP_NAMES = {
    0x01: "RopRelease",
    0x02: "RopOpenFolder",
    0x03: "RopOpenMessage",
    0x04: "RopGetHierarchyTable",
    0x05: "RopGetContentsTable",
    0x06: "RopCreateMessage",
    0x07: "RopGetPropertiesSpecific",
    0x08: "RopGetPropertiesAll",
    0x09: "RopGetPropertiesList",
    0x0A: "RopSetProperties",
    0x0B: "RopDeleteProperties",
    0x0C: "RopSaveChangesMessage",
    0x0D: "RopRemoveAllRecipients",
    0x0E: "RopModifyRecipients",
    0x0F: "RopReadRecipients",
    0x10: "RopReloadCachedInformation",
    0x11: "RopSetMessageReadFlag",
    0x12: "RopSetColumns",
    0x13: "RopSortTable",
    0x14: "RopRestrict",
    0x15: "RopQueryRows",
    0x16: "RopGetStatus",
    0x17: "RopQueryPosition",
    0x18: "RopSeekRow",
    0x19: "RopSeekRowBookmark",
    0x1A: "RopSeekRowFractional",
    0x1B: "RopCreateBookmark",
    0x1C: "RopCreateFolder",
    0x1D: "RopDeleteFolder",
    0x1E: "RopDeleteMessages",
    0x1F: "RopGetMessageStatus",
    0x20: "RopSetMessageStatus",
    0x21: "RopGetAttachmentTable",
    0x22: "RopOpenAttachment",
    0x23: "RopCreateAttachment",
    0x24: "RopDeleteAttachment",
    0x25: "RopSaveChangesAttachment",
    0x26: "RopSetReceiveFolder",
    0x27: "RopGetReceiveFolder",
    0x29: "RopRegisterNotification",
    0x2A: "RopNotify",
    0x2B: "RopOpenStream",
    0x2C: "RopReadStream",
    0x2D: "RopWriteStream",
    0x2E: "RopSeekStream",
    0x2F: "RopSetStreamSize",
    0x30: "RopSetSearchCriteria",
    0x31: "RopGetSearchCriteria",
    0x32: "RopSubmitMessage",
    0x33: "RopMoveCopyMessages",
    0x34: "RopAbortSubmit",
    0x35: "RopMoveFolder",
    0x36: "RopCopyFolder",
    0x37: "RopQueryColumnsAll",
    0x38: "RopAbort",
    0x39: "RopCopyTo",
    0x3A: "RopCopyToStream",
    0x3B: "RopCloneStream",
    0x3E: "RopGetPermissionsTable",
    0x3F: "RopGetRulesTable",
    0x40: "RopModifyPermissions",
    0x41: "RopModifyRules",
    0x42: "RopGetOwningServers",
    0x43: "RopLongTermIdFromId",
    0x44: "RopIdFromLongTermId",
    0x45: "RopPublicFolderIsGhosted",
    0x46: "RopOpenEmbeddedMessage",
    0x47: "RopSetSpooler",
    0x48: "RopSpoolerLockMessage",
    0x49: "RopGetAddressTypes",
    0x4A: "RopTransportSend",
    0x4B: "RopFastTransferSourceCopyMessages",
    0x4C: "RopFastTransferSourceCopyFolder",
    0x4D: "RopFastTransferSourceCopyTo",
    0x4E: "RopFastTransferSourceGetBuffer",
    0x4F: "RopFindRow",
    0x50: "RopProgress",
    0x51: "RopTransportNewMail",
    0x52: "RopGetValidAttachments",
    0x53: "RopFastTransferDestinationConfigure",
    0x54: "RopFastTransferDestinationPutBuffer",
    0x55: "RopGetNamesFromPropertyIds",
    0x56: "RopGetPropertyIdsFromNames",
    0x57: "RopUpdateDeferredActionMessages",
    0x58: "RopEmptyFolder",
    0x59: "RopExpandRow",
    0x5A: "RopCollapseRow",
    0x5B: "RopLockRegionStream",
    0x5C: "RopUnlockRegionStream",
    0x5D: "RopCommitStream",
    0x5E: "RopGetStreamSize",
    0x5F: "RopQueryNamedProperties",
    0x60: "RopGetPerUserLongTermIds",
    0x61: "RopGetPerUserGuid",
    0x63: "RopReadPerUserInformation",
    0x64: "RopWritePerUserInformation",
    0x66: "RopSetReadFlags",
    0x67: "RopCopyProperties",
    0x68: "RopGetReceiveFolderTable",
    0x69: "RopFastTransferSourceCopyProperties",
    0x6B: "RopGetCollapseState",
    0x6C: "RopSetCollapseState",
    0x6D: "RopGetTransportFolder",
    0x6E: "RopPending",
    0x6F: "RopOptionsData",
    0x70: "RopSynchronizationConfigure",
    0x72: "RopSynchronizationImportMessageChange",
    0x73: "RopSynchronizationImportHierarchyChange",
    0x74: "RopSynchronizationImportDeletes",
    0x75: "RopSynchronizationUploadStateStreamBegin",
    0x76: "RopSynchronizationUploadStateStreamContinue",
    0x77: "RopSynchronizationUploadStateStreamEnd",
    0x78: "RopSynchronizationImportMessageMove",
    0x79: "RopSetPropertiesNoReplicate",
    0x7A: "RopDeletePropertiesNoReplicate",
    0x7B: "RopGetStoreState",
    0x7E: "RopSynchronizationOpenCollector",
    0x7F: "RopGetLocalReplicaIds",
    0x80: "RopSynchronizationImportReadStateChanges",
    0x81: "RopResetTable",
    0x82: "RopSynchronizationGetTransferState",
    0x86: "RopTellVersion",
    0x89: "RopFreeBookmark",
    0x90: "RopWriteAndCommitStream",
    0x91: "RopHardDeleteMessages",
    0x92: "RopHardDeleteMessagesAndSubfolders",
    0x93: "RopSetLocalReplicaMidsetDeleted",
    0x9D: "RopFastTransferDestinationPutBufferExtended",
    0xA3: "RopWriteStreamExtended",
    0xA5: "RopProxyPack",
    0xF9: "RopBackoff",
    0xFE: "RopLogon",
    0xFF: "RopBufferTooSmall",
}

#: The reverse of L{ROP_NAMES}: C{ROP_IDS["RopLogon"] == 0xFE}.
ROP_IDS = {name: ropId for ropId, name in ROP_NAMES.items()}

#: Requests the server never answers (RopRelease, [MS-OXCROPS] 2.2.15.3).
NO_RESPONSE_IDS = frozenset([0x01])

#: Responses without the InputHandleIndex/ReturnValue header, sent without a
#: matching request ([MS-OXCROPS] 2.2.14.2, 2.2.14.3, 2.2.15.1, 2.2.15.2).
NO_HEADER_IDS = frozenset([0x2A, 0x6E, 0xF9, 0xFF])

#: RopId -> registered request class.
REQUEST_CLASSES = {}
#: RopId -> registered response class.
RESPONSE_CLASSES = {}

#: The family modules that register the ROP classes, imported on first use
#: by L{loadFamilies} (they import this module, and L{mapiproxy.mapi.oxcdata}
#: which imports it too, so they cannot be imported by the package itself).
FAMILY_MODULES = (
    "mapiproxy.mapi.rops.logon",
    "mapiproxy.mapi.rops.table",
    "mapiproxy.mapi.rops.message",
    "mapiproxy.mapi.rops.property",
    "mapiproxy.mapi.rops.sync",
    "mapiproxy.mapi.rops.notify",
)

_loaded = False

_U8 = struct.Struct("<B")
_I8 = struct.Struct("<b")
_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_U32 = struct.Struct("<I")
_I32 = struct.Struct("<i")
_U64 = struct.Struct("<Q")
_I64 = struct.Struct("<q")
_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_REQ_HEADER = struct.Struct("<BBB")
_RESP_HEADER = struct.Struct("<BBI")

_utf16 = codecs.utf_16_le_decode
_u8 = _U8.unpack_from
_u16 = _U16.unpack_from
_u32 = _U32.unpack_from
_u64 = _U64.unpack_from


def ropName(ropId):
    """
    The [MS-OXCROPS] name of a RopId.

    @param ropId: A RopId.
    @type ropId: L{int}

    @return: e.g. C{"RopLogon"}, or C{"Rop0x28"} for an id not in
        L{ROP_NAMES}.
    @rtype: L{str}
    """
    name = ROP_NAMES.get(ropId)
    if name is None:
        return "Rop0x%02X" % (ropId,)
    return name


class Reader:
    """
    A cursor over packed little-endian bytes (ROP buffers have no
    alignment, [MS-OXCROPS] 2.2.1).

    Every read past C{end} raises L{RopError}; nothing else escapes.

    @ivar offset: The position of the next read.
    @type offset: L{int}

    @ivar end: The position the reader may not read past.
    @type end: L{int}
    """

    __slots__ = ("_data", "offset", "end")

    def __init__(self, data, offset=0, end=None):
        """
        @param data: The bytes to read (a L{memoryview} or L{bytearray} is
            copied once into L{bytes}).
        @type data: L{bytes}

        @param offset: Where to start.
        @type offset: L{int}

        @param end: Where to stop (default: the end of C{data}).
        @type end: L{int} or L{None}
        """
        if type(data) is not bytes:
            data = bytes(data)
        self._data = data
        size = len(data)
        if end is None or end > size:
            end = size
        if offset < 0 or offset > end:
            raise RopError("reader offset %d outside 0..%d" % (offset, end))
        self.offset = offset
        self.end = end

    @property
    def data(self):
        """
        The underlying bytes (the whole buffer, not only this window).
        """
        return self._data

    @property
    def remaining(self):
        """
        How many bytes are left before C{end}.
        """
        return self.end - self.offset

    def atEnd(self):
        """
        @return: Whether every byte has been read.
        @rtype: L{bool}
        """
        return self.offset >= self.end

    def _short(self, wanted):
        raise RopError(
            "truncated: %d byte(s) wanted at offset %d, %d left"
            % (wanted, self.offset, self.end - self.offset)
        )

    def _take(self, size, unpacker):
        o = self.offset
        n = o + size
        if n > self.end:
            self._short(size)
        self.offset = n
        return unpacker(self._data, o)[0]

    def u8(self):
        """
        @return: An unsigned byte.
        @rtype: L{int}
        """
        o = self.offset
        if o >= self.end:
            self._short(1)
        self.offset = o + 1
        return self._data[o]

    def i8(self):
        """
        @return: A signed byte.
        @rtype: L{int}
        """
        return self._take(1, _I8.unpack_from)

    def u16(self):
        """
        @return: An unsigned 16-bit integer.
        @rtype: L{int}
        """
        o = self.offset
        n = o + 2
        if n > self.end:
            self._short(2)
        self.offset = n
        return _u16(self._data, o)[0]

    def u32(self):
        """
        @return: An unsigned 32-bit integer.
        @rtype: L{int}
        """
        o = self.offset
        n = o + 4
        if n > self.end:
            self._short(4)
        self.offset = n
        return _u32(self._data, o)[0]

    def u64(self):
        """
        @return: An unsigned 64-bit integer.
        @rtype: L{int}
        """
        o = self.offset
        n = o + 8
        if n > self.end:
            self._short(8)
        self.offset = n
        return _u64(self._data, o)[0]

    def i16(self):
        """
        @return: A signed 16-bit integer.
        @rtype: L{int}
        """
        return self._take(2, _I16.unpack_from)

    def i32(self):
        """
        @return: A signed 32-bit integer.
        @rtype: L{int}
        """
        return self._take(4, _I32.unpack_from)

    def i64(self):
        """
        @return: A signed 64-bit integer.
        @rtype: L{int}
        """
        return self._take(8, _I64.unpack_from)

    def f32(self):
        """
        @return: An IEEE 754 single.
        @rtype: L{float}
        """
        return self._take(4, _F32.unpack_from)

    def f64(self):
        """
        @return: An IEEE 754 double.
        @rtype: L{float}
        """
        return self._take(8, _F64.unpack_from)

    def bool8(self):
        """
        @return: A one-byte Boolean (any nonzero value is true).
        @rtype: L{bool}
        """
        return self.u8() != 0

    def bool16(self):
        """
        @return: A two-byte Boolean (any nonzero value is true).
        @rtype: L{bool}
        """
        return self.u16() != 0

    def bytes(self, n):
        """
        @param n: How many bytes.
        @type n: L{int}

        @return: The next C{n} bytes.
        @rtype: L{bytes}
        """
        o = self.offset
        e = o + n
        if n < 0 or e > self.end:
            self._short(n)
        self.offset = e
        return self._data[o:e]

    def rest(self):
        """
        @return: Every byte left before C{end} (the reader ends up at the
            end).
        @rtype: L{bytes}
        """
        o = self.offset
        self.offset = self.end
        return self._data[o : self.end]

    def peekU8(self):
        """
        @return: The next byte, without consuming it.
        @rtype: L{int}
        """
        o = self.offset
        if o >= self.end:
            self._short(1)
        return self._data[o]

    def _array(self, n, size, code):
        if n < 0:
            raise RopError("negative array count %d" % (n,))
        o = self.offset
        e = o + n * size
        if e > self.end:
            self._short(n * size)
        self.offset = e
        return list(struct.unpack_from("<%d%s" % (n, code), self._data, o))

    def u16Array(self, n):
        """
        @param n: How many items.
        @type n: L{int}

        @return: C{n} unsigned 16-bit integers.
        @rtype: L{list} of L{int}
        """
        return self._array(n, 2, "H")

    def u32Array(self, n):
        """
        @param n: How many items.
        @type n: L{int}

        @return: C{n} unsigned 32-bit integers.
        @rtype: L{list} of L{int}
        """
        return self._array(n, 4, "I")

    def u64Array(self, n):
        """
        @param n: How many items.
        @type n: L{int}

        @return: C{n} unsigned 64-bit integers.
        @rtype: L{list} of L{int}
        """
        return self._array(n, 8, "Q")

    def guid(self):
        """
        A GUID in its little-endian wire layout ([MS-DTYP] 2.3.4.2).

        @rtype: L{uuid.UUID}
        """
        o = self.offset
        e = o + 16
        if e > self.end:
            self._short(16)
        self.offset = e
        return uuid.UUID(bytes_le=self._data[o:e])

    def asciiz(self):
        """
        An 8-bit NUL-terminated string, decoded as Latin-1 so that every
        byte string round-trips.

        @rtype: L{str}
        """
        o = self.offset
        i = self._data.find(b"\x00", o, self.end)
        if i < 0:
            raise RopError("unterminated 8-bit string at offset %d" % (o,))
        self.offset = i + 1
        return self._data[o:i].decode("latin-1")

    def unicodez(self):
        """
        A UTF-16LE NUL-terminated string (no alignment required). Unpaired
        surrogates are kept (C{surrogatepass}) so that they round-trip.

        @rtype: L{str}
        """
        data = self._data
        o = self.offset
        end = self.end
        pos = o
        while True:
            i = data.find(b"\x00\x00", pos, end)
            if i < 0:
                raise RopError("unterminated UTF-16 string at offset %d" % (o,))
            if (i - o) & 1:
                pos = i + 1
                continue
            break
        self.offset = i + 2
        return _utf16(data[o:i], "surrogatepass", True)[0]

    def counted(self, count, itemReader, minSize=1):
        """
        Read C{count} items.

        @param count: How many.
        @type count: L{int}

        @param itemReader: Called once per item, with this reader as its
            argument (e.g. C{PropertyName.read}), or without arguments when
            it is a method of this very reader (e.g. C{r.u32}).

        @param minSize: The least number of bytes one item takes; a count
            that cannot fit in the bytes left is refused before any item is
            read.
        @type minSize: L{int}

        @rtype: L{list}
        @raise RopError: If the items do not fit.
        """
        if count < 0 or count * minSize > self.end - self.offset:
            raise RopError(
                "%d item(s) cannot fit in %d byte(s)" % (count, self.end - self.offset)
            )
        if getattr(itemReader, "__self__", None) is self:
            return [itemReader() for _ in range(count)]
        return [itemReader(self) for _ in range(count)]

    def sub(self, n):
        """
        A reader over the next C{n} bytes; this reader skips them.

        @param n: The window size.
        @type n: L{int}

        @rtype: L{Reader}
        """
        o = self.offset
        e = o + n
        if n < 0 or e > self.end:
            self._short(n)
        self.offset = e
        r = Reader.__new__(Reader)
        r._data = self._data
        r.offset = o
        r.end = e
        return r


def _packer(s):
    pack = s.pack

    def write(self, v):
        try:
            self._buf += pack(v)
        except (struct.error, TypeError) as e:
            raise RopError("cannot encode %r: %s" % (v, e)) from None

    return write


class Writer:
    """
    Packed little-endian output, the mirror of L{Reader}.

    Values out of range for their field raise L{RopError}.
    """

    __slots__ = ("_buf",)

    def __init__(self):
        self._buf = bytearray()

    def __len__(self):
        return len(self._buf)

    def getvalue(self):
        """
        @return: Everything written so far.
        @rtype: L{bytes}
        """
        return bytes(self._buf)

    u8 = _packer(_U8)
    i8 = _packer(_I8)
    u16 = _packer(_U16)
    i16 = _packer(_I16)
    u32 = _packer(_U32)
    i32 = _packer(_I32)
    u64 = _packer(_U64)
    i64 = _packer(_I64)
    f32 = _packer(_F32)
    f64 = _packer(_F64)

    def bool8(self, v):
        """
        A one-byte Boolean: C{True} is 1, C{False} 0; an L{int} is written
        as is (so that a decoded nonzero byte may be kept exact).
        """
        self.u8(int(v))

    def bool16(self, v):
        """
        A two-byte Boolean: C{True} is 1, C{False} 0; an L{int} is written
        as is.
        """
        self.u16(int(v))

    def bytes(self, b):
        """
        @param b: Raw bytes to append.
        @type b: L{bytes}
        """
        try:
            self._buf += b
        except TypeError as e:
            raise RopError("cannot encode %r as bytes: %s" % (type(b), e)) from None

    def _array(self, code, values):
        try:
            self._buf += struct.pack("<%d%s" % (len(values), code), *values)
        except (struct.error, TypeError) as e:
            raise RopError("cannot encode array: %s" % (e,)) from None

    def u16Array(self, values):
        """
        @param values: Unsigned 16-bit integers (no count is written).
        """
        self._array("H", values)

    def u32Array(self, values):
        """
        @param values: Unsigned 32-bit integers (no count is written).
        """
        self._array("I", values)

    def u64Array(self, values):
        """
        @param values: Unsigned 64-bit integers (no count is written).
        """
        self._array("Q", values)

    def guid(self, u):
        """
        @param u: A GUID, written in its little-endian wire layout.
        @type u: L{uuid.UUID}
        """
        try:
            self._buf += u.bytes_le
        except AttributeError:
            raise RopError("not a uuid.UUID: %r" % (u,)) from None

    def asciiz(self, s):
        """
        @param s: An 8-bit string, encoded as Latin-1, followed by a NUL.
        @type s: L{str}
        """
        try:
            self._buf += s.encode("latin-1")
        except (UnicodeEncodeError, AttributeError) as e:
            raise RopError("cannot encode 8-bit string: %s" % (e,)) from None
        self._buf.append(0)

    def unicodez(self, s):
        """
        @param s: A string, encoded as UTF-16LE, followed by a 2-byte NUL.
        @type s: L{str}
        """
        try:
            self._buf += s.encode("utf-16-le", "surrogatepass")
        except (UnicodeEncodeError, AttributeError) as e:
            raise RopError("cannot encode UTF-16 string: %s" % (e,)) from None
        self._buf += b"\x00\x00"

    def placeholderU16(self):
        """
        Reserve a u16 to be filled later with L{setU16} (e.g. a size that
        precedes what it measures).

        @return: Its position.
        @rtype: L{int}
        """
        pos = len(self._buf)
        self._buf += b"\x00\x00"
        return pos

    def placeholderU32(self):
        """
        Reserve a u32 to be filled later with L{setU32}.

        @return: Its position.
        @rtype: L{int}
        """
        pos = len(self._buf)
        self._buf += b"\x00\x00\x00\x00"
        return pos

    def setU16(self, pos, v):
        """
        Overwrite the u16 at C{pos}.
        """
        try:
            _U16.pack_into(self._buf, pos, v)
        except struct.error as e:
            raise RopError("cannot encode %r as u16: %s" % (v, e)) from None

    def setU32(self, pos, v):
        """
        Overwrite the u32 at C{pos}.
        """
        try:
            _U32.pack_into(self._buf, pos, v)
        except struct.error as e:
            raise RopError("cannot encode %r as u32: %s" % (v, e)) from None


class RopContext:
    """
    Per-session decoding state: follows the server object handles of the
    buffers so that ROPs whose layout depends on earlier ROPs can be
    decoded (RopQueryRows needs the columns of RopSetColumns, RopLogon's
    response depends on its request's flags).

    Objects are keyed by their server object handle value (u32). An object
    created earlier in the same request buffer has no handle value yet (the
    client puts a placeholder in the table): while the requests are
    decoded, L{handleOf} answers a provisional negative key for it. When
    L{decodeResponses} has decoded the response of the ROP that created it,
    the state kept under that key (L{columns} and every L{handleState}
    dict) moves to the real handle found in the response's handle table at
    the OutputHandleIndex, and L{handleOf} answers that real handle for the
    rest of the buffer (the key's state is dropped if the ROP failed). Once
    a response buffer is decoded, the state of the handles its requests
    released (RopRelease) is forgotten.

    @ivar columns: Table handle -> property tags of its last RopSetColumns.
    @type columns: L{dict}

    @ivar logons: LogonId -> LogonFlags of its RopLogon request.
    @type logons: L{dict}

    @ivar handles: The handle table used by L{handleOf}.
    @type handles: L{list} of L{int}

    @ivar responseHandles: The handle table of the response buffer being
        decoded or encoded (empty otherwise).
    @type responseHandles: L{list} of L{int}
    """

    def __init__(self):
        self.columns = {}
        self.logons = {}
        self.handles = []
        self.responseHandles = []
        self._state = {}
        self._handleStates = {}
        self._provisional = {}
        self._nextToken = -1

    def handleOf(self, handleIndex):
        """
        The object at an index of the current handle table.

        @param handleIndex: An InputHandleIndex (or any index into the
            table).
        @type handleIndex: L{int}

        @return: The handle value, a provisional negative key for an object
            created by an earlier ROP of the same buffer, or L{None} if the
            index is outside the table.
        @rtype: L{int} or L{None}
        """
        token = self._provisional.get(handleIndex)
        if token is not None:
            return token
        handles = self.handles
        if 0 <= handleIndex < len(handles):
            return handles[handleIndex]
        return None

    def responseHandleOf(self, handleIndex):
        """
        The handle value at an index of the response's handle table.

        @rtype: L{int} or L{None}
        """
        handles = self.responseHandles
        if 0 <= handleIndex < len(handles):
            return handles[handleIndex]
        return None

    def remember(self, key, value):
        """
        Keep per-session state (name keys C{"family:thing"}).
        """
        self._state[key] = value

    def recall(self, key, default=None):
        """
        @return: What L{remember} kept under C{key}, or C{default}.
        """
        return self._state.get(key, default)

    def forget(self, key):
        """
        Drop what L{remember} kept under C{key} (no error if nothing).
        """
        self._state.pop(key, None)

    def handleState(self, name):
        """
        A dict keyed by handle (as returned by L{handleOf}) that follows
        provisional keys to real handles and forgets released handles, like
        L{columns}.

        @param name: A name of the form C{"family:thing"}.
        @type name: L{str}

        @rtype: L{dict}
        """
        d = self._handleStates.get(name)
        if d is None:
            d = self._handleStates[name] = {}
        return d

    def _perHandleDicts(self):
        return [self.columns, *self._handleStates.values()]

    def _beginBuffer(self, handles):
        self.handles = handles if handles is not None else []
        self._provisional = {}
        self._nextToken = -1

    def _dropStale(self):
        for d in self._perHandleDicts():
            stale = [k for k in d if isinstance(k, int) and k < 0]
            for k in stale:
                del d[k]

    def _created(self, outputHandleIndex):
        token = self._nextToken
        self._nextToken = token - 1
        self._provisional[outputHandleIndex] = token
        return token

    def _resolve(self, handleIndex, token, real):
        """
        The response to the ROP that created the object at C{handleIndex}
        gave it the handle C{real} (L{None} if it failed): move what was
        kept under the provisional C{token}, and make L{handleOf} answer
        the real handle from now on.
        """
        for d in self._perHandleDicts():
            if token in d:
                value = d.pop(token)
                if real is not None:
                    d[real] = value
        if real is None:
            self._provisional.pop(handleIndex, None)
        else:
            self._provisional[handleIndex] = real

    def _release(self, keys):
        dicts = self._perHandleDicts()
        for key in keys:
            for d in dicts:
                d.pop(key, None)
        self._provisional = {}


@dataclass(slots=True)
class RopRequest:
    """
    A ROP request ([MS-OXCROPS] 2.2.1): the 3-byte header and, in
    subclasses, the body fields in MS-OXCROPS order (camelCase names).

    The default body is empty.

    @cvar ROP_ID: The RopId (set by L{ropRequest}).
    @cvar NAME: The [MS-OXCROPS] name (set by L{ropRequest}).
    @cvar NO_RESPONSE: Whether the server never answers this ROP.
    """

    ROP_ID: ClassVar[int] = 0
    NAME: ClassVar[str] = ""
    NO_RESPONSE: ClassVar[bool] = False

    logonId: int = 0
    inputHandleIndex: int = 0

    @property
    def ropId(self):
        """
        The RopId of this request's class.
        """
        return self.ROP_ID

    @classmethod
    def readBody(cls, r, ctx, header):
        """
        Decode the body that follows the header.

        @param r: The reader, right after InputHandleIndex.
        @type r: L{Reader}

        @param ctx: The session state.
        @type ctx: L{RopContext}

        @param header: C{{"logonId": ..., "inputHandleIndex": ...}}.
        @type header: L{dict}

        @rtype: An instance of C{cls}.
        """
        return cls(**header)

    def writeBody(self, w, ctx):
        """
        Encode the body (the header is written by the framework).

        @type w: L{Writer}
        @type ctx: L{RopContext}
        """


@dataclass(slots=True)
class RopResponse:
    """
    A ROP response ([MS-OXCROPS] 2.2.1): RopId, the handle index (Input- or
    OutputHandleIndex per ROP), ReturnValue and, in subclasses, the body.

    The default body is empty.

    @cvar ROP_ID: The RopId (set by L{ropResponse}).
    @cvar NAME: The [MS-OXCROPS] name (set by L{ropResponse}).
    @cvar NO_HEADER: Whether the body follows the RopId directly (RopNotify,
        RopPending, RopBackoff, RopBufferTooSmall); C{handleIndex} and
        C{returnValue} then stay 0.
    """

    ROP_ID: ClassVar[int] = 0
    NAME: ClassVar[str] = ""
    NO_HEADER: ClassVar[bool] = False

    handleIndex: int = 0
    returnValue: int = 0

    @property
    def ropId(self):
        """
        The RopId of this response's class.
        """
        return self.ROP_ID

    @classmethod
    def readBody(cls, r, ctx, request, header):
        """
        Decode the body that follows ReturnValue (or the RopId for
        C{NO_HEADER} classes). Called for every response, success or not.

        @param r: The reader.
        @type r: L{Reader}

        @param ctx: The session state.
        @type ctx: L{RopContext}

        @param request: The matching request, or L{None}.
        @type request: L{RopRequest} or L{None}

        @param header: C{{"handleIndex": ..., "returnValue": ...}}.
        @type header: L{dict}

        @rtype: An instance of C{cls}.
        """
        return cls(**header)

    def writeBody(self, w, ctx, request):
        """
        Encode the body (the header is written by the framework).

        @type w: L{Writer}
        @type ctx: L{RopContext}
        @param request: The matching request, or L{None}.
        """


@dataclass(slots=True)
class UnknownRop:
    """
    An unknown RopId or a ROP that did not parse. As ROPs carry no length,
    it holds every byte from its RopId to the end of the ROP list; encoding
    writes them back verbatim.

    @ivar ropId: The RopId (0 if the buffer ended in the middle of a
        header).
    @ivar data: The bytes from this ROP to the end of the list.
    @ivar error: Why it could not be decoded.
    """

    ropId: int = 0
    data: bytes = b""
    error: str = ""

    @property
    def NAME(self):
        """
        The [MS-OXCROPS] name of C{ropId}.
        """
        return ropName(self.ropId)


def _register(table, ropId, kind):
    def decorator(cls):
        if not 0 <= ropId <= 0xFF:
            raise ValueError("RopId %r out of range" % (ropId,))
        old = table.get(ropId)
        if old is not None and (old.__module__, old.__qualname__) != (
            cls.__module__,
            cls.__qualname__,
        ):
            raise ValueError(
                "%s 0x%02X (%s) registered twice: %s.%s and %s.%s"
                % (
                    kind,
                    ropId,
                    ropName(ropId),
                    old.__module__,
                    old.__qualname__,
                    cls.__module__,
                    cls.__qualname__,
                )
            )
        cls.ROP_ID = ropId
        cls.NAME = ropName(ropId)
        table[ropId] = cls
        return cls

    return decorator


def ropRequest(ropId):
    """
    Class decorator: register a L{RopRequest} subclass for a RopId.

    @param ropId: The RopId.
    @type ropId: L{int}

    @raise ValueError: If another class already has this RopId.
    """
    register = _register(REQUEST_CLASSES, ropId, "request")

    def decorator(cls):
        cls = register(cls)
        if ropId in NO_RESPONSE_IDS:
            cls.NO_RESPONSE = True
        return cls

    return decorator


def ropResponse(ropId):
    """
    Class decorator: register a L{RopResponse} subclass for a RopId.

    @param ropId: The RopId.
    @type ropId: L{int}

    @raise ValueError: If another class already has this RopId.
    """
    register = _register(RESPONSE_CLASSES, ropId, "response")

    def decorator(cls):
        cls = register(cls)
        if ropId in NO_HEADER_IDS:
            cls.NO_HEADER = True
        return cls

    return decorator


def loadFamilies():
    """
    Import every module of L{FAMILY_MODULES} (once), so that their ROP
    classes are registered. The buffer-level functions call it.

    @return: The names of the family modules that do not exist.
    @rtype: L{list} of L{str}
    """
    global _loaded
    missing = []
    for name in FAMILY_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            missing.append(name)
    _loaded = True
    return missing


def _errorText(e):
    text = str(e)
    if isinstance(e, RopError):
        return text
    return "%s: %s" % (type(e).__name__, text)


def _asBytes(rops):
    if type(rops) is bytes:
        return rops
    try:
        return bytes(rops)
    except TypeError as e:
        raise RopError("ROP list is not bytes: %s" % (e,)) from None


def decodeRequests(rops, handles, ctx):
    """
    Decode the RopsList of a ROP input buffer ([MS-OXCROPS] 2.2.1).

    @param rops: The RopsList bytes (after RopSize, before the handle
        table).
    @type rops: L{bytes}

    @param handles: The buffer's ServerObjectHandleTable.
    @type handles: L{list} of L{int}

    @param ctx: The session state.
    @type ctx: L{RopContext}

    @return: L{RopRequest} instances, the last one possibly an
        L{UnknownRop} holding the undecodable rest.
    @rtype: L{list}
    """
    if not _loaded:
        loadFamilies()
    data = _asBytes(rops)
    ctx._beginBuffer(handles)
    ctx._dropStale()
    r = Reader(data)
    size = len(data)
    classes = REQUEST_CLASSES
    header = _REQ_HEADER.unpack_from
    items = []
    append = items.append
    while r.offset < size:
        start = r.offset
        ropId = data[start]
        cls = classes.get(ropId)
        if cls is None:
            append(UnknownRop(ropId, data[start:], "unknown RopId 0x%02X" % (ropId,)))
            break
        if start + 3 > size:
            append(UnknownRop(ropId, data[start:], "truncated ROP request header"))
            break
        _, logonId, inputHandleIndex = header(data, start)
        r.offset = start + 3
        try:
            rop = cls.readBody(
                r, ctx, {"logonId": logonId, "inputHandleIndex": inputHandleIndex}
            )
            rop.logonId = logonId
            rop.inputHandleIndex = inputHandleIndex
        except Exception as e:
            append(UnknownRop(ropId, data[start:], _errorText(e)))
            break
        append(rop)
        out = getattr(rop, "outputHandleIndex", None)
        if out is not None:
            ctx._created(out)
    return items


class _Pairing:
    """
    Walks the requests alongside the responses: skips requests that have
    no response, and replays the provisional handle keys of the requests
    so that L{RopContext.handleOf} answers the same keys as while the
    requests were decoded.
    """

    def __init__(self, requests, ctx):
        self.requests = requests or []
        self.ctx = ctx
        self.next = 0
        self.dropped = []

    def _consume(self, request):
        ctx = self.ctx
        if isinstance(request, RopRequest) and (
            request.NO_RESPONSE or request.ROP_ID in NO_RESPONSE_IDS
        ):
            key = ctx.handleOf(request.inputHandleIndex)
            if key is not None:
                self.dropped.append(key)

    def match(self, ropId):
        """
        @return: The request that this response answers, or L{None}.
        """
        requests = self.requests
        i = self.next
        if i < len(requests):
            request = requests[i]
            if (
                request.__class__ is not UnknownRop
                and request.ROP_ID == ropId
                and not request.NO_RESPONSE
            ):
                # The usual case: the next request, nothing skipped.
                self.next = i + 1
                return request
        while i < len(requests):
            request = requests[i]
            if isinstance(request, UnknownRop):
                return None
            if request.ROP_ID == ropId and not (
                request.NO_RESPONSE or request.ROP_ID in NO_RESPONSE_IDS
            ):
                for skipped in requests[self.next : i]:
                    self._consume(skipped)
                    self._created(skipped, None)
                self.next = i + 1
                return request
            i += 1
        return None

    def _created(self, request, response):
        out = getattr(request, "outputHandleIndex", None)
        if out is None:
            return
        ctx = self.ctx
        token = ctx._created(out)
        real = None
        if response is not None and response.returnValue == 0:
            real = ctx.responseHandleOf(out)
        ctx._resolve(out, token, real)

    def answered(self, request, response):
        """
        Note that C{request} was answered by C{response}: the object it
        created now has a real handle.
        """
        self._created(request, response)

    def finish(self):
        """
        Account for the requests left and forget released handles.
        """
        for request in self.requests[self.next :]:
            if isinstance(request, UnknownRop):
                break
            self._consume(request)
        self.ctx._release(self.dropped)


def decodeResponses(rops, handles, requests, ctx, requestHandles=None):
    """
    Decode the RopsList of a ROP output buffer ([MS-OXCROPS] 2.2.1),
    pairing each response with its request.

    Responses come in request order; RopRelease has none; RopNotify,
    RopPending, RopBackoff and RopBufferTooSmall answer no request. A
    response whose RopId is not the next request's is paired with the next
    request of that RopId (the server skipped some), or with none.

    @param rops: The RopsList bytes.
    @type rops: L{bytes}

    @param handles: The response's ServerObjectHandleTable.
    @type handles: L{list} of L{int}

    @param requests: The decoded requests of the matching input buffer, or
        L{None}.
    @type requests: L{list} or L{None}

    @param ctx: The session state.
    @type ctx: L{RopContext}

    @param requestHandles: The request's handle table: L{RopContext.handleOf}
        then looks indexes up in it (objects are named by the request);
        without it the response's table is used.
    @type requestHandles: L{list} of L{int} or L{None}

    @return: L{RopResponse} instances, the last one possibly an
        L{UnknownRop}.
    @rtype: L{list}
    """
    if not _loaded:
        loadFamilies()
    data = _asBytes(rops)
    handles = handles if handles is not None else []
    ctx._beginBuffer(requestHandles if requestHandles is not None else handles)
    ctx.responseHandles = handles
    pairing = _Pairing(requests, ctx)
    r = Reader(data)
    size = len(data)
    classes = RESPONSE_CLASSES
    header = _RESP_HEADER.unpack_from
    items = []
    append = items.append
    try:
        while r.offset < size:
            start = r.offset
            ropId = data[start]
            cls = classes.get(ropId)
            if cls is None:
                append(
                    UnknownRop(ropId, data[start:], "unknown RopId 0x%02X" % (ropId,))
                )
                break
            try:
                if cls.NO_HEADER:
                    r.offset = start + 1
                    rop = cls.readBody(
                        r, ctx, None, {"handleIndex": 0, "returnValue": 0}
                    )
                    request = None
                else:
                    if start + 6 > size:
                        raise RopError("truncated ROP response header")
                    _, handleIndex, returnValue = header(data, start)
                    r.offset = start + 6
                    request = pairing.match(ropId)
                    rop = cls.readBody(
                        r,
                        ctx,
                        request,
                        {"handleIndex": handleIndex, "returnValue": returnValue},
                    )
                    rop.handleIndex = handleIndex
                    rop.returnValue = returnValue
            except Exception as e:
                append(UnknownRop(ropId, data[start:], _errorText(e)))
                break
            append(rop)
            if request is not None:
                pairing.answered(request, rop)
    finally:
        pairing.finish()
        ctx.responseHandles = []
    return items


def _writeError(item, e):
    return RopError("cannot encode %s: %s" % (type(item).__name__, _errorText(e)))


def encodeRequests(items, ctx, handles=None):
    """
    Encode a RopsList of requests.

    @param items: L{RopRequest} and L{UnknownRop} instances.
    @param ctx: The session state.
    @type ctx: L{RopContext}
    @param handles: The handle table the buffer will carry (for
        L{RopContext.handleOf}); by default the table of the last decoded
        buffer.

    @rtype: L{bytes}
    @raise RopError: If a value does not fit its field.
    """
    if not _loaded:
        loadFamilies()
    ctx._beginBuffer(handles if handles is not None else ctx.handles)
    w = Writer()
    buf = w._buf
    for item in items:
        if isinstance(item, UnknownRop):
            w.bytes(item.data)
            continue
        try:
            buf += _REQ_HEADER.pack(item.ROP_ID, item.logonId, item.inputHandleIndex)
            item.writeBody(w, ctx)
        except RopError:
            raise
        except Exception as e:
            raise _writeError(item, e) from None
        out = getattr(item, "outputHandleIndex", None)
        if out is not None:
            ctx._created(out)
    return w.getvalue()


def encodeResponses(items, requests, ctx, handles=None, requestHandles=None):
    """
    Encode a RopsList of responses, pairing them with C{requests} as
    L{decodeResponses} does.

    @param items: L{RopResponse} and L{UnknownRop} instances.
    @param requests: The matching requests, or L{None}.
    @param ctx: The session state.
    @type ctx: L{RopContext}
    @param handles: The response's handle table.
    @param requestHandles: The request's handle table, used by
        L{RopContext.handleOf}; by default C{handles}, or without either the
        table of the last decoded buffer.

    @rtype: L{bytes}
    @raise RopError: If a value does not fit its field.
    """
    if not _loaded:
        loadFamilies()
    if requestHandles is None:
        requestHandles = handles if handles is not None else ctx.handles
    handles = handles if handles is not None else []
    ctx._beginBuffer(requestHandles)
    ctx.responseHandles = handles
    pairing = _Pairing(requests, ctx)
    w = Writer()
    buf = w._buf
    try:
        for item in items:
            if isinstance(item, UnknownRop):
                w.bytes(item.data)
                continue
            request = None
            try:
                if item.NO_HEADER:
                    buf.append(item.ROP_ID)
                else:
                    buf += _RESP_HEADER.pack(
                        item.ROP_ID, item.handleIndex, item.returnValue
                    )
                    request = pairing.match(item.ROP_ID)
                item.writeBody(w, ctx, request)
            except RopError:
                raise
            except Exception as e:
                raise _writeError(item, e) from None
            if request is not None:
                pairing.answered(request, item)
    finally:
        ctx._provisional = {}
        ctx.responseHandles = []
    return w.getvalue()
