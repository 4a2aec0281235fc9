# -*- test-case-name: tests.mapi.rops.test_property -*-
"""
Property and stream ROPs ([MS-OXCROPS] 2.2.8 and 2.2.9, semantics in
[MS-OXCPRPT] 2.2): read, write, delete and copy the properties of an
object, map named properties to property IDs and back, and read and write
a property as a stream.

Which response carries a body, and when ([MS-OXCROPS] 2.2.8, 2.2.9):

  - most responses carry their fields only on success (ReturnValue 0);
  - RopGetPropertyIdsFromNames, RopGetNamesFromPropertyIds,
    RopSetProperties and RopSetPropertiesNoReplicate also carry them with
    the warning C{MAPI_W_ERRORS_RETURNED} (0x00040380): some names (or
    values) could not be mapped (or set) and the body says which;
  - RopCopyProperties and RopCopyTo answer C{ecDstNullObject} (0x503) with
    a DestHandleIndex u32 instead ([MS-OXCROPS] 2.2.8.11.3, 2.2.8.12.3);
  - RopReadStream, RopWriteStream, RopWriteStreamExtended,
    RopWriteAndCommitStream and RopCopyToStream have a single response
    layout, whatever the ReturnValue (a partial read or write still says
    how many bytes moved); RopCopyToStream adds DestHandleIndex u32 before
    its counts on C{ecDstNullObject};
  - RopCommitStream, RopSetStreamSize, RopLockRegionStream,
    RopUnlockRegionStream and RopCloneStream never have a body.

RopGetPropertiesSpecific's response row carries no property tags: it is
laid out with the tags of its request ([MS-OXCDATA] 2.8.1), so the response
cannot be decoded (nor encoded) without the matching request.

One-byte Booleans and flag bytes are kept as the integer received (any
nonzero value is TRUE) so that re-encoding is exact.

Sans-I/O; no Twisted.
"""

import uuid
from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    PropertyName,
    PropertyProblemArray,
    PropertyRow,
    PropertyTagArray,
    TaggedPropertyValue,
)
from mapiproxy.mapi.rops.base import RopRequest, RopResponse, ropRequest, ropResponse

__all__ = [
    "SUCCESS",
    "MAPI_W_ERRORS_RETURNED",
    "EC_DST_NULL_OBJECT",
    "READ_STREAM_USE_MAXIMUM",
    "CREATE_NAMED_PROPERTIES",
    "QUERY_NO_STRINGS",
    "QUERY_NO_IDS",
    "COPY_MOVE",
    "COPY_NO_OVERWRITE",
    "STREAM_READ_ONLY",
    "STREAM_READ_WRITE",
    "STREAM_CREATE",
    "STREAM_BEST_ACCESS",
    "SEEK_BEGINNING",
    "SEEK_CURRENT",
    "SEEK_END",
    "LOCK_EXCLUSIVE",
    "GetPropertyIdsFromNamesRequest",
    "GetPropertyIdsFromNamesResponse",
    "GetNamesFromPropertyIdsRequest",
    "GetNamesFromPropertyIdsResponse",
    "GetPropertiesSpecificRequest",
    "GetPropertiesSpecificResponse",
    "GetPropertiesAllRequest",
    "GetPropertiesAllResponse",
    "GetPropertiesListRequest",
    "GetPropertiesListResponse",
    "SetPropertiesRequest",
    "SetPropertiesResponse",
    "SetPropertiesNoReplicateRequest",
    "SetPropertiesNoReplicateResponse",
    "DeletePropertiesRequest",
    "DeletePropertiesResponse",
    "DeletePropertiesNoReplicateRequest",
    "DeletePropertiesNoReplicateResponse",
    "QueryNamedPropertiesRequest",
    "QueryNamedPropertiesResponse",
    "CopyPropertiesRequest",
    "CopyPropertiesResponse",
    "CopyToRequest",
    "CopyToResponse",
    "ProgressRequest",
    "ProgressResponse",
    "OpenStreamRequest",
    "OpenStreamResponse",
    "ReadStreamRequest",
    "ReadStreamResponse",
    "WriteStreamRequest",
    "WriteStreamResponse",
    "WriteStreamExtendedRequest",
    "WriteStreamExtendedResponse",
    "CommitStreamRequest",
    "CommitStreamResponse",
    "GetStreamSizeRequest",
    "GetStreamSizeResponse",
    "SetStreamSizeRequest",
    "SetStreamSizeResponse",
    "SeekStreamRequest",
    "SeekStreamResponse",
    "CopyToStreamRequest",
    "CopyToStreamResponse",
    "LockRegionStreamRequest",
    "LockRegionStreamResponse",
    "UnlockRegionStreamRequest",
    "UnlockRegionStreamResponse",
    "WriteAndCommitStreamRequest",
    "WriteAndCommitStreamResponse",
    "CloneStreamRequest",
    "CloneStreamResponse",
]

