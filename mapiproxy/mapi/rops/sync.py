# -*- test-case-name: tests.mapi.rops.test_sync -*-
"""
FastTransfer and incremental change synchronization (ICS) ROPs
([MS-OXCROPS] 2.2.12 and 2.2.13; semantics in [MS-OXCFXICS] 2.2.3).

FastTransfer moves opaque streams: the source ROPs configure a download
context and RopFastTransferSourceGetBuffer pulls the stream; the
destination ROPs configure an upload context and push the stream with
RopFastTransferDestinationPutBuffer(Extended). ICS configures
synchronization contexts (RopSynchronizationConfigure), uploads their
state (RopSynchronizationUploadStateStream*) and imports client changes
through a collector (RopSynchronizationImport*). The FastTransfer streams
themselves ([MS-OXCFXICS] 2.2.4) are kept as bytes.

Response bodies:

  - RopFastTransferSourceGetBuffer, RopFastTransferDestinationPutBuffer
    and RopFastTransferDestinationPutBufferExtended always carry their
    progress fields, success or not ([MS-OXCROPS] 2.2.12.2.2, 2.2.12.3.2,
    2.2.12.4.2); a RopFastTransferSourceGetBuffer answered with
    ServerBusy (0x480) ends with a BackoffTime.
  - RopSynchronizationImportMessageChange, RopSynchronizationImport-
    HierarchyChange, RopSynchronizationImportMessageMove and
    RopGetLocalReplicaIds carry a body only on success.
  - Every other response here is the header alone.

Sized fields whose content is structured (the restriction of
RopSynchronizationConfigure, the ranges of RopSetLocalReplicaMidsetDeleted)
keep any bytes their size covers beyond the structure, so that re-encoding
is exact. One-byte Booleans are kept as the byte received.

A field that the layout requires (a flag or the ReturnValue says it is
there) must not be L{None} when encoding: that raises L{RopError}.

Sans-I/O; no Twisted.
"""

import uuid
from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    LongTermId,
    Restriction,
    TaggedPropertyValue,
    readRestriction,
    writeRestriction,
)
from mapiproxy.mapi.rops.base import RopRequest, RopResponse, ropRequest, ropResponse

__all__ = [
    "SERVER_BUSY",
    "BUFFER_SIZE_SENTINEL",
    "TRANSFER_STATUS_ERROR",
    "TRANSFER_STATUS_PARTIAL",
    "TRANSFER_STATUS_NO_ROOM",
    "TRANSFER_STATUS_DONE",
    "SOURCE_OPERATION_COPY_TO",
    "SOURCE_OPERATION_COPY_PROPERTIES",
    "SOURCE_OPERATION_COPY_MESSAGES",
    "SOURCE_OPERATION_COPY_FOLDER",
    "SYNC_TYPE_CONTENTS",
    "SYNC_TYPE_HIERARCHY",
    "SEND_OPTIONS_UNICODE",
    "SEND_OPTIONS_USE_CPID",
    "SEND_OPTIONS_RECOVER_MODE",
    "SEND_OPTIONS_FORCE_UNICODE",
    "SEND_OPTIONS_PARTIAL_ITEM",
    "LongTermIdRange",
    "MessageReadState",
    "FastTransferDestinationConfigureRequest",
    "FastTransferDestinationConfigureResponse",
    "FastTransferDestinationPutBufferRequest",
    "FastTransferDestinationPutBufferResponse",
    "FastTransferDestinationPutBufferExtendedRequest",
    "FastTransferDestinationPutBufferExtendedResponse",
    "FastTransferSourceGetBufferRequest",
    "FastTransferSourceGetBufferResponse",
    "FastTransferSourceCopyFolderRequest",
    "FastTransferSourceCopyFolderResponse",
    "FastTransferSourceCopyMessagesRequest",
    "FastTransferSourceCopyMessagesResponse",
    "FastTransferSourceCopyPropertiesRequest",
    "FastTransferSourceCopyPropertiesResponse",
    "FastTransferSourceCopyToRequest",
    "FastTransferSourceCopyToResponse",
    "TellVersionRequest",
    "TellVersionResponse",
    "SynchronizationConfigureRequest",
    "SynchronizationConfigureResponse",
    "SynchronizationImportMessageChangeRequest",
    "SynchronizationImportMessageChangeResponse",
    "SynchronizationImportReadStateChangesRequest",
    "SynchronizationImportReadStateChangesResponse",
    "SynchronizationImportHierarchyChangeRequest",
    "SynchronizationImportHierarchyChangeResponse",
    "SynchronizationImportDeletesRequest",
    "SynchronizationImportDeletesResponse",
    "SynchronizationImportMessageMoveRequest",
    "SynchronizationImportMessageMoveResponse",
    "SynchronizationOpenCollectorRequest",
    "SynchronizationOpenCollectorResponse",
    "SynchronizationGetTransferStateRequest",
    "SynchronizationGetTransferStateResponse",
    "SynchronizationUploadStateStreamBeginRequest",
    "SynchronizationUploadStateStreamBeginResponse",
    "SynchronizationUploadStateStreamContinueRequest",
    "SynchronizationUploadStateStreamContinueResponse",
    "SynchronizationUploadStateStreamEndRequest",
    "SynchronizationUploadStateStreamEndResponse",
    "SetLocalReplicaMidsetDeletedRequest",
    "SetLocalReplicaMidsetDeletedResponse",
    "GetLocalReplicaIdsRequest",
    "GetLocalReplicaIdsResponse",
]

