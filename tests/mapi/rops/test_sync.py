"""
Tests for L{mapiproxy.mapi.rops.sync}: the FastTransfer and ICS ROPs
([MS-OXCROPS] 2.2.12, 2.2.13; [MS-OXCFXICS] 2.2.3).

The golden bytes are laid out by hand, field by field, from the MS-OXCROPS
/ MS-OXCFXICS field tables with L{struct} (an independent packer); the
layouts agree with Microsoft's protocol test suite
(OfficeDev/Interop-TestSuites, ExchangeMAPI RopMessages) and gromox's
C{rop_ext.cpp}.
"""

import struct
import uuid

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    AndRestriction,
    ExistRestriction,
    LongTermId,
    PropertyRestriction,
    TaggedPropertyValue,
)
from mapiproxy.mapi.rops import sync
from mapiproxy.mapi.rops.base import (
    REQUEST_CLASSES,
    RESPONSE_CLASSES,
    Reader,
    RopContext,
    UnknownRop,
    Writer,
    decodeRequests,
    decodeResponses,
    encodeRequests,
    encodeResponses,
)
from mapiproxy.mapi.rops.sync import (
    SERVER_BUSY,
    FastTransferDestinationConfigureRequest,
    FastTransferDestinationConfigureResponse,
    FastTransferDestinationPutBufferExtendedRequest,
    FastTransferDestinationPutBufferExtendedResponse,
    FastTransferDestinationPutBufferRequest,
    FastTransferDestinationPutBufferResponse,
    FastTransferSourceCopyFolderRequest,
    FastTransferSourceCopyFolderResponse,
    FastTransferSourceCopyMessagesRequest,
    FastTransferSourceCopyMessagesResponse,
    FastTransferSourceCopyPropertiesRequest,
    FastTransferSourceCopyPropertiesResponse,
    FastTransferSourceCopyToRequest,
    FastTransferSourceCopyToResponse,
    FastTransferSourceGetBufferRequest,
    FastTransferSourceGetBufferResponse,
    GetLocalReplicaIdsRequest,
    GetLocalReplicaIdsResponse,
    LongTermIdRange,
    MessageReadState,
    SetLocalReplicaMidsetDeletedRequest,
    SetLocalReplicaMidsetDeletedResponse,
    SynchronizationConfigureRequest,
    SynchronizationConfigureResponse,
    SynchronizationGetTransferStateRequest,
    SynchronizationGetTransferStateResponse,
    SynchronizationImportDeletesRequest,
    SynchronizationImportDeletesResponse,
    SynchronizationImportHierarchyChangeRequest,
    SynchronizationImportHierarchyChangeResponse,
    SynchronizationImportMessageChangeRequest,
    SynchronizationImportMessageChangeResponse,
    SynchronizationImportMessageMoveRequest,
    SynchronizationImportMessageMoveResponse,
    SynchronizationImportReadStateChangesRequest,
    SynchronizationImportReadStateChangesResponse,
    SynchronizationOpenCollectorRequest,
    SynchronizationOpenCollectorResponse,
    SynchronizationUploadStateStreamBeginRequest,
    SynchronizationUploadStateStreamBeginResponse,
    SynchronizationUploadStateStreamContinueRequest,
    SynchronizationUploadStateStreamContinueResponse,
    SynchronizationUploadStateStreamEndRequest,
    SynchronizationUploadStateStreamEndResponse,
    TellVersionRequest,
    TellVersionResponse,
)

_FAST = settings(max_examples=200, deadline=None)

#: Handle tables used by the golden tests (their values do not matter to
#: these ROPs).
_HANDLES = [0x11, 0x22, 0x33, 0xFFFFFFFF]

_GUID = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")

# Property tags used in the vectors ([MS-OXPROPS]).
_PidTagSourceKey = 0x65E00102
_PidTagLastModificationTime = 0x30080040
_PidTagChangeKey = 0x65E20102
_PidTagDisplayName = 0x3001001F
_PidTagMessageSize = 0x0E080003
_MetaTagIdsetGiven = 0x40170003


def req(ropId, logonId=0, inputHandleIndex=0):
    """
    A ROP request header: RopId, LogonId, InputHandleIndex.
    """
    return struct.pack("<BBB", ropId, logonId, inputHandleIndex)


def resp(ropId, handleIndex, returnValue=0):
    """
    A ROP response header: RopId, handle index, ReturnValue u32.
    """
    return struct.pack("<BBI", ropId, handleIndex, returnValue)


def longTermIdBytes(guid, counter, pad=0):
    """
    A LongTermID ([MS-OXCDATA] 2.2.1.3.1): GUID, 6-byte big-endian counter,
    u16 pad.
    """
    return guid.bytes_le + counter.to_bytes(6, "big") + struct.pack("<H", pad)


class GoldenMixin:
    """
    Checks one ROP against golden bytes in all three directions.
    """

    def assertRequestGolden(self, data, expected):
        """
        C{data} decodes to exactly C{[expected]}, re-encodes to C{data}, and
        C{expected} built from scratch encodes to C{data}.
        """
        items = decodeRequests(data, _HANDLES, RopContext())
        self.assertEqual(items, [expected])
        self.assertEqual(encodeRequests(items, RopContext(), _HANDLES), data)
        self.assertEqual(encodeRequests([expected], RopContext(), _HANDLES), data)

    def assertResponseGolden(self, data, expected, request=None):
        """
        The same for a response (paired with C{request} if given).
        """
        requests = [request] if request is not None else None
        items = decodeResponses(data, _HANDLES, requests, RopContext())
        self.assertEqual(items, [expected])
        self.assertEqual(encodeResponses(items, requests, RopContext(), _HANDLES), data)
        self.assertEqual(
            encodeResponses([expected], requests, RopContext(), _HANDLES), data
        )