#: ReturnValue of a successful ROP.
SUCCESS = 0x00000000
#: Warning: the ROP succeeded for some items only; the body says which
#: ([MS-OXCDATA] 2.4.2).
MAPI_W_ERRORS_RETURNED = 0x00040380
#: ecDstNullObject: the destination handle of a copy is not an object
#: ([MS-OXCDATA] 2.4.1).
EC_DST_NULL_OBJECT = 0x00000503
#: RopReadStream ByteCount sentinel: the MaximumByteCount u32 follows
#: ([MS-OXCROPS] 2.2.9.2.1).
READ_STREAM_USE_MAXIMUM = 0xBABE

#: RopGetPropertyIdsFromNames Flags: create the names not yet mapped
#: ([MS-OXCPRPT] 2.2.12.1).
CREATE_NAMED_PROPERTIES = 0x02
#: RopQueryNamedProperties QueryFlags ([MS-OXCPRPT] 2.2.9.1): leave out
#: string-named properties.
QUERY_NO_STRINGS = 0x01
#: Leave out LID-named properties.
QUERY_NO_IDS = 0x02
#: RopCopyProperties / RopCopyTo CopyFlags ([MS-OXCPRPT] 2.2.10.1): move
#: instead of copy.
COPY_MOVE = 0x01
#: Do not overwrite properties the destination already has.
COPY_NO_OVERWRITE = 0x02

# RopOpenStream OpenModeFlags ([MS-OXCPRPT] 2.2.14.1).
#: Open the stream read-only.
STREAM_READ_ONLY = 0x00
#: Open the stream for reading and writing.
STREAM_READ_WRITE = 0x01
#: Replace the property with a new, empty stream open for writing.
STREAM_CREATE = 0x02
#: Read-write if allowed, else read-only.
STREAM_BEST_ACCESS = 0x03

# RopSeekStream Origin ([MS-OXCPRPT] 2.2.21.1).
#: Seek from the start of the stream.
SEEK_BEGINNING = 0x00
#: Seek from the current seek pointer.
SEEK_CURRENT = 0x01
#: Seek from the end of the stream.
SEEK_END = 0x02

#: RopLockRegionStream LockFlags ([MS-OXCPRPT] 2.2.24.1): an exclusive
#: lock (other values ask for a write lock only).
LOCK_EXCLUSIVE = 0x00000001

_WITH_BODY_ON_WARNING = frozenset([SUCCESS, MAPI_W_ERRORS_RETURNED])


# -- small codecs shared by several ROPs -------------------------------------


_readTags = PropertyTagArray.read
_writeTags = PropertyTagArray.write
_readProblems = PropertyProblemArray.read
_writeProblems = PropertyProblemArray.write


def _readIds(r):
    """
    A u16 count then that many u16 property IDs.
    """
    return r.u16Array(r.u16())


def _writeIds(w, ids):
    w.u16(len(ids))
    w.u16Array(ids)


def _readNames(r, count):
    # A PropertyName is at least Kind + GUID ([MS-OXCDATA] 2.6.1).
    return r.counted(count, PropertyName.read, 17)


def _writeNames(w, names):
    for name in names:
        name.write(w)


def _readValues(r, count):
    # A TaggedPropertyValue is at least its u32 tag (a PtypNull value has
    # no bytes at all).
    return r.counted(count, TaggedPropertyValue.read, 4)


def _writeValues(w, values):
    for value in values:
        value.write(w)


def _writeData(w, data):
    """
    A u16 DataSize then the bytes ([MS-OXCROPS] 2.2.9.3.1).
    """
    if len(data) > 0xFFFF:
        raise RopError("%d bytes do not fit a u16 DataSize" % (len(data),))
    w.u16(len(data))
    w.bytes(data)


def _readData(r):
    return r.bytes(r.u16())


# -- bases --------------------------------------------------------------------


@dataclass(slots=True)
class _ProblemsResponse(RopResponse):
    """
    A response whose success body is a PropertyProblem array (u16 count).

    @ivar propertyProblems: The properties that could not be set, deleted
        or copied, and why.
    """

    #: The ReturnValues that carry the body.
    _BODY_ON = frozenset([SUCCESS])

    propertyProblems: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] in cls._BODY_ON:
            return cls(propertyProblems=_readProblems(r), **header)
        return cls(**header)

    def writeBody(self, w, ctx, request):
        if self.returnValue in self._BODY_ON:
            _writeProblems(w, self.propertyProblems)


@dataclass(slots=True)
class _CopyResponse(RopResponse):
    """
    RopCopyProperties / RopCopyTo response ([MS-OXCROPS] 2.2.8.11.2,
    2.2.8.12.2): a PropertyProblem array on success, the request's
    DestHandleIndex as a u32 on C{ecDstNullObject}, nothing otherwise.
    C{handleIndex} is the SourceHandleIndex.

    @ivar propertyProblems: On success, the properties not copied.
    @ivar destHandleIndex: On L{EC_DST_NULL_OBJECT}, the destination's
        index (u32), else L{None}.
    """

    propertyProblems: list = field(default_factory=list)
    destHandleIndex: Optional[int] = None

    @classmethod
    def readBody(cls, r, ctx, request, header):
        rv = header["returnValue"]
        if rv == SUCCESS:
            return cls(propertyProblems=_readProblems(r), **header)
        if rv == EC_DST_NULL_OBJECT:
            return cls(destHandleIndex=r.u32(), **header)
        return cls(**header)

    def writeBody(self, w, ctx, request):
        rv = self.returnValue
        if rv == SUCCESS:
            _writeProblems(w, self.propertyProblems)
        elif rv == EC_DST_NULL_OBJECT:
            if self.destHandleIndex is None:
                raise RopError("ecDstNullObject response needs destHandleIndex")
            w.u32(self.destHandleIndex)