#: ReturnValue ecServerBusy ([MS-OXCDATA] 2.4.1): a
#: RopFastTransferSourceGetBuffer response then ends with BackoffTime.
SERVER_BUSY = 0x00000480

#: The BufferSize of RopFastTransferSourceGetBuffer that lets the server
#: choose, up to MaximumBufferSize ([MS-OXCFXICS] 2.2.3.1.1.5.1).
BUFFER_SIZE_SENTINEL = 0xBABE

# TransferStatus ([MS-OXCFXICS] 2.2.3.1.1.5.2).
#: The download stopped on an error.
TRANSFER_STATUS_ERROR = 0x0000
#: More data follows.
TRANSFER_STATUS_PARTIAL = 0x0001
#: More data follows; the buffer was full.
TRANSFER_STATUS_NO_ROOM = 0x0002
#: This was the last portion of the stream.
TRANSFER_STATUS_DONE = 0x0003

# SourceOperation of RopFastTransferDestinationConfigure ([MS-OXCFXICS]
# 2.2.3.1.2.1.1).
#: The stream comes from RopFastTransferSourceCopyTo.
SOURCE_OPERATION_COPY_TO = 0x01
#: The stream comes from RopFastTransferSourceCopyProperties.
SOURCE_OPERATION_COPY_PROPERTIES = 0x02
#: The stream comes from RopFastTransferSourceCopyMessages.
SOURCE_OPERATION_COPY_MESSAGES = 0x03
#: The stream comes from RopFastTransferSourceCopyFolder.
SOURCE_OPERATION_COPY_FOLDER = 0x04

# SynchronizationType ([MS-OXCFXICS] 2.2.3.2.1.1.1).
#: Synchronize the messages of a folder.
SYNC_TYPE_CONTENTS = 0x01
#: Synchronize the folder hierarchy.
SYNC_TYPE_HIERARCHY = 0x02

# SendOptions flags ([MS-OXCFXICS] 2.2.3.1.1.1.1).
#: Strings in the stream are Unicode.
SEND_OPTIONS_UNICODE = 0x01
#: Strings are in the code page of each message.
SEND_OPTIONS_USE_CPID = 0x02
#: The client recovers from a previous error.
SEND_OPTIONS_RECOVER_MODE = 0x04
#: Strings are always Unicode.
SEND_OPTIONS_FORCE_UNICODE = 0x08
#: Partial items may be sent.
SEND_OPTIONS_PARTIAL_ITEM = 0x10


def _required(value, name):
    """
    A field the layout requires.

    @raise RopError: If C{value} is L{None}.
    """
    if value is None:
        raise RopError("%s is required by the layout but is None" % (name,))
    return value


def _readBinary16(r):
    # A u16 size and that many bytes.
    return r.bytes(r.u16())


def _writeBinary16(w, data):
    w.u16(len(data))
    w.bytes(data)


def _readBinary32(r):
    # A u32 size and that many bytes.
    return r.bytes(r.u32())


def _writeBinary32(w, data):
    w.u32(len(data))
    w.bytes(data)


def _readTags(r):
    # PropertyTagCount u16, then that many PropertyTags u32.
    return r.u32Array(r.u16())


def _writeTags(w, tags):
    w.u16(len(tags))
    w.u32Array(tags)


def _readTaggedValues(r):
    # A u16 count, then that many TaggedPropertyValues ([MS-OXCDATA] 2.11.4).
    return r.counted(r.u16(), TaggedPropertyValue.read, minSize=4)


def _writeTaggedValues(w, values):
    w.u16(len(values))
    for value in values:
        value.write(w)


def _globalCounterBytes(value):
    # A 48-bit GlobalCounter, big-endian ([MS-OXCDATA] 2.2.1.3.1).
    try:
        return value.to_bytes(6, "big")
    except (OverflowError, AttributeError) as e:
        raise RopError("bad GlobalCounter %r: %s" % (value, e)) from None