class FastTransferDestinationTests(GoldenMixin, SynchronousTestCase):
    """
    RopFastTransferDestinationConfigure, RopFastTransferDestinationPutBuffer
    and RopFastTransferDestinationPutBufferExtended.
    """

    def test_configureRequest(self):
        """
        RopFastTransferDestinationConfigure request: OutputHandleIndex,
        SourceOperation, CopyFlags, one byte each.
        """
        data = req(0x53, 1, 2) + bytes([3, 0x03, 0x01])
        self.assertRequestGolden(
            data,
            FastTransferDestinationConfigureRequest(
                logonId=1,
                inputHandleIndex=2,
                outputHandleIndex=3,
                sourceOperation=sync.SOURCE_OPERATION_COPY_MESSAGES,
                copyFlags=0x01,
            ),
        )

    def test_configureResponse(self):
        """
        RopFastTransferDestinationConfigure response is the header alone,
        success or failure.
        """
        self.assertResponseGolden(
            resp(0x53, 3), FastTransferDestinationConfigureResponse(handleIndex=3)
        )
        self.assertResponseGolden(
            resp(0x53, 3, 0x80040102),
            FastTransferDestinationConfigureResponse(
                handleIndex=3, returnValue=0x80040102
            ),
        )

    def test_putBufferRequest(self):
        """
        RopFastTransferDestinationPutBuffer request: TransferDataSize u16
        and the stream bytes.
        """
        stream = b"\x03\x00\x01\x40\xaa"
        data = req(0x54, 0, 1) + struct.pack("<H", len(stream)) + stream
        self.assertRequestGolden(
            data,
            FastTransferDestinationPutBufferRequest(
                inputHandleIndex=1, transferData=stream
            ),
        )

    def test_putBufferExtendedRequest(self):
        """
        RopFastTransferDestinationPutBufferExtended request has the same
        layout as RopFastTransferDestinationPutBuffer, empty data included.
        """
        self.assertRequestGolden(
            req(0x9D, 0, 1) + b"\x00\x00",
            FastTransferDestinationPutBufferExtendedRequest(inputHandleIndex=1),
        )

    def test_putBufferResponse(self):
        """
        RopFastTransferDestinationPutBuffer response always carries
        TransferStatus u16, InProgressCount u16, TotalStepCount u16,
        Reserved u8 and BufferUsedSize u16, even on failure.
        """
        body = struct.pack("<HHHBH", 0x0001, 2, 9, 0, 5)
        self.assertResponseGolden(
            resp(0x54, 1) + body,
            FastTransferDestinationPutBufferResponse(
                handleIndex=1,
                transferStatus=sync.TRANSFER_STATUS_PARTIAL,
                inProgressCount=2,
                totalStepCount=9,
                bufferUsedSize=5,
            ),
        )
        body = struct.pack("<HHHBH", 0x0000, 0, 0, 7, 3)
        self.assertResponseGolden(
            resp(0x54, 1, 0x80004005) + body,
            FastTransferDestinationPutBufferResponse(
                handleIndex=1,
                returnValue=0x80004005,
                transferStatus=sync.TRANSFER_STATUS_ERROR,
                reserved=7,
                bufferUsedSize=3,
            ),
        )

    def test_putBufferExtendedResponse(self):
        """
        RopFastTransferDestinationPutBufferExtended response has u32
        InProgressCount and TotalStepCount ([MS-OXCFXICS] 2.2.3.1.2.3.2).
        """
        body = struct.pack("<HIIBH", 0x0003, 0x10000, 0x20000, 0, 0x1234)
        self.assertResponseGolden(
            resp(0x9D, 1) + body,
            FastTransferDestinationPutBufferExtendedResponse(
                handleIndex=1,
                transferStatus=sync.TRANSFER_STATUS_DONE,
                inProgressCount=0x10000,
                totalStepCount=0x20000,
                bufferUsedSize=0x1234,
            ),
        )

    def test_putBufferResponseTruncated(self):
        """
        A RopFastTransferDestinationPutBuffer response missing its body
        fails with L{RopError}: the body is not optional.
        """
        self.assertRaises(
            RopError,
            FastTransferDestinationPutBufferResponse.readBody,
            Reader(b"\x01\x00"),
            RopContext(),
            None,
            {"handleIndex": 0, "returnValue": 0x80004005},
        )