@dataclass(slots=True)
class _SetPropertiesRequest(RopRequest):
    """
    RopSetProperties / RopSetPropertiesNoReplicate request ([MS-OXCROPS]
    2.2.8.6.1, 2.2.8.7.1): PropertyValueSize u16 (the bytes of the count
    and the values), PropertyValueCount u16, TaggedPropertyValues.

    @ivar propertyValues: L{TaggedPropertyValue}s to set.
    @ivar trailing: Bytes that PropertyValueSize covers after the last
        value (none from a well-behaved client; kept so that re-encoding
        is exact).
    """

    propertyValues: list = field(default_factory=list)
    trailing: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        size = r.u16()
        if size < 2:
            raise RopError("PropertyValueSize %d cannot hold its count" % (size,))
        sub = r.sub(size)
        values = _readValues(sub, sub.u16())
        return cls(propertyValues=values, trailing=sub.rest(), **header)

    def writeBody(self, w, ctx):
        pos = w.placeholderU16()
        start = len(w)
        w.u16(len(self.propertyValues))
        _writeValues(w, self.propertyValues)
        w.bytes(self.trailing)
        w.setU16(pos, len(w) - start)


@dataclass(slots=True)
class _TagsRequest(RopRequest):
    """
    A request whose body is a PropertyTag array (u16 count).

    @ivar propertyTags: The property tags.
    """

    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(propertyTags=_readTags(r), **header)

    def writeBody(self, w, ctx):
        _writeTags(w, self.propertyTags)


@dataclass(slots=True)
class _DataRequest(RopRequest):
    """
    A request whose body is DataSize u16 then Data.

    @ivar data: The bytes to write.
    """

    data: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(data=_readData(r), **header)

    def writeBody(self, w, ctx):
        _writeData(w, self.data)


@dataclass(slots=True)
class _WrittenSizeResponse(RopResponse):
    """
    A response that always carries WrittenSize u16, whatever the
    ReturnValue ([MS-OXCROPS] 2.2.9.3.2, 2.2.9.12.2).

    @ivar writtenSize: How many bytes were written.
    """

    writtenSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(writtenSize=r.u16(), **header)

    def writeBody(self, w, ctx, request):
        w.u16(self.writtenSize)


@dataclass(slots=True)
class _RegionRequest(RopRequest):
    """
    RopLockRegionStream / RopUnlockRegionStream request ([MS-OXCROPS]
    2.2.9.10.1, 2.2.9.11.1).

    @ivar regionOffset: Where the region starts (u64).
    @ivar regionSize: Its length in bytes (u64).
    @ivar lockFlags: L{LOCK_EXCLUSIVE} or another value (u32).
    """

    regionOffset: int = 0
    regionSize: int = 0
    lockFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            regionOffset=r.u64(), regionSize=r.u64(), lockFlags=r.u32(), **header
        )

    def writeBody(self, w, ctx):
        w.u64(self.regionOffset)
        w.u64(self.regionSize)
        w.u32(self.lockFlags)


# -- named properties ([MS-OXCROPS] 2.2.8.1, 2.2.8.2, 2.2.8.10) --------------


@ropRequest(0x56)
@dataclass(slots=True)
class GetPropertyIdsFromNamesRequest(RopRequest):
    """
    RopGetPropertyIdsFromNames request ([MS-OXCROPS] 2.2.8.1.1): map named
    properties to property IDs.

    @ivar flags: L{CREATE_NAMED_PROPERTIES} or 0 (u8).
    @ivar propertyNames: L{PropertyName}s (u16 count); none asks for every
        registered name.
    """

    flags: int = 0
    propertyNames: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        flags = r.u8()
        names = _readNames(r, r.u16())
        return cls(flags=flags, propertyNames=names, **header)

    def writeBody(self, w, ctx):
        w.u8(self.flags)
        w.u16(len(self.propertyNames))
        _writeNames(w, self.propertyNames)


@ropResponse(0x56)
@dataclass(slots=True)
class GetPropertyIdsFromNamesResponse(RopResponse):
    """
    RopGetPropertyIdsFromNames response ([MS-OXCROPS] 2.2.8.1.2): the IDs,
    on success and with L{MAPI_W_ERRORS_RETURNED} (unmapped names get ID
    0).

    @ivar propertyIds: u16 property IDs (u16 count), in request order.
    """

    propertyIds: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] in _WITH_BODY_ON_WARNING:
            return cls(propertyIds=_readIds(r), **header)
        return cls(**header)

    def writeBody(self, w, ctx, request):
        if self.returnValue in _WITH_BODY_ON_WARNING:
            _writeIds(w, self.propertyIds)