class _SuccessBody:
    """
    Mixin of responses whose body is present only when ReturnValue is 0;
    subclasses implement C{_readSuccess} and C{_writeSuccess}.
    """

    __slots__ = ()

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != 0:
            return cls(**header)
        return cls._readSuccess(r, header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == 0:
            self._writeSuccess(w)


@dataclass(slots=True)
class LongTermIdRange:
    """
    A range of message identifiers ([MS-OXCROPS] 2.2.13.12.1.1): two
    L{LongTermId}s, 48 bytes.

    @ivar minLongTermId: The first identifier of the range.
    @ivar maxLongTermId: The last identifier of the range.
    """

    minLongTermId: LongTermId = field(default_factory=LongTermId)
    maxLongTermId: LongTermId = field(default_factory=LongTermId)

    @classmethod
    def read(cls, r):
        """
        @type r: L{mapiproxy.mapi.rops.base.Reader}
        @rtype: L{LongTermIdRange}
        """
        return cls(LongTermId.read(r), LongTermId.read(r))

    def write(self, w):
        """
        @type w: L{mapiproxy.mapi.rops.base.Writer}
        """
        self.minLongTermId.write(w)
        self.maxLongTermId.write(w)


@dataclass(slots=True)
class MessageReadState:
    """
    One read-state change ([MS-OXCROPS] 2.2.13.3.1.1): MessageIdSize u16,
    MessageId (a source key or a serialized identifier, kept as bytes),
    MarkAsRead u8.

    @ivar messageId: The identifier bytes.
    @ivar markAsRead: Nonzero to mark the message read (the byte received).
    """

    messageId: bytes = b""
    markAsRead: int = 0

    @classmethod
    def read(cls, r):
        """
        @type r: L{mapiproxy.mapi.rops.base.Reader}
        @rtype: L{MessageReadState}
        """
        return cls(_readBinary16(r), r.u8())

    def write(self, w):
        """
        @type w: L{mapiproxy.mapi.rops.base.Writer}
        """
        _writeBinary16(w, self.messageId)
        w.bool8(self.markAsRead)


# RopFastTransferDestinationConfigure ([MS-OXCROPS] 2.2.12.1)


@ropRequest(0x53)
@dataclass(slots=True)
class FastTransferDestinationConfigureRequest(RopRequest):
    """
    RopFastTransferDestinationConfigure request ([MS-OXCROPS] 2.2.12.1.1):
    opens an upload context on the input object.

    @ivar outputHandleIndex: Where the upload context goes.
    @ivar sourceOperation: A C{SOURCE_OPERATION_*} value.
    @ivar copyFlags: CopyFlags ([MS-OXCFXICS] 2.2.3.1.2.1.1).
    """

    outputHandleIndex: int = 0
    sourceOperation: int = 0
    copyFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            sourceOperation=r.u8(),
            copyFlags=r.u8(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.sourceOperation)
        w.u8(self.copyFlags)


@ropResponse(0x53)
@dataclass(slots=True)
class FastTransferDestinationConfigureResponse(RopResponse):
    """
    RopFastTransferDestinationConfigure response ([MS-OXCROPS]
    2.2.12.1.2): the header alone (handle index = OutputHandleIndex).
    """


# RopFastTransferDestinationPutBuffer ([MS-OXCROPS] 2.2.12.2) and
# RopFastTransferDestinationPutBufferExtended (2.2.12.3)


class _PutBufferRequest:
    """
    Mixin of the two PutBuffer requests: TransferDataSize u16 and the
    FastTransfer stream portion.
    """

    __slots__ = ()

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(transferData=_readBinary16(r), **header)

    def writeBody(self, w, ctx):
        _writeBinary16(w, self.transferData)


@ropRequest(0x54)
@dataclass(slots=True)
class FastTransferDestinationPutBufferRequest(_PutBufferRequest, RopRequest):
    """
    RopFastTransferDestinationPutBuffer request ([MS-OXCROPS] 2.2.12.2.1).

    @ivar transferData: The portion of the FastTransfer stream.
    """

    transferData: bytes = b""


@ropRequest(0x9D)
@dataclass(slots=True)
class FastTransferDestinationPutBufferExtendedRequest(_PutBufferRequest, RopRequest):
    """
    RopFastTransferDestinationPutBufferExtended request ([MS-OXCROPS]
    2.2.12.3.1): the same layout as RopFastTransferDestinationPutBuffer.

    @ivar transferData: The portion of the FastTransfer stream.
    """

    transferData: bytes = b""


@ropResponse(0x54)
@dataclass(slots=True)
class FastTransferDestinationPutBufferResponse(RopResponse):
    """
    RopFastTransferDestinationPutBuffer response ([MS-OXCROPS] 2.2.12.2.2):
    always TransferStatus u16, InProgressCount u16, TotalStepCount u16,
    Reserved u8, BufferUsedSize u16, success or not.

    @ivar transferStatus: A C{TRANSFER_STATUS_*} value (clients ignore it).
    @ivar inProgressCount: Steps done.
    @ivar totalStepCount: Steps in all.
    @ivar reserved: The Reserved byte, as received.
    @ivar bufferUsedSize: How many bytes of TransferData were used.
    """

    transferStatus: int = 0
    inProgressCount: int = 0
    totalStepCount: int = 0
    reserved: int = 0
    bufferUsedSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(
            transferStatus=r.u16(),
            inProgressCount=r.u16(),
            totalStepCount=r.u16(),
            reserved=r.u8(),
            bufferUsedSize=r.u16(),
            **header,
        )

    def writeBody(self, w, ctx, request):
        w.u16(self.transferStatus)
        w.u16(self.inProgressCount)
        w.u16(self.totalStepCount)
        w.u8(self.reserved)
        w.u16(self.bufferUsedSize)


@ropResponse(0x9D)
@dataclass(slots=True)
class FastTransferDestinationPutBufferExtendedResponse(RopResponse):
    """
    RopFastTransferDestinationPutBufferExtended response ([MS-OXCROPS]
    2.2.12.3.2, [MS-OXCFXICS] 2.2.3.1.2.3.2): like
    L{FastTransferDestinationPutBufferResponse} but InProgressCount and
    TotalStepCount are u32.

    @ivar transferStatus: A C{TRANSFER_STATUS_*} value (clients ignore it).
    @ivar inProgressCount: Steps done (u32).
    @ivar totalStepCount: Steps in all (u32).
    @ivar reserved: The Reserved byte, as received.
    @ivar bufferUsedSize: How many bytes of TransferData were used.
    """

    transferStatus: int = 0
    inProgressCount: int = 0
    totalStepCount: int = 0
    reserved: int = 0
    bufferUsedSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(
            transferStatus=r.u16(),
            inProgressCount=r.u32(),
            totalStepCount=r.u32(),
            reserved=r.u8(),
            bufferUsedSize=r.u16(),
            **header,
        )

    def writeBody(self, w, ctx, request):
        w.u16(self.transferStatus)
        w.u32(self.inProgressCount)
        w.u32(self.totalStepCount)
        w.u8(self.reserved)
        w.u16(self.bufferUsedSize)


# RopFastTransferSourceGetBuffer ([MS-OXCROPS] 2.2.12.4)


@ropRequest(0x4E)
@dataclass(slots=True)
class FastTransferSourceGetBufferRequest(RopRequest):
    """
    RopFastTransferSourceGetBuffer request ([MS-OXCROPS] 2.2.12.4.1,
    [MS-OXCFXICS] 2.2.3.1.1.5.1).

    @ivar bufferSize: The most bytes wanted, or L{BUFFER_SIZE_SENTINEL}.
    @ivar maximumBufferSize: The u16 limit that follows, present if and
        only if C{bufferSize} is L{BUFFER_SIZE_SENTINEL} (else L{None}).
    """

    bufferSize: int = 0
    maximumBufferSize: Optional[int] = None

    @classmethod
    def readBody(cls, r, ctx, header):
        size = r.u16()
        maximum = r.u16() if size == BUFFER_SIZE_SENTINEL else None
        return cls(bufferSize=size, maximumBufferSize=maximum, **header)

    def writeBody(self, w, ctx):
        w.u16(self.bufferSize)
        if self.bufferSize == BUFFER_SIZE_SENTINEL:
            w.u16(_required(self.maximumBufferSize, "maximumBufferSize"))


@ropResponse(0x4E)
@dataclass(slots=True)
class FastTransferSourceGetBufferResponse(RopResponse):
    """
    RopFastTransferSourceGetBuffer response ([MS-OXCROPS] 2.2.12.4.2,
    [MS-OXCFXICS] 2.2.3.1.1.5.2): always TransferStatus u16,
    InProgressCount u16, TotalStepCount u16, Reserved u8,
    TransferBufferSize u16 and the stream portion; then, when ReturnValue
    is L{SERVER_BUSY}, BackoffTime u32 (milliseconds).

    @ivar transferStatus: A C{TRANSFER_STATUS_*} value.
    @ivar inProgressCount: Steps done.
    @ivar totalStepCount: Steps in all.
    @ivar reserved: The Reserved byte, as received.
    @ivar transferBuffer: The portion of the FastTransfer stream.
    @ivar backoffTime: How long to wait, present if and only if
        ReturnValue is L{SERVER_BUSY} (else L{None}).
    """

    transferStatus: int = 0
    inProgressCount: int = 0
    totalStepCount: int = 0
    reserved: int = 0
    transferBuffer: bytes = b""
    backoffTime: Optional[int] = None

    @classmethod
    def readBody(cls, r, ctx, request, header):
        status = r.u16()
        done = r.u16()
        total = r.u16()
        reserved = r.u8()
        data = _readBinary16(r)
        backoff = r.u32() if header["returnValue"] == SERVER_BUSY else None
        return cls(
            transferStatus=status,
            inProgressCount=done,
            totalStepCount=total,
            reserved=reserved,
            transferBuffer=data,
            backoffTime=backoff,
            **header,
        )

    def writeBody(self, w, ctx, request):
        w.u16(self.transferStatus)
        w.u16(self.inProgressCount)
        w.u16(self.totalStepCount)
        w.u8(self.reserved)
        _writeBinary16(w, self.transferBuffer)
        if self.returnValue == SERVER_BUSY:
            w.u32(_required(self.backoffTime, "backoffTime"))


# RopFastTransferSourceCopyFolder ([MS-OXCROPS] 2.2.12.5)


@ropRequest(0x4C)
@dataclass(slots=True)
class FastTransferSourceCopyFolderRequest(RopRequest):
    """
    RopFastTransferSourceCopyFolder request ([MS-OXCROPS] 2.2.12.5.1).

    @ivar outputHandleIndex: Where the download context goes.
    @ivar copyFlags: CopyFlags u8 ([MS-OXCFXICS] 2.2.3.1.1.4.1).
    @ivar sendOptions: C{SEND_OPTIONS_*} flags.
    """

    outputHandleIndex: int = 0
    copyFlags: int = 0
    sendOptions: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(), copyFlags=r.u8(), sendOptions=r.u8(), **header
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.copyFlags)
        w.u8(self.sendOptions)