class FastTransferSourceTests(GoldenMixin, SynchronousTestCase):
    """
    RopFastTransferSourceGetBuffer and the four RopFastTransferSourceCopy*.
    """

    def test_getBufferRequest(self):
        """
        RopFastTransferSourceGetBuffer request: BufferSize u16 and no
        MaximumBufferSize when BufferSize is not 0xBABE.
        """
        self.assertRequestGolden(
            req(0x4E, 0, 4) + struct.pack("<H", 15480),
            FastTransferSourceGetBufferRequest(inputHandleIndex=4, bufferSize=15480),
        )

    def test_getBufferRequestSentinel(self):
        """
        With BufferSize 0xBABE a u16 MaximumBufferSize follows.
        """
        self.assertRequestGolden(
            req(0x4E, 0, 4) + struct.pack("<HH", 0xBABE, 0x7FF0),
            FastTransferSourceGetBufferRequest(
                inputHandleIndex=4, bufferSize=0xBABE, maximumBufferSize=0x7FF0
            ),
        )

    def test_getBufferRequestSentinelNeedsMaximum(self):
        """
        Encoding BufferSize 0xBABE without a MaximumBufferSize is refused.
        """
        self.assertRaises(
            RopError,
            encodeRequests,
            [FastTransferSourceGetBufferRequest(bufferSize=0xBABE)],
            RopContext(),
        )

    def test_getBufferResponse(self):
        """
        RopFastTransferSourceGetBuffer success response: TransferStatus,
        InProgressCount, TotalStepCount, Reserved, TransferBufferSize and
        the stream portion.
        """
        stream = bytes(range(7))
        data = (
            resp(0x4E, 4)
            + struct.pack("<HHHBH", 0x0001, 3, 10, 0, len(stream))
            + stream
        )
        self.assertResponseGolden(
            data,
            FastTransferSourceGetBufferResponse(
                handleIndex=4,
                transferStatus=sync.TRANSFER_STATUS_PARTIAL,
                inProgressCount=3,
                totalStepCount=10,
                transferBuffer=stream,
            ),
            FastTransferSourceGetBufferRequest(inputHandleIndex=4, bufferSize=100),
        )

    def test_getBufferFailureResponse(self):
        """
        A failed RopFastTransferSourceGetBuffer still carries the progress
        fields and an (empty) buffer, and no BackoffTime.
        """
        data = resp(0x4E, 4, 0x80040115) + struct.pack("<HHHBH", 0, 0, 0, 0, 0)
        self.assertResponseGolden(
            data,
            FastTransferSourceGetBufferResponse(
                handleIndex=4,
                returnValue=0x80040115,
                transferStatus=sync.TRANSFER_STATUS_ERROR,
            ),
        )

    def test_getBufferBackoffResponse(self):
        """
        A RopFastTransferSourceGetBuffer answered ServerBusy (0x480) ends
        with BackoffTime u32.
        """
        data = (
            resp(0x4E, 4, 0x480)
            + struct.pack("<HHHBH", 0, 0, 0, 0, 0)
            + struct.pack("<I", 2500)
        )
        self.assertResponseGolden(
            data,
            FastTransferSourceGetBufferResponse(
                handleIndex=4, returnValue=SERVER_BUSY, backoffTime=2500
            ),
        )

    def test_getBufferBackoffNeedsTime(self):
        """
        Encoding a ServerBusy response without BackoffTime is refused.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [FastTransferSourceGetBufferResponse(returnValue=SERVER_BUSY)],
            None,
            RopContext(),
        )

    def test_copyFolderRequest(self):
        """
        RopFastTransferSourceCopyFolder request: OutputHandleIndex,
        CopyFlags u8, SendOptions u8.
        """
        self.assertRequestGolden(
            req(0x4C, 0, 1) + bytes([2, 0x10, 0x03]),
            FastTransferSourceCopyFolderRequest(
                inputHandleIndex=1, outputHandleIndex=2, copyFlags=0x10, sendOptions=3
            ),
        )

    def test_copyFolderResponse(self):
        """
        RopFastTransferSourceCopyFolder response is the header alone.
        """
        self.assertResponseGolden(
            resp(0x4C, 2, 0x8004010F),
            FastTransferSourceCopyFolderResponse(handleIndex=2, returnValue=0x8004010F),
        )

    def test_copyMessagesRequest(self):
        """
        RopFastTransferSourceCopyMessages request: OutputHandleIndex,
        MessageIdCount u16, the u64 ids, CopyFlags u8, SendOptions u8.
        """
        ids = [0x0001000000000A2B, 0x0001000000000A2C]
        data = (
            req(0x4B, 0, 1)
            + bytes([2])
            + struct.pack("<H2Q", 2, *ids)
            + bytes([0x01, 0x10])
        )
        self.assertRequestGolden(
            data,
            FastTransferSourceCopyMessagesRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                messageIds=ids,
                copyFlags=0x01,
                sendOptions=sync.SEND_OPTIONS_PARTIAL_ITEM,
            ),
        )

    def test_copyMessagesResponse(self):
        """
        RopFastTransferSourceCopyMessages response is the header alone.
        """
        self.assertResponseGolden(
            resp(0x4B, 2), FastTransferSourceCopyMessagesResponse(handleIndex=2)
        )

    def test_copyPropertiesRequest(self):
        """
        RopFastTransferSourceCopyProperties request: OutputHandleIndex,
        Level u8, CopyFlags u8, SendOptions u8, PropertyTagCount u16, tags.
        """
        tags = [_PidTagDisplayName, _PidTagMessageSize]
        data = (
            req(0x69, 0, 1) + bytes([2, 1, 0x02, 0x01]) + struct.pack("<H2I", 2, *tags)
        )
        self.assertRequestGolden(
            data,
            FastTransferSourceCopyPropertiesRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                level=1,
                copyFlags=0x02,
                sendOptions=1,
                propertyTags=tags,
            ),
        )

    def test_copyPropertiesResponse(self):
        """
        RopFastTransferSourceCopyProperties response is the header alone.
        """
        self.assertResponseGolden(
            resp(0x69, 2), FastTransferSourceCopyPropertiesResponse(handleIndex=2)
        )

    def test_copyToRequest(self):
        """
        RopFastTransferSourceCopyTo request: CopyFlags is a u32 here.
        """
        data = (
            req(0x4D, 0, 1)
            + bytes([2, 0])
            + struct.pack("<I", 0x00002001)
            + bytes([0x08])
            + struct.pack("<HI", 1, _PidTagMessageSize)
        )
        self.assertRequestGolden(
            data,
            FastTransferSourceCopyToRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                level=0,
                copyFlags=0x00002001,
                sendOptions=sync.SEND_OPTIONS_FORCE_UNICODE,
                propertyTags=[_PidTagMessageSize],
            ),
        )

    def test_copyToResponse(self):
        """
        RopFastTransferSourceCopyTo response is the header alone.
        """
        self.assertResponseGolden(
            resp(0x4D, 2, 0x80070005),
            FastTransferSourceCopyToResponse(handleIndex=2, returnValue=0x80070005),
        )

    def test_tellVersion(self):
        """
        RopTellVersion request carries three u16 version numbers; its
        response is the header alone.
        """
        self.assertRequestGolden(
            req(0x86, 0, 1) + struct.pack("<3H", 0x0E, 0x0000, 0x0271),
            TellVersionRequest(inputHandleIndex=1, version=(0x0E, 0, 0x0271)),
        )
        self.assertResponseGolden(resp(0x86, 1), TellVersionResponse(handleIndex=1))

    def test_tellVersionNeedsThree(self):
        """
        A version that is not three numbers cannot be encoded.
        """
        self.assertRaises(
            RopError, encodeRequests, [TellVersionRequest(version=(1, 2))], RopContext()
        )


class SynchronizationConfigureTests(GoldenMixin, SynchronousTestCase):
    """
    RopSynchronizationConfigure.
    """

    def test_withRestriction(self):
        """
        The restriction is measured by RestrictionDataSize and decoded;
        SynchronizationFlags is u16, SynchronizationExtraFlags u32.
        """
        restriction = struct.pack("<BI", 0x08, _PidTagMessageSize)  # Exist
        data = (
            req(0x70, 0, 1)
            + bytes([2, 0x01, 0x01])
            + struct.pack("<H", 0x0201)
            + struct.pack("<H", len(restriction))
            + restriction
            + struct.pack("<I", 0x0000000F)
            + struct.pack("<HI", 1, _PidTagDisplayName)
        )
        self.assertRequestGolden(
            data,
            SynchronizationConfigureRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                synchronizationType=sync.SYNC_TYPE_CONTENTS,
                sendOptions=sync.SEND_OPTIONS_UNICODE,
                synchronizationFlags=0x0201,
                restriction=ExistRestriction(_PidTagMessageSize),
                synchronizationExtraFlags=0x0F,
                propertyTags=[_PidTagDisplayName],
            ),
        )

    def test_compoundRestriction(self):
        """
        A compound restriction (And with a u16 count, as in ROP buffers)
        holding a property restriction decodes in full.
        """
        inner = struct.pack("<BBI", 0x04, 0x04, _PidTagMessageSize) + struct.pack(
            "<II", _PidTagMessageSize, 1000
        )
        restriction = struct.pack("<BH", 0x00, 1) + inner
        data = (
            req(0x70, 0, 1)
            + bytes([2, 0x02, 0x00])
            + struct.pack("<H", 0)
            + struct.pack("<H", len(restriction))
            + restriction
            + struct.pack("<I", 0)
            + struct.pack("<H", 0)
        )
        self.assertRequestGolden(
            data,
            SynchronizationConfigureRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                synchronizationType=sync.SYNC_TYPE_HIERARCHY,
                restriction=AndRestriction(
                    [
                        PropertyRestriction(
                            0x04,
                            _PidTagMessageSize,
                            TaggedPropertyValue(_PidTagMessageSize, 1000),
                        )
                    ]
                ),
            ),
        )

    def test_noRestriction(self):
        """
        RestrictionDataSize 0 means no restriction.
        """
        data = (
            req(0x70, 0, 1) + bytes([2, 0x01, 0x00]) + struct.pack("<HHIH", 0, 0, 0, 0)
        )
        self.assertRequestGolden(
            data,
            SynchronizationConfigureRequest(
                inputHandleIndex=1, outputHandleIndex=2, synchronizationType=1
            ),
        )

    def test_unparsableRestrictionKept(self):
        """
        Restriction bytes that do not parse are kept whole in
        C{restrictionTail}.
        """
        junk = b"\x77\x01\x02"
        data = (
            req(0x70, 0, 1)
            + bytes([2, 0x01, 0x00])
            + struct.pack("<HH", 0, len(junk))
            + junk
            + struct.pack("<IH", 0, 0)
        )
        self.assertRequestGolden(
            data,
            SynchronizationConfigureRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                synchronizationType=1,
                restrictionTail=junk,
            ),
        )

    def test_bytesAfterRestrictionKept(self):
        """
        Bytes inside RestrictionDataSize after a valid restriction are kept
        in C{restrictionTail}.
        """
        restriction = struct.pack("<BI", 0x08, _PidTagMessageSize) + b"\xee\xff"
        data = (
            req(0x70, 0, 1)
            + bytes([2, 0x01, 0x00])
            + struct.pack("<HH", 0, len(restriction))
            + restriction
            + struct.pack("<IH", 0, 0)
        )
        self.assertRequestGolden(
            data,
            SynchronizationConfigureRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                synchronizationType=1,
                restriction=ExistRestriction(_PidTagMessageSize),
                restrictionTail=b"\xee\xff",
            ),
        )

    def test_restrictionBeyondRop(self):
        """
        A RestrictionDataSize larger than the bytes left is a L{RopError}.
        """
        data = bytes([2, 1, 0]) + struct.pack("<HH", 0, 50) + b"\x08"
        self.assertRaises(
            RopError,
            SynchronizationConfigureRequest.readBody,
            Reader(data),
            RopContext(),
            {"logonId": 0, "inputHandleIndex": 0},
        )

    def test_response(self):
        """
        RopSynchronizationConfigure response is the header alone.
        """
        self.assertResponseGolden(
            resp(0x70, 2), SynchronizationConfigureResponse(handleIndex=2)
        )


class SynchronizationImportTests(GoldenMixin, SynchronousTestCase):
    """
    The RopSynchronizationImport* ROPs and RopSynchronizationOpenCollector.
    """

    def test_importMessageChangeRequest(self):
        """
        RopSynchronizationImportMessageChange request: OutputHandleIndex,
        ImportFlag, PropertyValueCount u16 and TaggedPropertyValues.
        """
        sourceKey = bytes(range(22))
        data = (
            req(0x72, 0, 1)
            + bytes([2, 0x40])
            + struct.pack("<H", 2)
            + struct.pack("<IH", _PidTagSourceKey, len(sourceKey))
            + sourceKey
            + struct.pack("<IQ", _PidTagLastModificationTime, 0x01D9000000000000)
        )
        self.assertRequestGolden(
            data,
            SynchronizationImportMessageChangeRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                importFlag=0x40,
                propertyValues=[
                    TaggedPropertyValue(_PidTagSourceKey, sourceKey),
                    TaggedPropertyValue(
                        _PidTagLastModificationTime, 0x01D9000000000000
                    ),
                ],
            ),
        )

    def test_importMessageChangeResponse(self):
        """
        RopSynchronizationImportMessageChange response: MessageId u64 on
        success only.
        """
        self.assertResponseGolden(
            resp(0x72, 2) + struct.pack("<Q", 0x0001000000001234),
            SynchronizationImportMessageChangeResponse(
                handleIndex=2, messageId=0x0001000000001234
            ),
        )
        self.assertResponseGolden(
            resp(0x72, 2, 0x80040102),
            SynchronizationImportMessageChangeResponse(
                handleIndex=2, returnValue=0x80040102
            ),
        )

    def test_importReadStateChangesRequest(self):
        """
        RopSynchronizationImportReadStateChanges request:
        MessageReadStatesSize u16, then MessageReadStates (MessageIdSize
        u16, MessageId, MarkAsRead u8) filling it.
        """
        states = (
            struct.pack("<H", 3)
            + b"\x01\x02\x03"
            + b"\x01"
            + struct.pack("<H", 2)
            + b"\xaa\xbb"
            + b"\x00"
        )
        data = req(0x80, 0, 1) + struct.pack("<H", len(states)) + states
        self.assertRequestGolden(
            data,
            SynchronizationImportReadStateChangesRequest(
                inputHandleIndex=1,
                messageReadStates=[
                    MessageReadState(b"\x01\x02\x03", 1),
                    MessageReadState(b"\xaa\xbb", 0),
                ],
            ),
        )

    def test_importReadStateChangesOverrun(self):
        """
        A MessageReadState crossing MessageReadStatesSize is a L{RopError}.
        """
        states = struct.pack("<H", 5) + b"\x01\x02"
        data = struct.pack("<H", len(states)) + states + b"\x00" * 8
        self.assertRaises(
            RopError,
            SynchronizationImportReadStateChangesRequest.readBody,
            Reader(data),
            RopContext(),
            {"logonId": 0, "inputHandleIndex": 0},
        )

    def test_importReadStateChangesResponse(self):
        """
        RopSynchronizationImportReadStateChanges response is the header
        alone.
        """
        self.assertResponseGolden(
            resp(0x80, 1), SynchronizationImportReadStateChangesResponse(handleIndex=1)
        )

    def test_importHierarchyChangeRequest(self):
        """
        RopSynchronizationImportHierarchyChange request: two counted lists
        of TaggedPropertyValues.
        """
        data = (
            req(0x73, 0, 1)
            + struct.pack("<H", 1)
            + struct.pack("<I", _PidTagDisplayName)
            + "Inbox".encode("utf-16-le")
            + b"\x00\x00"
            + struct.pack("<H", 1)
            + struct.pack("<IH", _PidTagChangeKey, 2)
            + b"\x10\x20"
        )
        self.assertRequestGolden(
            data,
            SynchronizationImportHierarchyChangeRequest(
                inputHandleIndex=1,
                hierarchyValues=[TaggedPropertyValue(_PidTagDisplayName, "Inbox")],
                propertyValues=[TaggedPropertyValue(_PidTagChangeKey, b"\x10\x20")],
            ),
        )

    def test_importHierarchyChangeResponse(self):
        """
        RopSynchronizationImportHierarchyChange response: FolderId u64 on
        success only.
        """
        self.assertResponseGolden(
            resp(0x73, 1) + struct.pack("<Q", 0x0001000000000099),
            SynchronizationImportHierarchyChangeResponse(
                handleIndex=1, folderId=0x0001000000000099
            ),
        )
        self.assertResponseGolden(
            resp(0x73, 1, 0x80004005),
            SynchronizationImportHierarchyChangeResponse(
                handleIndex=1, returnValue=0x80004005
            ),
        )

    def test_importDeletes(self):
        """
        RopSynchronizationImportDeletes request: ImportDeleteFlags and a
        counted list of TaggedPropertyValues (here one PtypMultipleBinary);
        its response is the header alone.
        """
        data = (
            req(0x74, 0, 1)
            + bytes([0x02])
            + struct.pack("<H", 1)
            + struct.pack("<II", 0x00011102, 2)
            + struct.pack("<H", 2)
            + b"\x01\x02"
            + struct.pack("<H", 1)
            + b"\x03"
        )
        self.assertRequestGolden(
            data,
            SynchronizationImportDeletesRequest(
                inputHandleIndex=1,
                importDeleteFlags=0x02,
                propertyValues=[
                    TaggedPropertyValue(0x00011102, [b"\x01\x02", b"\x03"])
                ],
            ),
        )
        self.assertResponseGolden(
            resp(0x74, 1), SynchronizationImportDeletesResponse(handleIndex=1)
        )

    def test_importMessageMoveRequest(self):
        """
        RopSynchronizationImportMessageMove request: five byte strings,
        each with a u32 size.
        """
        fields = [b"\x01" * 22, b"\x02" * 22, b"\x03" * 5, b"\x04" * 22, b""]
        data = req(0x78, 0, 1) + b"".join(struct.pack("<I", len(f)) + f for f in fields)
        self.assertRequestGolden(
            data,
            SynchronizationImportMessageMoveRequest(
                inputHandleIndex=1,
                sourceFolderId=fields[0],
                sourceMessageId=fields[1],
                predecessorChangeList=fields[2],
                destinationMessageId=fields[3],
                changeNumber=fields[4],
            ),
        )

    def test_importMessageMoveResponse(self):
        """
        RopSynchronizationImportMessageMove response: MessageId u64 on
        success only.
        """
        self.assertResponseGolden(
            resp(0x78, 1) + struct.pack("<Q", 77),
            SynchronizationImportMessageMoveResponse(handleIndex=1, messageId=77),
        )
        self.assertResponseGolden(
            resp(0x78, 1, 0x80040604),
            SynchronizationImportMessageMoveResponse(
                handleIndex=1, returnValue=0x80040604
            ),
        )

    def test_openCollector(self):
        """
        RopSynchronizationOpenCollector request: OutputHandleIndex and the
        IsContentsCollector byte, kept as received; its response is the
        header alone.
        """
        self.assertRequestGolden(
            req(0x7E, 0, 1) + bytes([2, 1]),
            SynchronizationOpenCollectorRequest(
                inputHandleIndex=1, outputHandleIndex=2, isContentsCollector=1
            ),
        )
        self.assertRequestGolden(
            req(0x7E, 0, 1) + bytes([2, 0x7F]),
            SynchronizationOpenCollectorRequest(
                inputHandleIndex=1, outputHandleIndex=2, isContentsCollector=0x7F
            ),
        )
        self.assertResponseGolden(
            resp(0x7E, 2), SynchronizationOpenCollectorResponse(handleIndex=2)
        )


class SynchronizationStateTests(GoldenMixin, SynchronousTestCase):
    """
    RopSynchronizationGetTransferState, the state stream upload ROPs,
    RopSetLocalReplicaMidsetDeleted and RopGetLocalReplicaIds.
    """

    def test_getTransferState(self):
        """
        RopSynchronizationGetTransferState request: OutputHandleIndex; the
        response is the header alone.
        """
        self.assertRequestGolden(
            req(0x82, 0, 1) + bytes([5]),
            SynchronizationGetTransferStateRequest(
                inputHandleIndex=1, outputHandleIndex=5
            ),
        )
        self.assertResponseGolden(
            resp(0x82, 5), SynchronizationGetTransferStateResponse(handleIndex=5)
        )

    def test_uploadStateStreamBegin(self):
        """
        RopSynchronizationUploadStateStreamBegin request: StateProperty u32
        and TransferBufferSize u32.
        """
        self.assertRequestGolden(
            req(0x75, 0, 1) + struct.pack("<II", _MetaTagIdsetGiven, 0x200),
            SynchronizationUploadStateStreamBeginRequest(
                inputHandleIndex=1,
                statePropertyTag=_MetaTagIdsetGiven,
                transferBufferSize=0x200,
            ),
        )
        self.assertResponseGolden(
            resp(0x75, 1, 0x80070057),
            SynchronizationUploadStateStreamBeginResponse(
                handleIndex=1, returnValue=0x80070057
            ),
        )

    def test_uploadStateStreamContinue(self):
        """
        RopSynchronizationUploadStateStreamContinue request: StreamDataSize
        u32 and the data.
        """
        chunk = b"\x01\x00\x61\xa5\x09"
        self.assertRequestGolden(
            req(0x76, 0, 1) + struct.pack("<I", len(chunk)) + chunk,
            SynchronizationUploadStateStreamContinueRequest(
                inputHandleIndex=1, streamData=chunk
            ),
        )
        self.assertResponseGolden(
            resp(0x76, 1),
            SynchronizationUploadStateStreamContinueResponse(handleIndex=1),
        )

    def test_uploadStateStreamEnd(self):
        """
        RopSynchronizationUploadStateStreamEnd has no body either way.
        """
        self.assertRequestGolden(
            req(0x77, 2, 1),
            SynchronizationUploadStateStreamEndRequest(logonId=2, inputHandleIndex=1),
        )
        self.assertResponseGolden(
            resp(0x77, 1), SynchronizationUploadStateStreamEndResponse(handleIndex=1)
        )

    def test_setLocalReplicaMidsetDeleted(self):
        """
        RopSetLocalReplicaMidsetDeleted request: DataSize u16 measures
        LongTermIdRangeCount u32 and the 48-byte ranges.
        """
        ranges = longTermIdBytes(_GUID, 0x10) + longTermIdBytes(_GUID, 0x20)
        body = struct.pack("<I", 1) + ranges
        data = req(0x93, 0, 1) + struct.pack("<H", len(body)) + body
        self.assertRequestGolden(
            data,
            SetLocalReplicaMidsetDeletedRequest(
                inputHandleIndex=1,
                longTermIdRanges=[
                    LongTermIdRange(
                        LongTermId(_GUID, 0x10, 0), LongTermId(_GUID, 0x20, 0)
                    )
                ],
            ),
        )
        self.assertResponseGolden(
            resp(0x93, 1), SetLocalReplicaMidsetDeletedResponse(handleIndex=1)
        )

    def test_setLocalReplicaMidsetDeletedTail(self):
        """
        Bytes inside DataSize after the ranges are kept in C{dataTail}.
        """
        body = struct.pack("<I", 0) + b"\x99\x98"
        data = req(0x93, 0, 1) + struct.pack("<H", len(body)) + body
        self.assertRequestGolden(
            data,
            SetLocalReplicaMidsetDeletedRequest(
                inputHandleIndex=1, dataTail=b"\x99\x98"
            ),
        )

    def test_setLocalReplicaMidsetDeletedCountTooLarge(self):
        """
        A LongTermIdRangeCount that cannot fit in DataSize is a
        L{RopError}.
        """
        body = struct.pack("<I", 1000)
        self.assertRaises(
            RopError,
            SetLocalReplicaMidsetDeletedRequest.readBody,
            Reader(struct.pack("<H", len(body)) + body),
            RopContext(),
            {"logonId": 0, "inputHandleIndex": 0},
        )

    def test_getLocalReplicaIds(self):
        """
        RopGetLocalReplicaIds request: IdCount u32. Success response:
        ReplGuid and a 6-byte big-endian GlobalCount; failure: the header
        alone.
        """
        self.assertRequestGolden(
            req(0x7F, 0, 1) + struct.pack("<I", 100),
            GetLocalReplicaIdsRequest(inputHandleIndex=1, idCount=100),
        )
        self.assertResponseGolden(
            resp(0x7F, 1) + _GUID.bytes_le + b"\x00\x00\x00\x01\x02\x03",
            GetLocalReplicaIdsResponse(
                handleIndex=1, replGuid=_GUID, globalCount=0x010203
            ),
        )
        self.assertResponseGolden(
            resp(0x7F, 1, 0x8004010F),
            GetLocalReplicaIdsResponse(handleIndex=1, returnValue=0x8004010F),
        )

    def test_globalCountTooLarge(self):
        """
        A GlobalCount over 48 bits cannot be encoded.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [GetLocalReplicaIdsResponse(globalCount=1 << 48)],
            None,
            RopContext(),
        )