@ropRequest(0x55)
@dataclass(slots=True)
class GetNamesFromPropertyIdsRequest(RopRequest):
    """
    RopGetNamesFromPropertyIds request ([MS-OXCROPS] 2.2.8.2.1).

    @ivar propertyIds: u16 property IDs (u16 count).
    """

    propertyIds: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(propertyIds=_readIds(r), **header)

    def writeBody(self, w, ctx):
        _writeIds(w, self.propertyIds)


@ropResponse(0x55)
@dataclass(slots=True)
class GetNamesFromPropertyIdsResponse(RopResponse):
    """
    RopGetNamesFromPropertyIds response ([MS-OXCROPS] 2.2.8.2.2): on
    success and with L{MAPI_W_ERRORS_RETURNED}, one L{PropertyName} per
    requested ID (Kind 0xFF for an ID without a name).

    @ivar propertyNames: L{PropertyName}s (u16 count).
    """

    propertyNames: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] in _WITH_BODY_ON_WARNING:
            names = _readNames(r, r.u16())
            return cls(propertyNames=names, **header)
        return cls(**header)

    def writeBody(self, w, ctx, request):
        if self.returnValue in _WITH_BODY_ON_WARNING:
            w.u16(len(self.propertyNames))
            _writeNames(w, self.propertyNames)


@ropRequest(0x5F)
@dataclass(slots=True)
class QueryNamedPropertiesRequest(RopRequest):
    """
    RopQueryNamedProperties request ([MS-OXCROPS] 2.2.8.10.1).

    @ivar queryFlags: L{QUERY_NO_STRINGS} | L{QUERY_NO_IDS} (u8).
    @ivar hasGuid: The HasGuid byte; nonzero means C{propertyGuid}
        follows.
    @ivar propertyGuid: The property set to list (L{uuid.UUID}), present
        iff C{hasGuid} is nonzero.
    """

    queryFlags: int = 0
    hasGuid: int = 0
    propertyGuid: Optional[uuid.UUID] = None

    @classmethod
    def readBody(cls, r, ctx, header):
        queryFlags = r.u8()
        hasGuid = r.u8()
        guid = r.guid() if hasGuid else None
        return cls(queryFlags=queryFlags, hasGuid=hasGuid, propertyGuid=guid, **header)

    def writeBody(self, w, ctx):
        w.u8(self.queryFlags)
        w.u8(self.hasGuid)
        if self.hasGuid:
            if self.propertyGuid is None:
                raise RopError("HasGuid is set but propertyGuid is None")
            w.guid(self.propertyGuid)