@ropResponse(0x4C)
@dataclass(slots=True)
class FastTransferSourceCopyFolderResponse(RopResponse):
    """
    RopFastTransferSourceCopyFolder response ([MS-OXCROPS] 2.2.12.5.2):
    the header alone (handle index = OutputHandleIndex).
    """


# RopFastTransferSourceCopyMessages ([MS-OXCROPS] 2.2.12.6)


@ropRequest(0x4B)
@dataclass(slots=True)
class FastTransferSourceCopyMessagesRequest(RopRequest):
    """
    RopFastTransferSourceCopyMessages request ([MS-OXCROPS] 2.2.12.6.1).

    @ivar outputHandleIndex: Where the download context goes.
    @ivar messageIds: MessageIdCount u16, then u64 MessageIDs.
    @ivar copyFlags: CopyFlags u8 ([MS-OXCFXICS] 2.2.3.1.1.3.1).
    @ivar sendOptions: C{SEND_OPTIONS_*} flags.
    """

    outputHandleIndex: int = 0
    messageIds: list = field(default_factory=list)
    copyFlags: int = 0
    sendOptions: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        out = r.u8()
        ids = r.u64Array(r.u16())
        return cls(
            outputHandleIndex=out,
            messageIds=ids,
            copyFlags=r.u8(),
            sendOptions=r.u8(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u16(len(self.messageIds))
        w.u64Array(self.messageIds)
        w.u8(self.copyFlags)
        w.u8(self.sendOptions)


@ropResponse(0x4B)
@dataclass(slots=True)
class FastTransferSourceCopyMessagesResponse(RopResponse):
    """
    RopFastTransferSourceCopyMessages response ([MS-OXCROPS] 2.2.12.6.2):
    the header alone (handle index = OutputHandleIndex).
    """


# RopFastTransferSourceCopyTo ([MS-OXCROPS] 2.2.12.7)


@ropRequest(0x4D)
@dataclass(slots=True)
class FastTransferSourceCopyToRequest(RopRequest):
    """
    RopFastTransferSourceCopyTo request ([MS-OXCROPS] 2.2.12.7.1).

    @ivar outputHandleIndex: Where the download context goes.
    @ivar level: Nonzero to leave out the subobjects.
    @ivar copyFlags: CopyFlags u32 ([MS-OXCFXICS] 2.2.3.1.1.1.1).
    @ivar sendOptions: C{SEND_OPTIONS_*} flags.
    @ivar propertyTags: The properties to exclude.
    """

    outputHandleIndex: int = 0
    level: int = 0
    copyFlags: int = 0
    sendOptions: int = 0
    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            level=r.u8(),
            copyFlags=r.u32(),
            sendOptions=r.u8(),
            propertyTags=_readTags(r),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.level)
        w.u32(self.copyFlags)
        w.u8(self.sendOptions)
        _writeTags(w, self.propertyTags)


@ropResponse(0x4D)
@dataclass(slots=True)
class FastTransferSourceCopyToResponse(RopResponse):
    """
    RopFastTransferSourceCopyTo response ([MS-OXCROPS] 2.2.12.7.2): the
    header alone (handle index = OutputHandleIndex).
    """


# RopFastTransferSourceCopyProperties ([MS-OXCROPS] 2.2.12.8)


@ropRequest(0x69)
@dataclass(slots=True)
class FastTransferSourceCopyPropertiesRequest(RopRequest):
    """
    RopFastTransferSourceCopyProperties request ([MS-OXCROPS] 2.2.12.8.1):
    like RopFastTransferSourceCopyTo but with a one-byte CopyFlags and the
    properties to include.

    @ivar outputHandleIndex: Where the download context goes.
    @ivar level: Nonzero to leave out the subobjects.
    @ivar copyFlags: CopyFlags u8 ([MS-OXCFXICS] 2.2.3.1.1.2.1).
    @ivar sendOptions: C{SEND_OPTIONS_*} flags.
    @ivar propertyTags: The properties to copy.
    """

    outputHandleIndex: int = 0
    level: int = 0
    copyFlags: int = 0
    sendOptions: int = 0
    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            level=r.u8(),
            copyFlags=r.u8(),
            sendOptions=r.u8(),
            propertyTags=_readTags(r),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.level)
        w.u8(self.copyFlags)
        w.u8(self.sendOptions)
        _writeTags(w, self.propertyTags)