# Hypothesis strategies.

_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_u32 = st.integers(0, 0xFFFFFFFF)
_u64 = st.integers(0, (1 << 64) - 1)
_blob = st.binary(max_size=40)
_tags = st.lists(_u32, max_size=6)
_guids = st.builds(uuid.UUID, int=st.integers(0, (1 << 128) - 1))
_header = {"logonId": _u8, "inputHandleIndex": _u8}

_taggedValues = st.lists(
    st.one_of(
        st.builds(
            TaggedPropertyValue,
            st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x0003),
            _u32,
        ),
        st.builds(
            TaggedPropertyValue,
            st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x0102),
            _blob,
        ),
        st.builds(
            TaggedPropertyValue,
            st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x001F),
            st.text(st.characters(blacklist_characters="\x00"), max_size=10),
        ),
        st.builds(
            TaggedPropertyValue,
            st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x0014),
            _u64,
        ),
    ),
    max_size=4,
)

_restrictions = st.one_of(
    st.none(),
    st.builds(ExistRestriction, _u32),
    st.builds(
        PropertyRestriction,
        st.integers(0, 6),
        _u32,
        st.builds(
            TaggedPropertyValue,
            st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x0003),
            _u32,
        ),
    ),
)

_longTermIds = st.builds(LongTermId, _guids, st.integers(0, (1 << 48) - 1), _u16)