@ropResponse(0x5F)
@dataclass(slots=True)
class QueryNamedPropertiesResponse(RopResponse):
    """
    RopQueryNamedProperties response ([MS-OXCROPS] 2.2.8.10.2): on
    success, IdCount u16, that many u16 IDs, then as many
    L{PropertyName}s.

    @ivar propertyIds: The property IDs.
    @ivar propertyNames: Their names, in the same order.
    """

    propertyIds: list = field(default_factory=list)
    propertyNames: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        ids = _readIds(r)
        names = _readNames(r, len(ids))
        return cls(propertyIds=ids, propertyNames=names, **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue != SUCCESS:
            return
        if len(self.propertyIds) != len(self.propertyNames):
            raise RopError(
                "%d property IDs but %d names"
                % (len(self.propertyIds), len(self.propertyNames))
            )
        _writeIds(w, self.propertyIds)
        _writeNames(w, self.propertyNames)


# -- getting, setting and deleting properties ([MS-OXCROPS] 2.2.8.3-2.2.8.9) -


@ropRequest(0x07)
@dataclass(slots=True)
class GetPropertiesSpecificRequest(RopRequest):
    """
    RopGetPropertiesSpecific request ([MS-OXCROPS] 2.2.8.3.1).

    @ivar propertySizeLimit: The largest value to return, 0 for the
        server's default (u16).
    @ivar wantUnicode: Nonzero to get PtypUnspecified strings as UTF-16
        (u16, kept as received).
    @ivar propertyTags: The properties wanted (u16 count); the response
        row follows their order and types.
    """

    propertySizeLimit: int = 0
    wantUnicode: int = 0
    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        limit = r.u16()
        wantUnicode = r.u16()
        tags = _readTags(r)
        return cls(
            propertySizeLimit=limit,
            wantUnicode=wantUnicode,
            propertyTags=tags,
            **header,
        )

    def writeBody(self, w, ctx):
        w.u16(self.propertySizeLimit)
        w.u16(self.wantUnicode)
        _writeTags(w, self.propertyTags)


def _requestTags(request, what):
    if not isinstance(request, GetPropertiesSpecificRequest):
        raise RopError(
            "cannot %s a RopGetPropertiesSpecific row without its request's"
            " property tags" % (what,)
        )
    return request.propertyTags


@ropResponse(0x07)
@dataclass(slots=True)
class GetPropertiesSpecificResponse(RopResponse):
    """
    RopGetPropertiesSpecific response ([MS-OXCROPS] 2.2.8.3.2): on
    success, a L{PropertyRow} laid out with the request's property tags
    (a StandardPropertyRow, or a FlaggedPropertyRow when some properties
    are missing or in error; [MS-OXCDATA] 2.8.1).

    @ivar rowData: The row, or L{None} on failure.
    """

    rowData: Optional[PropertyRow] = None

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        tags = _requestTags(request, "decode")
        return cls(rowData=PropertyRow.read(r, tags), **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue != SUCCESS:
            return
        tags = _requestTags(request, "encode")
        if self.rowData is None:
            raise RopError("a successful RopGetPropertiesSpecific needs rowData")
        self.rowData.write(w, tags)


@ropRequest(0x08)
@dataclass(slots=True)
class GetPropertiesAllRequest(RopRequest):
    """
    RopGetPropertiesAll request ([MS-OXCROPS] 2.2.8.4.1).

    @ivar propertySizeLimit: The largest value to return (u16).
    @ivar wantUnicode: Nonzero for UTF-16 strings (u16, kept as
        received).
    """

    propertySizeLimit: int = 0
    wantUnicode: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(propertySizeLimit=r.u16(), wantUnicode=r.u16(), **header)

    def writeBody(self, w, ctx):
        w.u16(self.propertySizeLimit)
        w.u16(self.wantUnicode)


@ropResponse(0x08)
@dataclass(slots=True)
class GetPropertiesAllResponse(RopResponse):
    """
    RopGetPropertiesAll response ([MS-OXCROPS] 2.2.8.4.2): on success,
    PropertyValueCount u16 then L{TaggedPropertyValue}s.

    @ivar propertyValues: Every property of the object.
    """

    propertyValues: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        return cls(propertyValues=_readValues(r, r.u16()), **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == SUCCESS:
            w.u16(len(self.propertyValues))
            _writeValues(w, self.propertyValues)


@ropRequest(0x09)
@dataclass(slots=True)
class GetPropertiesListRequest(RopRequest):
    """
    RopGetPropertiesList request ([MS-OXCROPS] 2.2.8.5.1): no body.
    """


@ropResponse(0x09)
@dataclass(slots=True)
class GetPropertiesListResponse(RopResponse):
    """
    RopGetPropertiesList response ([MS-OXCROPS] 2.2.8.5.2): on success,
    the object's property tags (u16 count).

    @ivar propertyTags: The property tags.
    """

    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        return cls(propertyTags=_readTags(r), **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == SUCCESS:
            _writeTags(w, self.propertyTags)


@ropRequest(0x0A)
@dataclass(slots=True)
class SetPropertiesRequest(_SetPropertiesRequest):
    """
    RopSetProperties request ([MS-OXCROPS] 2.2.8.6.1), see
    L{_SetPropertiesRequest}.
    """


@ropResponse(0x0A)
@dataclass(slots=True)
class SetPropertiesResponse(_ProblemsResponse):
    """
    RopSetProperties response ([MS-OXCROPS] 2.2.8.6.2): PropertyProblems
    on success and with L{MAPI_W_ERRORS_RETURNED}.
    """

    _BODY_ON = _WITH_BODY_ON_WARNING


@ropRequest(0x79)
@dataclass(slots=True)
class SetPropertiesNoReplicateRequest(_SetPropertiesRequest):
    """
    RopSetPropertiesNoReplicate request ([MS-OXCROPS] 2.2.8.7.1), laid out
    as RopSetProperties.
    """


@ropResponse(0x79)
@dataclass(slots=True)
class SetPropertiesNoReplicateResponse(_ProblemsResponse):
    """
    RopSetPropertiesNoReplicate response ([MS-OXCROPS] 2.2.8.7.2), laid
    out as RopSetProperties.
    """

    _BODY_ON = _WITH_BODY_ON_WARNING


@ropRequest(0x0B)
@dataclass(slots=True)
class DeletePropertiesRequest(_TagsRequest):
    """
    RopDeleteProperties request ([MS-OXCROPS] 2.2.8.8.1): the tags to
    delete.
    """


@ropResponse(0x0B)
@dataclass(slots=True)
class DeletePropertiesResponse(_ProblemsResponse):
    """
    RopDeleteProperties response ([MS-OXCROPS] 2.2.8.8.2): PropertyProblems
    on success.
    """


@ropRequest(0x7A)
@dataclass(slots=True)
class DeletePropertiesNoReplicateRequest(_TagsRequest):
    """
    RopDeletePropertiesNoReplicate request ([MS-OXCROPS] 2.2.8.9.1).
    """


@ropResponse(0x7A)
@dataclass(slots=True)
class DeletePropertiesNoReplicateResponse(_ProblemsResponse):
    """
    RopDeletePropertiesNoReplicate response ([MS-OXCROPS] 2.2.8.9.2):
    PropertyProblems on success.
    """


# -- copying and progress ([MS-OXCROPS] 2.2.8.11-2.2.8.13) -------------------


@ropRequest(0x67)
@dataclass(slots=True)
class CopyPropertiesRequest(RopRequest):
    """
    RopCopyProperties request ([MS-OXCROPS] 2.2.8.11.1). The header's
    InputHandleIndex is the SourceHandleIndex.

    @ivar destHandleIndex: The destination object's index (u8).
    @ivar wantAsynchronous: Nonzero to report through RopProgress (u8).
    @ivar copyFlags: L{COPY_MOVE} | L{COPY_NO_OVERWRITE} (u8).
    @ivar propertyTags: The properties to copy (u16 count).
    """

    destHandleIndex: int = 0
    wantAsynchronous: int = 0
    copyFlags: int = 0
    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        dest = r.u8()
        wantAsync = r.u8()
        flags = r.u8()
        return cls(
            destHandleIndex=dest,
            wantAsynchronous=wantAsync,
            copyFlags=flags,
            propertyTags=_readTags(r),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.destHandleIndex)
        w.u8(self.wantAsynchronous)
        w.u8(self.copyFlags)
        _writeTags(w, self.propertyTags)


@ropResponse(0x67)
@dataclass(slots=True)
class CopyPropertiesResponse(_CopyResponse):
    """
    RopCopyProperties response ([MS-OXCROPS] 2.2.8.11.2, 2.2.8.11.3), see
    L{_CopyResponse}.
    """


@ropRequest(0x39)
@dataclass(slots=True)
class CopyToRequest(RopRequest):
    """
    RopCopyTo request ([MS-OXCROPS] 2.2.8.12.1). The header's
    InputHandleIndex is the SourceHandleIndex.

    @ivar destHandleIndex: The destination object's index (u8).
    @ivar wantAsynchronous: Nonzero to report through RopProgress (u8).
    @ivar wantSubObjects: Nonzero to copy recipients, attachments or
        subfolders too (u8).
    @ivar copyFlags: L{COPY_MOVE} | L{COPY_NO_OVERWRITE} (u8).
    @ivar excludedTags: The properties not to copy (u16 count).
    """

    destHandleIndex: int = 0
    wantAsynchronous: int = 0
    wantSubObjects: int = 0
    copyFlags: int = 0
    excludedTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        dest = r.u8()
        wantAsync = r.u8()
        wantSub = r.u8()
        flags = r.u8()
        return cls(
            destHandleIndex=dest,
            wantAsynchronous=wantAsync,
            wantSubObjects=wantSub,
            copyFlags=flags,
            excludedTags=_readTags(r),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.destHandleIndex)
        w.u8(self.wantAsynchronous)
        w.u8(self.wantSubObjects)
        w.u8(self.copyFlags)
        _writeTags(w, self.excludedTags)


@ropResponse(0x39)
@dataclass(slots=True)
class CopyToResponse(_CopyResponse):
    """
    RopCopyTo response ([MS-OXCROPS] 2.2.8.12.2, 2.2.8.12.3), see
    L{_CopyResponse}.
    """


@ropRequest(0x50)
@dataclass(slots=True)
class ProgressRequest(RopRequest):
    """
    RopProgress request ([MS-OXCROPS] 2.2.8.13.1).

    @ivar wantCancel: Nonzero to cancel the operation (u8).
    """

    wantCancel: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(wantCancel=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.wantCancel)


@ropResponse(0x50)
@dataclass(slots=True)
class ProgressResponse(RopResponse):
    """
    RopProgress response ([MS-OXCROPS] 2.2.8.13.2): on success, LogonId
    u8, CompletedTaskCount u32, TotalTaskCount u32.

    @ivar logonId: The logon of the operation.
    @ivar completedTaskCount: Tasks done.
    @ivar totalTaskCount: Tasks in all.
    """

    logonId: int = 0
    completedTaskCount: int = 0
    totalTaskCount: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        return cls(
            logonId=r.u8(),
            completedTaskCount=r.u32(),
            totalTaskCount=r.u32(),
            **header,
        )

    def writeBody(self, w, ctx, request):
        if self.returnValue == SUCCESS:
            w.u8(self.logonId)
            w.u32(self.completedTaskCount)
            w.u32(self.totalTaskCount)


# -- streams ([MS-OXCROPS] 2.2.9) ---------------------------------------------


@ropRequest(0x2B)
@dataclass(slots=True)
class OpenStreamRequest(RopRequest):
    """
    RopOpenStream request ([MS-OXCROPS] 2.2.9.1.1).

    @ivar outputHandleIndex: Where the Stream object's handle goes (u8).
    @ivar propertyTag: The property to open (u32).
    @ivar openModeFlags: L{STREAM_READ_ONLY}, L{STREAM_READ_WRITE},
        L{STREAM_CREATE} or L{STREAM_BEST_ACCESS} (u8).
    """

    outputHandleIndex: int = 0
    propertyTag: int = 0
    openModeFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            propertyTag=r.u32(),
            openModeFlags=r.u8(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u32(self.propertyTag)
        w.u8(self.openModeFlags)


@ropResponse(0x2B)
@dataclass(slots=True)
class OpenStreamResponse(RopResponse):
    """
    RopOpenStream response ([MS-OXCROPS] 2.2.9.1.2): C{handleIndex} is
    the OutputHandleIndex; on success, StreamSize u32.

    @ivar streamSize: The stream's size in bytes.
    """

    streamSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        return cls(streamSize=r.u32(), **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == SUCCESS:
            w.u32(self.streamSize)


@ropRequest(0x2C)
@dataclass(slots=True)
class ReadStreamRequest(RopRequest):
    """
    RopReadStream request ([MS-OXCROPS] 2.2.9.2.1).

    @ivar byteCount: How many bytes to read, or
        L{READ_STREAM_USE_MAXIMUM} (u16).
    @ivar maximumByteCount: When C{byteCount} is 0xBABE, the real limit
        (u32); else L{None}.
    """

    byteCount: int = 0
    maximumByteCount: Optional[int] = None

    @classmethod
    def readBody(cls, r, ctx, header):
        count = r.u16()
        maximum = r.u32() if count == READ_STREAM_USE_MAXIMUM else None
        return cls(byteCount=count, maximumByteCount=maximum, **header)

    def writeBody(self, w, ctx):
        w.u16(self.byteCount)
        if self.byteCount == READ_STREAM_USE_MAXIMUM:
            if self.maximumByteCount is None:
                raise RopError("ByteCount 0xBABE needs maximumByteCount")
            w.u32(self.maximumByteCount)


@ropResponse(0x2C)
@dataclass(slots=True)
class ReadStreamResponse(RopResponse):
    """
    RopReadStream response ([MS-OXCROPS] 2.2.9.2.2): DataSize u16 and
    Data, whatever the ReturnValue.

    @ivar data: The bytes read.
    """

    data: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(data=_readData(r), **header)

    def writeBody(self, w, ctx, request):
        _writeData(w, self.data)


@ropRequest(0x2D)
@dataclass(slots=True)
class WriteStreamRequest(_DataRequest):
    """
    RopWriteStream request ([MS-OXCROPS] 2.2.9.3.1): DataSize u16, Data.
    """


@ropResponse(0x2D)
@dataclass(slots=True)
class WriteStreamResponse(_WrittenSizeResponse):
    """
    RopWriteStream response ([MS-OXCROPS] 2.2.9.3.2): WrittenSize u16,
    whatever the ReturnValue.
    """


@ropRequest(0xA3)
@dataclass(slots=True)
class WriteStreamExtendedRequest(_DataRequest):
    """
    RopWriteStreamExtended request ([MS-OXCROPS] 2.2.9.4.1): DataSize u16,
    Data.
    """


@ropResponse(0xA3)
@dataclass(slots=True)
class WriteStreamExtendedResponse(RopResponse):
    """
    RopWriteStreamExtended response ([MS-OXCROPS] 2.2.9.4.2): WrittenSize
    u32, whatever the ReturnValue.

    @ivar writtenSize: How many bytes were written.
    """

    writtenSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(writtenSize=r.u32(), **header)

    def writeBody(self, w, ctx, request):
        w.u32(self.writtenSize)


@ropRequest(0x5D)
@dataclass(slots=True)
class CommitStreamRequest(RopRequest):
    """
    RopCommitStream request ([MS-OXCROPS] 2.2.9.5.1): no body.
    """


@ropResponse(0x5D)
@dataclass(slots=True)
class CommitStreamResponse(RopResponse):
    """
    RopCommitStream response ([MS-OXCROPS] 2.2.9.5.2): no body.
    """


@ropRequest(0x5E)
@dataclass(slots=True)
class GetStreamSizeRequest(RopRequest):
    """
    RopGetStreamSize request ([MS-OXCROPS] 2.2.9.6.1): no body.
    """


@ropResponse(0x5E)
@dataclass(slots=True)
class GetStreamSizeResponse(RopResponse):
    """
    RopGetStreamSize response ([MS-OXCROPS] 2.2.9.6.2): on success,
    StreamSize u32.

    @ivar streamSize: The stream's size in bytes.
    """

    streamSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        return cls(streamSize=r.u32(), **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == SUCCESS:
            w.u32(self.streamSize)


@ropRequest(0x2F)
@dataclass(slots=True)
class SetStreamSizeRequest(RopRequest):
    """
    RopSetStreamSize request ([MS-OXCROPS] 2.2.9.7.1).

    @ivar streamSize: The new size (u64).
    """

    streamSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(streamSize=r.u64(), **header)

    def writeBody(self, w, ctx):
        w.u64(self.streamSize)


@ropResponse(0x2F)
@dataclass(slots=True)
class SetStreamSizeResponse(RopResponse):
    """
    RopSetStreamSize response ([MS-OXCROPS] 2.2.9.7.2): no body.
    """


@ropRequest(0x2E)
@dataclass(slots=True)
class SeekStreamRequest(RopRequest):
    """
    RopSeekStream request ([MS-OXCROPS] 2.2.9.8.1).

    @ivar origin: L{SEEK_BEGINNING}, L{SEEK_CURRENT} or L{SEEK_END} (u8).
    @ivar offset: The signed distance from the origin (i64).
    """

    origin: int = 0
    offset: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(origin=r.u8(), offset=r.i64(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.origin)
        w.i64(self.offset)


@ropResponse(0x2E)
@dataclass(slots=True)
class SeekStreamResponse(RopResponse):
    """
    RopSeekStream response ([MS-OXCROPS] 2.2.9.8.2): on success,
    NewPosition u64.

    @ivar newPosition: The seek pointer after the move.
    """

    newPosition: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != SUCCESS:
            return cls(**header)
        return cls(newPosition=r.u64(), **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == SUCCESS:
            w.u64(self.newPosition)


@ropRequest(0x3A)
@dataclass(slots=True)
class CopyToStreamRequest(RopRequest):
    """
    RopCopyToStream request ([MS-OXCROPS] 2.2.9.9.1). The header's
    InputHandleIndex is the SourceHandleIndex.

    @ivar destHandleIndex: The destination stream's index (u8).
    @ivar byteCount: How many bytes to copy (u64).
    """

    destHandleIndex: int = 0
    byteCount: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(destHandleIndex=r.u8(), byteCount=r.u64(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.destHandleIndex)
        w.u64(self.byteCount)


@ropResponse(0x3A)
@dataclass(slots=True)
class CopyToStreamResponse(RopResponse):
    """
    RopCopyToStream response ([MS-OXCROPS] 2.2.9.9.2, 2.2.9.9.3):
    ReadByteCount u64 and WrittenByteCount u64 whatever the ReturnValue,
    preceded by DestHandleIndex u32 on L{EC_DST_NULL_OBJECT}.
    C{handleIndex} is the SourceHandleIndex.

    @ivar destHandleIndex: On L{EC_DST_NULL_OBJECT}, the destination's
        index, else L{None}.
    @ivar readByteCount: Bytes read from the source.
    @ivar writtenByteCount: Bytes written to the destination.
    """

    destHandleIndex: Optional[int] = None
    readByteCount: int = 0
    writtenByteCount: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        dest = r.u32() if header["returnValue"] == EC_DST_NULL_OBJECT else None
        return cls(
            destHandleIndex=dest,
            readByteCount=r.u64(),
            writtenByteCount=r.u64(),
            **header,
        )

    def writeBody(self, w, ctx, request):
        if self.returnValue == EC_DST_NULL_OBJECT:
            if self.destHandleIndex is None:
                raise RopError("ecDstNullObject response needs destHandleIndex")
            w.u32(self.destHandleIndex)
        w.u64(self.readByteCount)
        w.u64(self.writtenByteCount)


@ropRequest(0x5B)
@dataclass(slots=True)
class LockRegionStreamRequest(_RegionRequest):
    """
    RopLockRegionStream request ([MS-OXCROPS] 2.2.9.10.1), see
    L{_RegionRequest}.
    """


@ropResponse(0x5B)
@dataclass(slots=True)
class LockRegionStreamResponse(RopResponse):
    """
    RopLockRegionStream response ([MS-OXCROPS] 2.2.9.10.2): no body.
    """


@ropRequest(0x5C)
@dataclass(slots=True)
class UnlockRegionStreamRequest(_RegionRequest):
    """
    RopUnlockRegionStream request ([MS-OXCROPS] 2.2.9.11.1), see
    L{_RegionRequest}.
    """


@ropResponse(0x5C)
@dataclass(slots=True)
class UnlockRegionStreamResponse(RopResponse):
    """
    RopUnlockRegionStream response ([MS-OXCROPS] 2.2.9.11.2): no body.
    """


@ropRequest(0x90)
@dataclass(slots=True)
class WriteAndCommitStreamRequest(_DataRequest):
    """
    RopWriteAndCommitStream request ([MS-OXCROPS] 2.2.9.12.1): DataSize
    u16, Data.
    """


@ropResponse(0x90)
@dataclass(slots=True)
class WriteAndCommitStreamResponse(_WrittenSizeResponse):
    """
    RopWriteAndCommitStream response ([MS-OXCROPS] 2.2.9.12.2):
    WrittenSize u16, whatever the ReturnValue.
    """


@ropRequest(0x3B)
@dataclass(slots=True)
class CloneStreamRequest(RopRequest):
    """
    RopCloneStream request ([MS-OXCROPS] 2.2.9.13.1).

    @ivar outputHandleIndex: Where the new Stream object's handle goes
        (u8).
    """

    outputHandleIndex: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(outputHandleIndex=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)


@ropResponse(0x3B)
@dataclass(slots=True)
class CloneStreamResponse(RopResponse):
    """
    RopCloneStream response ([MS-OXCROPS] 2.2.9.13.2): C{handleIndex} is
    the OutputHandleIndex; no body.
    """