@ropResponse(0x69)
@dataclass(slots=True)
class FastTransferSourceCopyPropertiesResponse(RopResponse):
    """
    RopFastTransferSourceCopyProperties response ([MS-OXCROPS]
    2.2.12.8.2): the header alone (handle index = OutputHandleIndex).
    """


# RopTellVersion ([MS-OXCROPS] 2.2.12.9)


@ropRequest(0x86)
@dataclass(slots=True)
class TellVersionRequest(RopRequest):
    """
    RopTellVersion request ([MS-OXCROPS] 2.2.12.9.1): the version of the
    server the stream came from, three u16.

    @ivar version: A 3-tuple of L{int}.
    """

    version: tuple = (0, 0, 0)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(version=tuple(r.u16Array(3)), **header)

    def writeBody(self, w, ctx):
        if len(self.version) != 3:
            raise RopError(
                "RopTellVersion needs 3 version numbers, not %r" % (self.version,)
            )
        w.u16Array(list(self.version))


@ropResponse(0x86)
@dataclass(slots=True)
class TellVersionResponse(RopResponse):
    """
    RopTellVersion response ([MS-OXCROPS] 2.2.12.9.2): the header alone.
    """


# RopSynchronizationConfigure ([MS-OXCROPS] 2.2.13.1)