def _getBufferRequests():
    plain = st.builds(
        FastTransferSourceGetBufferRequest,
        bufferSize=_u16.filter(lambda v: v != 0xBABE),
        **_header,
    )
    sentinel = st.builds(
        FastTransferSourceGetBufferRequest,
        bufferSize=st.just(0xBABE),
        maximumBufferSize=_u16,
        **_header,
    )
    return st.one_of(plain, sentinel)


#: Random valid requests of every ROP of the module.
syncRequests = st.one_of(
    st.builds(
        FastTransferDestinationConfigureRequest,
        outputHandleIndex=_u8,
        sourceOperation=_u8,
        copyFlags=_u8,
        **_header,
    ),
    st.builds(FastTransferDestinationPutBufferRequest, transferData=_blob, **_header),
    st.builds(
        FastTransferDestinationPutBufferExtendedRequest, transferData=_blob, **_header
    ),
    _getBufferRequests(),
    st.builds(
        FastTransferSourceCopyFolderRequest,
        outputHandleIndex=_u8,
        copyFlags=_u8,
        sendOptions=_u8,
        **_header,
    ),
    st.builds(
        FastTransferSourceCopyMessagesRequest,
        outputHandleIndex=_u8,
        messageIds=st.lists(_u64, max_size=5),
        copyFlags=_u8,
        sendOptions=_u8,
        **_header,
    ),
    st.builds(
        FastTransferSourceCopyPropertiesRequest,
        outputHandleIndex=_u8,
        level=_u8,
        copyFlags=_u8,
        sendOptions=_u8,
        propertyTags=_tags,
        **_header,
    ),
    st.builds(
        FastTransferSourceCopyToRequest,
        outputHandleIndex=_u8,
        level=_u8,
        copyFlags=_u32,
        sendOptions=_u8,
        propertyTags=_tags,
        **_header,
    ),
    st.builds(TellVersionRequest, version=st.tuples(_u16, _u16, _u16), **_header),
    st.builds(
        SynchronizationConfigureRequest,
        outputHandleIndex=_u8,
        synchronizationType=_u8,
        sendOptions=_u8,
        synchronizationFlags=_u16,
        restriction=_restrictions,
        synchronizationExtraFlags=_u32,
        propertyTags=_tags,
        **_header,
    ),
    st.builds(
        SynchronizationImportMessageChangeRequest,
        outputHandleIndex=_u8,
        importFlag=_u8,
        propertyValues=_taggedValues,
        **_header,
    ),
    st.builds(
        SynchronizationImportReadStateChangesRequest,
        messageReadStates=st.lists(
            st.builds(MessageReadState, st.binary(max_size=24), _u8), max_size=4
        ),
        **_header,
    ),
    st.builds(
        SynchronizationImportHierarchyChangeRequest,
        hierarchyValues=_taggedValues,
        propertyValues=_taggedValues,
        **_header,
    ),
    st.builds(
        SynchronizationImportDeletesRequest,
        importDeleteFlags=_u8,
        propertyValues=_taggedValues,
        **_header,
    ),
    st.builds(
        SynchronizationImportMessageMoveRequest,
        sourceFolderId=_blob,
        sourceMessageId=_blob,
        predecessorChangeList=_blob,
        destinationMessageId=_blob,
        changeNumber=_blob,
        **_header,
    ),
    st.builds(
        SynchronizationOpenCollectorRequest,
        outputHandleIndex=_u8,
        isContentsCollector=_u8,
        **_header,
    ),
    st.builds(SynchronizationGetTransferStateRequest, outputHandleIndex=_u8, **_header),
    st.builds(
        SynchronizationUploadStateStreamBeginRequest,
        statePropertyTag=_u32,
        transferBufferSize=_u32,
        **_header,
    ),
    st.builds(
        SynchronizationUploadStateStreamContinueRequest, streamData=_blob, **_header
    ),
    st.builds(SynchronizationUploadStateStreamEndRequest, **_header),
    st.builds(
        SetLocalReplicaMidsetDeletedRequest,
        longTermIdRanges=st.lists(
            st.builds(LongTermIdRange, _longTermIds, _longTermIds), max_size=3
        ),
        **_header,
    ),
    st.builds(GetLocalReplicaIdsRequest, idCount=_u32, **_header),
)