@ropRequest(0x70)
@dataclass(slots=True)
class SynchronizationConfigureRequest(RopRequest):
    """
    RopSynchronizationConfigure request ([MS-OXCROPS] 2.2.13.1.1,
    [MS-OXCFXICS] 2.2.3.2.1.1.1): opens an ICS download context.

    RestrictionDataSize u16 measures the restriction; a size of 0 means no
    restriction.

    @ivar outputHandleIndex: Where the synchronization context goes.
    @ivar synchronizationType: L{SYNC_TYPE_CONTENTS} or
        L{SYNC_TYPE_HIERARCHY}.
    @ivar sendOptions: C{SEND_OPTIONS_*} flags.
    @ivar synchronizationFlags: SynchronizationFlags u16.
    @ivar restriction: A L{Restriction} ([MS-OXCDATA] 2.12), or L{None}
        (size 0, or bytes that do not parse: they are then all in
        C{restrictionTail}).
    @ivar restrictionTail: Bytes inside RestrictionDataSize that are not
        part of C{restriction}, kept for exact re-encoding.
    @ivar synchronizationExtraFlags: SynchronizationExtraFlags u32.
    @ivar propertyTags: The properties to include or exclude.
    """

    outputHandleIndex: int = 0
    synchronizationType: int = 0
    sendOptions: int = 0
    synchronizationFlags: int = 0
    restriction: Optional[Restriction] = None
    restrictionTail: bytes = b""
    synchronizationExtraFlags: int = 0
    propertyTags: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        out = r.u8()
        syncType = r.u8()
        options = r.u8()
        flags = r.u16()
        window = r.sub(r.u16())
        restriction = None
        if window.remaining:
            start = window.offset
            try:
                restriction = readRestriction(window)
            except RopError:
                window.offset = start
        tail = window.rest()
        return cls(
            outputHandleIndex=out,
            synchronizationType=syncType,
            sendOptions=options,
            synchronizationFlags=flags,
            restriction=restriction,
            restrictionTail=tail,
            synchronizationExtraFlags=r.u32(),
            propertyTags=_readTags(r),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.synchronizationType)
        w.u8(self.sendOptions)
        w.u16(self.synchronizationFlags)
        pos = w.placeholderU16()
        before = len(w)
        if self.restriction is not None:
            writeRestriction(w, self.restriction)
        w.bytes(self.restrictionTail)
        w.setU16(pos, len(w) - before)
        w.u32(self.synchronizationExtraFlags)
        _writeTags(w, self.propertyTags)


@ropResponse(0x70)
@dataclass(slots=True)
class SynchronizationConfigureResponse(RopResponse):
    """
    RopSynchronizationConfigure response ([MS-OXCROPS] 2.2.13.1.2): the
    header alone (handle index = OutputHandleIndex).
    """


# RopSynchronizationImportMessageChange ([MS-OXCROPS] 2.2.13.2)


@ropRequest(0x72)
@dataclass(slots=True)
class SynchronizationImportMessageChangeRequest(RopRequest):
    """
    RopSynchronizationImportMessageChange request ([MS-OXCROPS] 2.2.13.2.1).

    @ivar outputHandleIndex: Where the message goes.
    @ivar importFlag: ImportFlag u8 ([MS-OXCFXICS] 2.2.3.2.4.2.1).
    @ivar propertyValues: L{TaggedPropertyValue}s (u16 count): the source
        key, last modification time, change key and predecessor change list.
    """

    outputHandleIndex: int = 0
    importFlag: int = 0
    propertyValues: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            importFlag=r.u8(),
            propertyValues=_readTaggedValues(r),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.importFlag)
        _writeTaggedValues(w, self.propertyValues)


@ropResponse(0x72)
@dataclass(slots=True)
class SynchronizationImportMessageChangeResponse(_SuccessBody, RopResponse):
    """
    RopSynchronizationImportMessageChange response ([MS-OXCROPS]
    2.2.13.2.2): MessageId u64 on success (handle index =
    OutputHandleIndex).

    @ivar messageId: The MessageID of the imported message.
    """

    messageId: int = 0

    @classmethod
    def _readSuccess(cls, r, header):
        return cls(messageId=r.u64(), **header)

    def _writeSuccess(self, w):
        w.u64(self.messageId)


# RopSynchronizationImportReadStateChanges ([MS-OXCROPS] 2.2.13.3)


@ropRequest(0x80)
@dataclass(slots=True)
class SynchronizationImportReadStateChangesRequest(RopRequest):
    """
    RopSynchronizationImportReadStateChanges request ([MS-OXCROPS]
    2.2.13.3.1): MessageReadStatesSize u16, then L{MessageReadState}s
    filling exactly that many bytes.

    @ivar messageReadStates: L{MessageReadState} items.
    """

    messageReadStates: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        window = r.sub(r.u16())
        states = []
        while window.remaining:
            states.append(MessageReadState.read(window))
        return cls(messageReadStates=states, **header)

    def writeBody(self, w, ctx):
        pos = w.placeholderU16()
        before = len(w)
        for state in self.messageReadStates:
            state.write(w)
        w.setU16(pos, len(w) - before)


@ropResponse(0x80)
@dataclass(slots=True)
class SynchronizationImportReadStateChangesResponse(RopResponse):
    """
    RopSynchronizationImportReadStateChanges response ([MS-OXCROPS]
    2.2.13.3.2): the header alone.
    """


# RopSynchronizationImportHierarchyChange ([MS-OXCROPS] 2.2.13.4)


@ropRequest(0x73)
@dataclass(slots=True)
class SynchronizationImportHierarchyChangeRequest(RopRequest):
    """
    RopSynchronizationImportHierarchyChange request ([MS-OXCROPS]
    2.2.13.4.1).

    @ivar hierarchyValues: L{TaggedPropertyValue}s (u16 count): the
        hierarchy properties of the folder.
    @ivar propertyValues: L{TaggedPropertyValue}s (u16 count): its other
        properties.
    """

    hierarchyValues: list = field(default_factory=list)
    propertyValues: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        hierarchy = _readTaggedValues(r)
        return cls(
            hierarchyValues=hierarchy, propertyValues=_readTaggedValues(r), **header
        )

    def writeBody(self, w, ctx):
        _writeTaggedValues(w, self.hierarchyValues)
        _writeTaggedValues(w, self.propertyValues)