_failure = st.integers(1, 0xFFFFFFFF).filter(lambda v: v != SERVER_BUSY)
_headerOnly = [
    FastTransferDestinationConfigureResponse,
    FastTransferSourceCopyFolderResponse,
    FastTransferSourceCopyMessagesResponse,
    FastTransferSourceCopyPropertiesResponse,
    FastTransferSourceCopyToResponse,
    TellVersionResponse,
    SynchronizationConfigureResponse,
    SynchronizationImportReadStateChangesResponse,
    SynchronizationImportDeletesResponse,
    SynchronizationOpenCollectorResponse,
    SynchronizationGetTransferStateResponse,
    SynchronizationUploadStateStreamBeginResponse,
    SynchronizationUploadStateStreamContinueResponse,
    SynchronizationUploadStateStreamEndResponse,
    SetLocalReplicaMidsetDeletedResponse,
]


def _successOrFailure(cls, **fields):
    return st.one_of(
        st.builds(cls, handleIndex=_u8, returnValue=st.just(0), **fields),
        st.builds(cls, handleIndex=_u8, returnValue=_failure),
    )


#: Random valid responses of every ROP of the module.
syncResponses = st.one_of(
    *[st.builds(cls, handleIndex=_u8, returnValue=_u32) for cls in _headerOnly],
    st.builds(
        FastTransferDestinationPutBufferResponse,
        handleIndex=_u8,
        returnValue=_u32,
        transferStatus=_u16,
        inProgressCount=_u16,
        totalStepCount=_u16,
        reserved=_u8,
        bufferUsedSize=_u16,
    ),
    st.builds(
        FastTransferDestinationPutBufferExtendedResponse,
        handleIndex=_u8,
        returnValue=_u32,
        transferStatus=_u16,
        inProgressCount=_u32,
        totalStepCount=_u32,
        reserved=_u8,
        bufferUsedSize=_u16,
    ),
    st.builds(
        FastTransferSourceGetBufferResponse,
        handleIndex=_u8,
        returnValue=st.one_of(st.just(0), _failure),
        transferStatus=_u16,
        inProgressCount=_u16,
        totalStepCount=_u16,
        reserved=_u8,
        transferBuffer=_blob,
    ),
    st.builds(
        FastTransferSourceGetBufferResponse,
        handleIndex=_u8,
        returnValue=st.just(SERVER_BUSY),
        transferStatus=_u16,
        transferBuffer=_blob,
        backoffTime=_u32,
    ),
    _successOrFailure(SynchronizationImportMessageChangeResponse, messageId=_u64),
    _successOrFailure(SynchronizationImportHierarchyChangeResponse, folderId=_u64),
    _successOrFailure(SynchronizationImportMessageMoveResponse, messageId=_u64),
    _successOrFailure(
        GetLocalReplicaIdsResponse,
        replGuid=_guids,
        globalCount=st.integers(0, (1 << 48) - 1),
    ),
)