@ropResponse(0x73)
@dataclass(slots=True)
class SynchronizationImportHierarchyChangeResponse(_SuccessBody, RopResponse):
    """
    RopSynchronizationImportHierarchyChange response ([MS-OXCROPS]
    2.2.13.4.2): FolderId u64 on success.

    @ivar folderId: The FolderID of the imported folder.
    """

    folderId: int = 0

    @classmethod
    def _readSuccess(cls, r, header):
        return cls(folderId=r.u64(), **header)

    def _writeSuccess(self, w):
        w.u64(self.folderId)


# RopSynchronizationImportDeletes ([MS-OXCROPS] 2.2.13.5)


@ropRequest(0x74)
@dataclass(slots=True)
class SynchronizationImportDeletesRequest(RopRequest):
    """
    RopSynchronizationImportDeletes request ([MS-OXCROPS] 2.2.13.5.1).

    @ivar importDeleteFlags: ImportDeleteFlags u8 ([MS-OXCFXICS]
        2.2.3.2.4.5.1).
    @ivar propertyValues: L{TaggedPropertyValue}s (u16 count), normally one
        PtypMultipleBinary of source keys.
    """

    importDeleteFlags: int = 0
    propertyValues: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        flags = r.u8()
        return cls(
            importDeleteFlags=flags, propertyValues=_readTaggedValues(r), **header
        )

    def writeBody(self, w, ctx):
        w.u8(self.importDeleteFlags)
        _writeTaggedValues(w, self.propertyValues)


@ropResponse(0x74)
@dataclass(slots=True)
class SynchronizationImportDeletesResponse(RopResponse):
    """
    RopSynchronizationImportDeletes response ([MS-OXCROPS] 2.2.13.5.2): the
    header alone.
    """


# RopSynchronizationImportMessageMove ([MS-OXCROPS] 2.2.13.6)


@ropRequest(0x78)
@dataclass(slots=True)
class SynchronizationImportMessageMoveRequest(RopRequest):
    """
    RopSynchronizationImportMessageMove request ([MS-OXCROPS] 2.2.13.6.1):
    five byte strings, each with a u32 size.

    @ivar sourceFolderId: The source key of the source folder.
    @ivar sourceMessageId: The source key of the source message.
    @ivar predecessorChangeList: The PredecessorChangeList of the message.
    @ivar destinationMessageId: The source key of the moved message.
    @ivar changeNumber: Its change key.
    """

    sourceFolderId: bytes = b""
    sourceMessageId: bytes = b""
    predecessorChangeList: bytes = b""
    destinationMessageId: bytes = b""
    changeNumber: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            sourceFolderId=_readBinary32(r),
            sourceMessageId=_readBinary32(r),
            predecessorChangeList=_readBinary32(r),
            destinationMessageId=_readBinary32(r),
            changeNumber=_readBinary32(r),
            **header,
        )

    def writeBody(self, w, ctx):
        _writeBinary32(w, self.sourceFolderId)
        _writeBinary32(w, self.sourceMessageId)
        _writeBinary32(w, self.predecessorChangeList)
        _writeBinary32(w, self.destinationMessageId)
        _writeBinary32(w, self.changeNumber)


@ropResponse(0x78)
@dataclass(slots=True)
class SynchronizationImportMessageMoveResponse(_SuccessBody, RopResponse):
    """
    RopSynchronizationImportMessageMove response ([MS-OXCROPS] 2.2.13.6.2):
    MessageId u64 on success.

    @ivar messageId: The MessageID of the moved message.
    """

    messageId: int = 0

    @classmethod
    def _readSuccess(cls, r, header):
        return cls(messageId=r.u64(), **header)

    def _writeSuccess(self, w):
        w.u64(self.messageId)


# RopSynchronizationOpenCollector ([MS-OXCROPS] 2.2.13.7)


@ropRequest(0x7E)
@dataclass(slots=True)
class SynchronizationOpenCollectorRequest(RopRequest):
    """
    RopSynchronizationOpenCollector request ([MS-OXCROPS] 2.2.13.7.1):
    opens an ICS upload context.

    @ivar outputHandleIndex: Where the collector goes.
    @ivar isContentsCollector: Nonzero for contents, zero for hierarchy
        (the byte received).
    """

    outputHandleIndex: int = 0
    isContentsCollector: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(outputHandleIndex=r.u8(), isContentsCollector=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.bool8(self.isContentsCollector)


@ropResponse(0x7E)
@dataclass(slots=True)
class SynchronizationOpenCollectorResponse(RopResponse):
    """
    RopSynchronizationOpenCollector response ([MS-OXCROPS] 2.2.13.7.2):
    the header alone (handle index = OutputHandleIndex).
    """


# RopSynchronizationGetTransferState ([MS-OXCROPS] 2.2.13.8)


@ropRequest(0x82)
@dataclass(slots=True)
class SynchronizationGetTransferStateRequest(RopRequest):
    """
    RopSynchronizationGetTransferState request ([MS-OXCROPS] 2.2.13.8.1):
    opens a download context for the ICS state.

    @ivar outputHandleIndex: Where the download context goes.
    """

    outputHandleIndex: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(outputHandleIndex=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)


@ropResponse(0x82)
@dataclass(slots=True)
class SynchronizationGetTransferStateResponse(RopResponse):
    """
    RopSynchronizationGetTransferState response ([MS-OXCROPS] 2.2.13.8.2):
    the header alone (handle index = OutputHandleIndex).
    """


# RopSynchronizationUploadStateStreamBegin/Continue/End ([MS-OXCROPS]
# 2.2.13.9, 2.2.13.10, 2.2.13.11)


@ropRequest(0x75)
@dataclass(slots=True)
class SynchronizationUploadStateStreamBeginRequest(RopRequest):
    """
    RopSynchronizationUploadStateStreamBegin request ([MS-OXCROPS]
    2.2.13.9.1).

    @ivar statePropertyTag: The ICS state property being uploaded
        (MetaTagIdsetGiven, MetaTagCnsetSeen...).
    @ivar transferBufferSize: The size of the whole stream, u32.
    """

    statePropertyTag: int = 0
    transferBufferSize: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(statePropertyTag=r.u32(), transferBufferSize=r.u32(), **header)

    def writeBody(self, w, ctx):
        w.u32(self.statePropertyTag)
        w.u32(self.transferBufferSize)


@ropResponse(0x75)
@dataclass(slots=True)
class SynchronizationUploadStateStreamBeginResponse(RopResponse):
    """
    RopSynchronizationUploadStateStreamBegin response ([MS-OXCROPS]
    2.2.13.9.2): the header alone.
    """


@ropRequest(0x76)
@dataclass(slots=True)
class SynchronizationUploadStateStreamContinueRequest(RopRequest):
    """
    RopSynchronizationUploadStateStreamContinue request ([MS-OXCROPS]
    2.2.13.10.1): StreamDataSize u32 and a portion of the state stream.

    @ivar streamData: The portion.
    """

    streamData: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(streamData=_readBinary32(r), **header)

    def writeBody(self, w, ctx):
        _writeBinary32(w, self.streamData)


@ropResponse(0x76)
@dataclass(slots=True)
class SynchronizationUploadStateStreamContinueResponse(RopResponse):
    """
    RopSynchronizationUploadStateStreamContinue response ([MS-OXCROPS]
    2.2.13.10.2): the header alone.
    """


@ropRequest(0x77)
@dataclass(slots=True)
class SynchronizationUploadStateStreamEndRequest(RopRequest):
    """
    RopSynchronizationUploadStateStreamEnd request ([MS-OXCROPS]
    2.2.13.11.1): no body.
    """


@ropResponse(0x77)
@dataclass(slots=True)
class SynchronizationUploadStateStreamEndResponse(RopResponse):
    """
    RopSynchronizationUploadStateStreamEnd response ([MS-OXCROPS]
    2.2.13.11.2): the header alone.
    """


# RopSetLocalReplicaMidsetDeleted ([MS-OXCROPS] 2.2.13.12)


@ropRequest(0x93)
@dataclass(slots=True)
class SetLocalReplicaMidsetDeletedRequest(RopRequest):
    """
    RopSetLocalReplicaMidsetDeleted request ([MS-OXCROPS] 2.2.13.12.1):
    DataSize u16 measures LongTermIdRangeCount u32 and the ranges.

    @ivar longTermIdRanges: L{LongTermIdRange} items.
    @ivar dataTail: Bytes inside DataSize after the ranges, kept for exact
        re-encoding.
    """

    longTermIdRanges: list = field(default_factory=list)
    dataTail: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, header):
        window = r.sub(r.u16())
        count = window.u32()
        ranges = window.counted(count, LongTermIdRange.read, minSize=48)
        return cls(longTermIdRanges=ranges, dataTail=window.rest(), **header)

    def writeBody(self, w, ctx):
        pos = w.placeholderU16()
        before = len(w)
        w.u32(len(self.longTermIdRanges))
        for item in self.longTermIdRanges:
            item.write(w)
        w.bytes(self.dataTail)
        w.setU16(pos, len(w) - before)


@ropResponse(0x93)
@dataclass(slots=True)
class SetLocalReplicaMidsetDeletedResponse(RopResponse):
    """
    RopSetLocalReplicaMidsetDeleted response ([MS-OXCROPS] 2.2.13.12.2):
    the header alone.
    """


# RopGetLocalReplicaIds ([MS-OXCROPS] 2.2.13.13)


@ropRequest(0x7F)
@dataclass(slots=True)
class GetLocalReplicaIdsRequest(RopRequest):
    """
    RopGetLocalReplicaIds request ([MS-OXCROPS] 2.2.13.13.1): reserves a
    range of identifiers.

    @ivar idCount: How many, u32.
    """

    idCount: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(idCount=r.u32(), **header)

    def writeBody(self, w, ctx):
        w.u32(self.idCount)


@ropResponse(0x7F)
@dataclass(slots=True)
class GetLocalReplicaIdsResponse(_SuccessBody, RopResponse):
    """
    RopGetLocalReplicaIds response ([MS-OXCROPS] 2.2.13.13.2): on success
    ReplGuid (16 bytes) and GlobalCount (6 bytes, a big-endian 48-bit
    counter, [MS-OXCDATA] 2.2.1.3.1), the first identifier of the range.

    @ivar replGuid: The replica GUID of the identifiers.
    @type replGuid: L{uuid.UUID}
    @ivar globalCount: The first GlobalCounter of the range.
    """

    replGuid: uuid.UUID = uuid.UUID(int=0)
    globalCount: int = 0

    @classmethod
    def _readSuccess(cls, r, header):
        guid = r.guid()
        return cls(
            replGuid=guid, globalCount=int.from_bytes(r.bytes(6), "big"), **header
        )

    def _writeSuccess(self, w):
        w.guid(self.replGuid)
        w.bytes(_globalCounterBytes(self.globalCount))