#: Every RopId of the module.
SYNC_IDS = [
    0x53,
    0x54,
    0x9D,
    0x4E,
    0x4C,
    0x4B,
    0x69,
    0x4D,
    0x86,
    0x70,
    0x72,
    0x80,
    0x73,
    0x74,
    0x78,
    0x7E,
    0x82,
    0x75,
    0x76,
    0x77,
    0x93,
    0x7F,
]


class PropertyTests(SynchronousTestCase):
    """
    Round trips of random ROPs and robustness against random bytes.
    """

    @_FAST
    @given(st.lists(syncRequests, max_size=6))
    def test_requestsRoundTrip(self, requests):
        """
        Any list of valid requests encodes and decodes back to itself, and
        the decoded list encodes to the same bytes.
        """
        data = encodeRequests(requests, RopContext(), _HANDLES)
        decoded = decodeRequests(data, _HANDLES, RopContext())
        self.assertEqual(decoded, requests)
        self.assertEqual(encodeRequests(decoded, RopContext(), _HANDLES), data)

    @_FAST
    @given(st.lists(syncResponses, max_size=6))
    def test_responsesRoundTrip(self, responses):
        """
        Any list of valid responses encodes and decodes back to itself.
        """
        data = encodeResponses(responses, None, RopContext(), _HANDLES)
        decoded = decodeResponses(data, _HANDLES, None, RopContext())
        self.assertEqual(decoded, responses)
        self.assertEqual(encodeResponses(decoded, None, RopContext(), _HANDLES), data)

    @_FAST
    @given(st.sampled_from(SYNC_IDS), _u8, _u8, st.binary(max_size=60))
    def test_randomRequestBytes(self, ropId, logonId, index, body):
        """
        Random bytes after a request header of one of these ROPs decode to
        that ROP or to an L{UnknownRop}; a decoded ROP re-encodes to the
        bytes it was read from, and C{readBody} raises only L{RopError}.
        """
        data = bytes([ropId, logonId, index]) + body
        items = decodeRequests(data, _HANDLES, RopContext())
        first = items[0]
        if isinstance(first, UnknownRop):
            self.assertEqual(first.data, data)
        else:
            self.assertEqual(first.ROP_ID, ropId)
            again = encodeRequests([first], RopContext(), _HANDLES)
            self.assertTrue(data.startswith(again))
        try:
            REQUEST_CLASSES[ropId].readBody(
                Reader(body), RopContext(), {"logonId": 0, "inputHandleIndex": 0}
            )
        except RopError:
            pass

    @_FAST
    @given(st.sampled_from(SYNC_IDS), _u8, _u32, st.binary(max_size=60))
    def test_randomResponseBytes(self, ropId, index, returnValue, body):
        """
        Random bytes after a response header of one of these ROPs decode to
        that ROP or to an L{UnknownRop}, re-encode exactly, and
        C{readBody} raises only L{RopError}.
        """
        data = struct.pack("<BBI", ropId, index, returnValue) + body
        items = decodeResponses(data, _HANDLES, None, RopContext())
        first = items[0]
        if isinstance(first, UnknownRop):
            self.assertEqual(first.data, data)
        else:
            self.assertEqual(first.ROP_ID, ropId)
            again = encodeResponses([first], None, RopContext(), _HANDLES)
            self.assertTrue(data.startswith(again))
        try:
            RESPONSE_CLASSES[ropId].readBody(
                Reader(body),
                RopContext(),
                None,
                {"handleIndex": index, "returnValue": returnValue},
            )
        except RopError:
            pass

    def test_writerValueChecks(self):
        """
        Out-of-range values are refused with L{RopError} when encoding.
        """
        w = Writer()
        self.assertRaises(
            RopError,
            FastTransferSourceCopyFolderRequest(outputHandleIndex=256).writeBody,
            w,
            RopContext(),
        )
        self.assertRaises(
            RopError,
            FastTransferDestinationPutBufferRequest(
                transferData=b"x" * 0x10000
            ).writeBody,
            Writer(),
            RopContext(),
        )
