"""
Tests for L{mapiproxy.mapi.rops.notify}: RopRegisterNotification,
RopNotify with every NotificationData form, RopPending, RopRelease,
RopBackoff, RopBufferTooSmall and OpenChange's RopProxyPack
([MS-OXCROPS] 2.2.14, 2.2.15; [MS-OXCNOTIF] 2.2.1).

The golden bytes are laid out by hand, field by field, from the field
tables with L{struct}; the NotificationData conditions agree with
Microsoft's protocol test suite (OfficeDev/Interop-TestSuites,
C{NotificationData.cs}), Microsoft's MAPI Inspector and gromox's
C{notify.cpp} encoder.
"""

import struct
import uuid

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import PropertyRow
from mapiproxy.mapi.rops import notify
from mapiproxy.mapi.rops.base import (
    REQUEST_CLASSES,
    RESPONSE_CLASSES,
    Reader,
    RopContext,
    UnknownRop,
    decodeRequests,
    decodeResponses,
    encodeRequests,
    encodeResponses,
)
from mapiproxy.mapi.rops.notify import (
    BackoffResponse,
    BackoffRop,
    BufferTooSmallResponse,
    GlobalIdentifier,
    NotificationData,
    NotifyResponse,
    PackedRop,
    PendingResponse,
    ProxyPackRequest,
    ProxyPackResponse,
    RegisterNotificationRequest,
    RegisterNotificationResponse,
    ReleaseRequest,
)
from mapiproxy.mapi.rops.sync import (
    SynchronizationConfigureRequest,
    SynchronizationGetTransferStateRequest,
    SynchronizationUploadStateStreamBeginRequest,
    SynchronizationUploadStateStreamEndRequest,
)
from tests.mapi.rops.test_sync import syncRequests, syncResponses

_FAST = settings(max_examples=200, deadline=None)

_HANDLES = [0x11, 0x22, 0x33, 0xFFFFFFFF]
_GUID = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")

_FID = 0x0001000000000123
_MID = 0x0001000000004567
_PARENT = 0x0001000000000001
_OLD_FID = 0x0001000000000222
_OLD_MID = 0x0001000000000333
_OLD_PARENT = 0x0001000000000002

_PidTagDisplayName = 0x3001001F
_PidTagMessageSize = 0x0E080003
_COLUMNS = [_PidTagDisplayName, _PidTagMessageSize]
_TABLE_HANDLE = 0x0000ABCD


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


def q(*values):
    """
    u64 values, little-endian.
    """
    return struct.pack("<%dQ" % (len(values),), *values)


def notifyBytes(handle, logonId, flags, rest):
    """
    A RopNotify response: RopId 0x2A, NotificationHandle u32, LogonId u8,
    NotificationFlags u16, then the rest of NotificationData.
    """
    return struct.pack("<BIBH", 0x2A, handle, logonId, flags) + rest


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

    def assertResponseGolden(self, data, expected, ctxFactory=RopContext):
        """
        The same for a response, decoded without requests.
        """
        items = decodeResponses(data, _HANDLES, None, ctxFactory())
        self.assertEqual(items, [expected])
        self.assertEqual(encodeResponses(items, None, ctxFactory(), _HANDLES), data)
        self.assertEqual(
            encodeResponses([expected], None, ctxFactory(), _HANDLES), data
        )


def _tableContext():
    """
    A context that knows the columns of the table at C{_TABLE_HANDLE}.
    """
    ctx = RopContext()
    ctx.columns[_TABLE_HANDLE] = list(_COLUMNS)
    return ctx


class RegisterNotificationTests(GoldenMixin, SynchronousTestCase):
    """
    RopRegisterNotification.
    """

    def test_wholeStore(self):
        """
        WantWholeStore nonzero: no FolderId or MessageId follow.
        """
        data = req(0x29, 0, 0) + bytes([1]) + struct.pack("<H", 0x0004) + b"\x01"
        self.assertRequestGolden(
            data,
            RegisterNotificationRequest(
                outputHandleIndex=1,
                notificationTypes=notify.NOTIFY_OBJECT_CREATED,
                wantWholeStore=1,
            ),
        )

    def test_folderScope(self):
        """
        WantWholeStore zero: FolderId and MessageId u64 follow.
        """
        data = (
            req(0x29, 0, 0)
            + bytes([1])
            + struct.pack("<H", 0x00FE)
            + b"\x00"
            + q(_FID, _MID)
        )
        self.assertRequestGolden(
            data,
            RegisterNotificationRequest(
                outputHandleIndex=1,
                notificationTypes=0x00FE,
                wantWholeStore=0,
                folderId=_FID,
                messageId=_MID,
            ),
        )

    def test_extendedReserved(self):
        """
        With the Extended bit (0x0400) set, a Reserved byte precedes
        WantWholeStore.
        """
        data = (
            req(0x29, 0, 0)
            + bytes([1])
            + struct.pack("<H", 0x0410)
            + b"\x00"
            + b"\x00"
            + q(_FID, 0)
        )
        self.assertRequestGolden(
            data,
            RegisterNotificationRequest(
                outputHandleIndex=1,
                notificationTypes=0x0410,
                reserved=0,
                wantWholeStore=0,
                folderId=_FID,
                messageId=0,
            ),
        )

    def test_scopeNeedsIds(self):
        """
        Encoding a folder-scoped registration without FolderId is refused.
        """
        self.assertRaises(
            RopError,
            encodeRequests,
            [RegisterNotificationRequest(wantWholeStore=0)],
            RopContext(),
        )

    def test_response(self):
        """
        The response is the header alone.
        """
        self.assertResponseGolden(
            resp(0x29, 1), RegisterNotificationResponse(handleIndex=1)
        )
        self.assertResponseGolden(
            resp(0x29, 1, 0x80040102),
            RegisterNotificationResponse(handleIndex=1, returnValue=0x80040102),
        )


class NotifyObjectTests(GoldenMixin, SynchronousTestCase):
    """
    RopNotify for new mail, object and search events.
    """

    def _golden(self, flags, rest, data, handle=0x1000, logonId=2):
        self.assertResponseGolden(
            notifyBytes(handle, logonId, flags, rest),
            NotifyResponse(
                notificationHandle=handle, logonId=logonId, notificationData=data
            ),
        )

    def test_newMailUnicode(self):
        """
        NewMail by message (0x8002): FolderId, MessageId, MessageFlags,
        UnicodeFlag and a UTF-16 MessageClass.
        """
        rest = (
            q(_FID, _MID)
            + struct.pack("<IB", 0x00000010, 1)
            + "IPM.Note".encode("utf-16-le")
            + b"\x00\x00"
        )
        self._golden(
            0x8002,
            rest,
            NotificationData(
                notificationFlags=0x8002,
                folderId=_FID,
                messageId=_MID,
                messageFlags=0x10,
                unicodeFlag=1,
                messageClass="IPM.Note",
            ),
        )

    def test_newMail8Bit(self):
        """
        NewMail with UnicodeFlag 0: an 8-bit MessageClass.
        """
        rest = q(_FID, _MID) + struct.pack("<IB", 0, 0) + b"IPM.Note.X\x00"
        self._golden(
            0x8002,
            rest,
            NotificationData(
                notificationFlags=0x8002,
                folderId=_FID,
                messageId=_MID,
                messageFlags=0,
                unicodeFlag=0,
                messageClass="IPM.Note.X",
            ),
        )

    def test_folderCreated(self):
        """
        ObjectCreated for a folder (0x0004): FolderId, ParentFolderId
        (S and M both clear), TagCount and tags.
        """
        rest = q(_FID, _PARENT) + struct.pack("<H2I", 2, *_COLUMNS)
        self._golden(
            0x0004,
            rest,
            NotificationData(
                notificationFlags=0x0004,
                folderId=_FID,
                parentFolderId=_PARENT,
                tags=list(_COLUMNS),
            ),
        )

    def test_messageCreated(self):
        """
        ObjectCreated for a message (0x8004): FolderId, MessageId, no
        ParentFolderId (M set, S clear), TagCount 0 and no tags.
        """
        rest = q(_FID, _MID) + struct.pack("<H", 0)
        self._golden(
            0x8004,
            rest,
            NotificationData(
                notificationFlags=0x8004, folderId=_FID, messageId=_MID, tags=[]
            ),
        )

    def test_searchMessageCreated(self):
        """
        ObjectCreated for a message in a search folder (0xC004): S and M
        both set, so ParentFolderId is present; TagCount 0xFFFF has no
        tags and decodes as L{None}.
        """
        rest = q(_FID, _MID, _PARENT) + struct.pack("<H", 0xFFFF)
        self._golden(
            0xC004,
            rest,
            NotificationData(
                notificationFlags=0xC004,
                folderId=_FID,
                messageId=_MID,
                parentFolderId=_PARENT,
                tags=None,
            ),
        )

    def test_folderDeleted(self):
        """
        ObjectDeleted for a folder (0x0008): FolderId and ParentFolderId,
        no tags.
        """
        self._golden(
            0x0008,
            q(_FID, _PARENT),
            NotificationData(
                notificationFlags=0x0008, folderId=_FID, parentFolderId=_PARENT
            ),
        )

    def test_folderModifiedWithCounts(self):
        """
        ObjectModified with T and U (0x3010): FolderId, TagCount,
        TotalMessageCount and UnreadMessageCount.
        """
        rest = q(_FID) + struct.pack("<H", 0) + struct.pack("<II", 42, 7)
        self._golden(
            0x3010,
            rest,
            NotificationData(
                notificationFlags=0x3010,
                folderId=_FID,
                tags=[],
                totalMessageCount=42,
                unreadMessageCount=7,
            ),
        )

    def test_messageMoved(self):
        """
        ObjectMoved for a message (0x8020): FolderId, MessageId, OldFolderId
        and OldMessageId; no parents.
        """
        self._golden(
            0x8020,
            q(_FID, _MID, _OLD_FID, _OLD_MID),
            NotificationData(
                notificationFlags=0x8020,
                folderId=_FID,
                messageId=_MID,
                oldFolderId=_OLD_FID,
                oldMessageId=_OLD_MID,
            ),
        )

    def test_folderCopied(self):
        """
        ObjectCopied for a folder (0x0040): FolderId, ParentFolderId,
        OldFolderId and OldParentFolderId.
        """
        self._golden(
            0x0040,
            q(_FID, _PARENT, _OLD_FID, _OLD_PARENT),
            NotificationData(
                notificationFlags=0x0040,
                folderId=_FID,
                parentFolderId=_PARENT,
                oldFolderId=_OLD_FID,
                oldParentFolderId=_OLD_PARENT,
            ),
        )

    def test_searchComplete(self):
        """
        SearchComplete (0x0080): FolderId only.
        """
        self._golden(
            0x0080,
            q(_FID),
            NotificationData(notificationFlags=0x0080, folderId=_FID),
        )

    def test_extended(self):
        """
        Extended (0x0400): no FolderId; only the counts its T/U bits add.
        """
        self._golden(
            0x1400,
            struct.pack("<I", 9),
            NotificationData(notificationFlags=0x1400, totalMessageCount=9),
        )

    def test_ics(self):
        """
        The ICS form (0x0200): HierarchyChanged, a u32 count, the 22-byte
        global identifiers, then one u32 change number each; no FolderId.
        """
        rest = (
            b"\x01"
            + struct.pack("<I", 2)
            + _GUID.bytes_le
            + (5).to_bytes(6, "big")
            + _GUID.bytes_le
            + (6).to_bytes(6, "big")
            + struct.pack("<II", 100, 200)
        )
        self._golden(
            0x0200,
            rest,
            NotificationData(
                notificationFlags=0x0200,
                hierarchyChanged=1,
                folderGids=[GlobalIdentifier(_GUID, 5), GlobalIdentifier(_GUID, 6)],
                icsChangeNumbers=[100, 200],
            ),
        )

    def test_icsCountTooLarge(self):
        """
        An ICS count that cannot fit in the bytes left is a L{RopError}.
        """
        data = struct.pack("<HBI", 0x0200, 0, 0x10000000)
        self.assertRaises(RopError, NotificationData.read, Reader(data))

    def test_requiredFieldMissing(self):
        """
        Encoding flags whose fields are L{None} is refused.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [
                NotifyResponse(
                    notificationData=NotificationData(notificationFlags=0x8002)
                )
            ],
            None,
            RopContext(),
        )

    def test_notificationType(self):
        """
        C{notificationType} is the low 12 bits of the flags.
        """
        self.assertEqual(
            NotificationData(notificationFlags=0xC004).notificationType, 0x0004
        )


class NotifyTableTests(GoldenMixin, SynchronousTestCase):
    """
    RopNotify for TableModified events.
    """

    def test_tableChanged(self):
        """
        TableChanged (event 1): only TableEventType after the flags.
        """
        data = notifyBytes(_TABLE_HANDLE, 0, 0x0100, struct.pack("<H", 1))
        self.assertResponseGolden(
            data,
            NotifyResponse(
                notificationHandle=_TABLE_HANDLE,
                notificationData=NotificationData(
                    notificationFlags=0x0100, tableEventType=notify.TABLE_CHANGED
                ),
            ),
        )

    def test_restrictionChanged(self):
        """
        TableRestrictionChanged (event 7): no row fields.
        """
        data = notifyBytes(_TABLE_HANDLE, 0, 0x0100, struct.pack("<H", 7))
        self.assertResponseGolden(
            data,
            NotifyResponse(
                notificationHandle=_TABLE_HANDLE,
                notificationData=NotificationData(
                    notificationFlags=0x0100,
                    tableEventType=notify.TABLE_RESTRICTION_CHANGED,
                ),
            ),
        )

    def test_hierarchyRowAddedColumnsUnknown(self):
        """
        Row added in a hierarchy table (M clear): TableRowFolderID,
        InsertAfterTableRowFolderID, TableRowDataSize and the row, kept as
        bytes when the table's columns are unknown.
        """
        row = b"\x00" + "Inbox".encode("utf-16-le") + b"\x00\x00" + b"\x05\x00\x00\x00"
        rest = (
            struct.pack("<H", 3) + q(_FID, _OLD_FID) + struct.pack("<H", len(row)) + row
        )
        self.assertResponseGolden(
            notifyBytes(_TABLE_HANDLE, 0, 0x0100, rest),
            NotifyResponse(
                notificationHandle=_TABLE_HANDLE,
                notificationData=NotificationData(
                    notificationFlags=0x0100,
                    tableEventType=notify.TABLE_ROW_ADDED,
                    tableRowFolderId=_FID,
                    insertAfterTableRowFolderId=_OLD_FID,
                    tableRowData=row,
                ),
            ),
        )

    def test_contentsRowModifiedWithColumns(self):
        """
        Row modified in a contents table (M set): the message ids and
        instances of the row and of the one before it, then the row decoded
        in the columns recorded for the notification handle.
        """
        row = (
            b"\x00"
            + "Hello".encode("utf-16-le")
            + b"\x00\x00"
            + struct.pack("<I", 1234)
        )
        rest = (
            struct.pack("<H", 5)
            + q(_FID, _MID)
            + struct.pack("<I", 1)
            + q(_OLD_FID, _OLD_MID)
            + struct.pack("<I", 0)
            + struct.pack("<H", len(row))
            + row
        )
        self.assertResponseGolden(
            notifyBytes(_TABLE_HANDLE, 0, 0x8100, rest),
            NotifyResponse(
                notificationHandle=_TABLE_HANDLE,
                notificationData=NotificationData(
                    notificationFlags=0x8100,
                    tableEventType=notify.TABLE_ROW_MODIFIED,
                    tableRowFolderId=_FID,
                    tableRowMessageId=_MID,
                    tableRowInstance=1,
                    insertAfterTableRowFolderId=_OLD_FID,
                    insertAfterTableRowId=_OLD_MID,
                    insertAfterTableRowInstance=0,
                    tableRowData=PropertyRow(0, ["Hello", 1234]),
                ),
            ),
            _tableContext,
        )

    def test_rowNotFillingSizeKeptAsBytes(self):
        """
        A row that does not fill TableRowDataSize exactly is kept as bytes
        even when the columns are known.
        """
        row = (
            b"\x00"
            + "Hi".encode("utf-16-le")
            + b"\x00\x00"
            + struct.pack("<I", 3)
            + b"\xff"
        )
        rest = struct.pack("<H", 3) + q(_FID, 0) + struct.pack("<H", len(row)) + row
        self.assertResponseGolden(
            notifyBytes(_TABLE_HANDLE, 0, 0x0100, rest),
            NotifyResponse(
                notificationHandle=_TABLE_HANDLE,
                notificationData=NotificationData(
                    notificationFlags=0x0100,
                    tableEventType=notify.TABLE_ROW_ADDED,
                    tableRowFolderId=_FID,
                    insertAfterTableRowFolderId=0,
                    tableRowData=row,
                ),
            ),
            _tableContext,
        )

    def test_searchRowDeleted(self):
        """
        Row deleted in a search table (0xC100, event 4): TableRowFolderID,
        TableRowMessageID and TableRowInstance only.
        """
        rest = struct.pack("<H", 4) + q(_FID, _MID) + struct.pack("<I", 3)
        self.assertResponseGolden(
            notifyBytes(_TABLE_HANDLE, 1, 0xC100, rest),
            NotifyResponse(
                notificationHandle=_TABLE_HANDLE,
                logonId=1,
                notificationData=NotificationData(
                    notificationFlags=0xC100,
                    tableEventType=notify.TABLE_ROW_DELETED,
                    tableRowFolderId=_FID,
                    tableRowMessageId=_MID,
                    tableRowInstance=3,
                ),
            ),
        )

    def test_propertyRowNeedsColumns(self):
        """
        Encoding a L{PropertyRow} for a table whose columns are unknown is
        refused.
        """
        data = NotificationData(
            notificationFlags=0x0100,
            tableEventType=3,
            tableRowFolderId=1,
            insertAfterTableRowFolderId=2,
            tableRowData=PropertyRow(0, ["x", 1]),
        )
        self.assertRaises(
            RopError,
            encodeResponses,
            [NotifyResponse(notificationHandle=5, notificationData=data)],
            None,
            RopContext(),
        )


class SpecialRopTests(GoldenMixin, SynchronousTestCase):
    """
    RopPending, RopRelease, RopBackoff and RopBufferTooSmall.
    """

    def test_pending(self):
        """
        RopPending: SessionIndex u16 right after the RopId.
        """
        self.assertResponseGolden(b"\x6e\x03\x00", PendingResponse(sessionIndex=3))

    def test_release(self):
        """
        RopRelease request has no body.
        """
        self.assertRequestGolden(
            req(0x01, 0, 4), ReleaseRequest(logonId=0, inputHandleIndex=4)
        )

    def test_releaseHasNoResponse(self):
        """
        Responses pair past a RopRelease: the RopRegisterNotification
        response after it answers the RopRegisterNotification request.
        """
        requests = [
            ReleaseRequest(inputHandleIndex=1),
            RegisterNotificationRequest(outputHandleIndex=2, wantWholeStore=1),
        ]
        data = encodeRequests(requests, RopContext(), _HANDLES)
        self.assertEqual(data, req(0x01, 0, 1) + req(0x29) + b"\x02\x00\x00\x01")
        decoded = decodeRequests(data, _HANDLES, RopContext())
        responses = decodeResponses(
            resp(0x29, 2), [0x11, 0x22, 0x44], decoded, RopContext()
        )
        self.assertEqual(responses, [RegisterNotificationResponse(handleIndex=2)])

    def test_notifyAnswersNoRequest(self):
        """
        A RopNotify and a RopPending between responses answer no request:
        the responses around them still pair with their requests.
        """
        requests = [
            SynchronizationGetTransferStateRequest(
                inputHandleIndex=0, outputHandleIndex=1
            ),
            RegisterNotificationRequest(outputHandleIndex=2, wantWholeStore=1),
        ]
        data = (
            resp(0x82, 1)
            + notifyBytes(9, 0, 0x0080, q(_FID))
            + b"\x6e\x00\x00"
            + resp(0x29, 2, 0x80040102)
        )
        items = decodeResponses(data, [0x11, 0x22, 0x33], requests, RopContext())
        self.assertEqual(
            [type(item).__name__ for item in items],
            [
                "SynchronizationGetTransferStateResponse",
                "NotifyResponse",
                "PendingResponse",
                "RegisterNotificationResponse",
            ],
        )
        self.assertEqual(items[1].notificationData.folderId, _FID)
        self.assertEqual(items[3].returnValue, 0x80040102)
        self.assertEqual(encodeResponses(items, requests, RopContext()), data)

    def test_backoff(self):
        """
        RopBackoff: LogonId, Duration u32, BackoffRopCount u8, the
        (RopIdBackoff u8, Duration u32) pairs, AdditionalDataSize u16 and
        the data.
        """
        data = (
            b"\xf9\x01"
            + struct.pack("<I", 1000)
            + b"\x02"
            + struct.pack("<BI", 0x4E, 500)
            + struct.pack("<BI", 0x70, 750)
            + struct.pack("<H", 3)
            + b"abc"
        )
        self.assertResponseGolden(
            data,
            BackoffResponse(
                logonId=1,
                duration=1000,
                backoffRops=[BackoffRop(0x4E, 500), BackoffRop(0x70, 750)],
                additionalData=b"abc",
            ),
        )

    def test_backoffEmpty(self):
        """
        RopBackoff with no BackoffRops and no additional data.
        """
        self.assertResponseGolden(
            b"\xf9\x00" + struct.pack("<IBH", 30, 0, 0), BackoffResponse(duration=30)
        )

    def test_bufferTooSmall(self):
        """
        RopBufferTooSmall: SizeNeeded u16, then every byte left in the
        RopsList as RequestBuffers; it follows other responses.
        """
        leftover = req(0x77, 0, 1) + req(0x82, 0, 1) + b"\x03"
        data = b"\x6e\x01\x00" + b"\xff" + struct.pack("<H", 0x8000) + leftover
        items = decodeResponses(data, _HANDLES, None, RopContext())
        self.assertEqual(
            items,
            [
                PendingResponse(sessionIndex=1),
                BufferTooSmallResponse(sizeNeeded=0x8000, requestBuffers=leftover),
            ],
        )
        self.assertEqual(encodeResponses(items, None, RopContext()), data)

    def test_bufferTooSmallRequests(self):
        """
        C{decodeRequestBuffers} decodes RequestBuffers as requests.
        """
        leftover = req(0x77, 0, 1) + req(0x82, 0, 1) + b"\x03"
        rop = BufferTooSmallResponse(sizeNeeded=1, requestBuffers=leftover)
        self.assertEqual(
            rop.decodeRequestBuffers(),
            [
                SynchronizationUploadStateStreamEndRequest(inputHandleIndex=1),
                SynchronizationGetTransferStateRequest(
                    inputHandleIndex=1, outputHandleIndex=3
                ),
            ],
        )


class ProxyPackTests(GoldenMixin, SynchronousTestCase):
    """
    OpenChange's RopProxyPack (0xA5).
    """

    def test_packed(self):
        """
        The blob holds (position, whole ROP request) pairs, decoded into
        L{PackedRop}s; cb is the blob size.
        """
        first = req(0x70, 0, 1) + bytes([2, 1, 0]) + struct.pack("<HHIH", 0, 0, 0, 0)
        second = req(0x75, 0, 2) + struct.pack("<II", 0x40170003, 64)
        blob = b"\x00" + first + b"\x02" + second
        data = req(0xA5) + struct.pack("<H", len(blob)) + blob
        self.assertRequestGolden(
            data,
            ProxyPackRequest(
                packed=[
                    PackedRop(
                        0,
                        SynchronizationConfigureRequest(
                            inputHandleIndex=1,
                            outputHandleIndex=2,
                            synchronizationType=1,
                        ),
                    ),
                    PackedRop(
                        2,
                        SynchronizationUploadStateStreamBeginRequest(
                            inputHandleIndex=2,
                            statePropertyTag=0x40170003,
                            transferBufferSize=64,
                        ),
                    ),
                ]
            ),
        )

    def test_undecodableBlobKept(self):
        """
        A blob with an unknown packed RopId stays raw bytes.
        """
        blob = b"\x00\x00\x00\x00\x01\x02"
        data = req(0xA5) + struct.pack("<H", len(blob)) + blob
        self.assertRequestGolden(data, ProxyPackRequest(packed=blob))

    def test_nestedBlobKept(self):
        """
        A RopProxyPack inside a RopProxyPack is not decoded: the blob stays
        raw bytes.
        """
        blob = b"\x00" + req(0xA5) + b"\x00\x00"
        data = req(0xA5) + struct.pack("<H", len(blob)) + blob
        self.assertRequestGolden(data, ProxyPackRequest(packed=blob))

    def test_truncatedPackedRopKept(self):
        """
        A packed ROP cut short by cb leaves the blob raw.
        """
        blob = b"\x01" + req(0x75, 0, 2) + b"\x03\x00"
        data = req(0xA5) + struct.pack("<H", len(blob)) + blob
        self.assertRequestGolden(data, ProxyPackRequest(packed=blob))

    def test_nestedRefusedOnEncode(self):
        """
        Encoding a RopProxyPack that packs a RopProxyPack is refused.
        """
        self.assertRaises(
            RopError,
            encodeRequests,
            [ProxyPackRequest(packed=[PackedRop(0, ProxyPackRequest())])],
            RopContext(),
        )

    def test_response(self):
        """
        RopProxyPack response: cb u16 and bytes on success, the header
        alone on failure.
        """
        self.assertResponseGolden(
            resp(0xA5, 0) + b"\x02\x00\xaa\xbb", ProxyPackResponse(data=b"\xaa\xbb")
        )
        self.assertResponseGolden(
            resp(0xA5, 0, 0x80004005), ProxyPackResponse(returnValue=0x80004005)
        )


# Hypothesis strategies.

_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_u32 = st.integers(0, 0xFFFFFFFF)
_u64 = st.integers(0, (1 << 64) - 1)
_header = {"logonId": _u8, "inputHandleIndex": _u8}
_guids = st.builds(uuid.UUID, int=st.integers(0, (1 << 128) - 1))


@st.composite
def notificationData(draw):
    """
    A random valid L{NotificationData}: random flags, then exactly the
    fields [MS-OXCNOTIF] 2.2.1.4.1.2 says those flags carry.
    """
    flags = draw(_u16)
    d = NotificationData(notificationFlags=flags)
    m = flags & 0x8000
    if flags & 0x0100:
        event = d.tableEventType = draw(
            st.one_of(st.sampled_from([1, 3, 4, 5, 7]), _u16)
        )
        if event in (3, 4, 5):
            d.tableRowFolderId = draw(_u64)
            if m:
                d.tableRowMessageId = draw(_u64)
                d.tableRowInstance = draw(_u32)
        if event in (3, 5):
            d.insertAfterTableRowFolderId = draw(_u64)
            if m:
                d.insertAfterTableRowId = draw(_u64)
                d.insertAfterTableRowInstance = draw(_u32)
            d.tableRowData = draw(st.binary(max_size=20))
    if flags & 0x0200:
        d.hierarchyChanged = draw(_u8)
        gids = draw(
            st.lists(
                st.builds(GlobalIdentifier, _guids, st.integers(0, (1 << 48) - 1)),
                max_size=3,
            )
        )
        d.folderGids = gids
        d.icsChangeNumbers = draw(
            st.lists(_u32, min_size=len(gids), max_size=len(gids))
        )
    if not flags & 0x0700:
        d.folderId = draw(_u64)
        if m:
            d.messageId = draw(_u64)
    if flags & 0x006C and bool(flags & 0x4000) == bool(m):
        d.parentFolderId = draw(_u64)
    if flags & 0x0060:
        d.oldFolderId = draw(_u64)
        if m:
            d.oldMessageId = draw(_u64)
        else:
            d.oldParentFolderId = draw(_u64)
    if flags & 0x0014:
        d.tags = draw(st.one_of(st.none(), st.lists(_u32, max_size=4)))
    if flags & 0x1000:
        d.totalMessageCount = draw(_u32)
    if flags & 0x2000:
        d.unreadMessageCount = draw(_u32)
    if flags & 0x0002:
        d.messageFlags = draw(_u32)
        d.unicodeFlag = draw(_u8)
        if d.unicodeFlag:
            alphabet = st.characters(blacklist_characters="\x00")
        else:
            alphabet = st.characters(min_codepoint=1, max_codepoint=255)
        d.messageClass = draw(st.text(alphabet, max_size=12))
    return d


def _registerRequests():
    def build(out, types, reserved, whole, fid, mid, logonId, index):
        return RegisterNotificationRequest(
            logonId=logonId,
            inputHandleIndex=index,
            outputHandleIndex=out,
            notificationTypes=types,
            reserved=reserved if types & 0x0400 else None,
            wantWholeStore=whole,
            folderId=None if whole else fid,
            messageId=None if whole else mid,
        )

    return st.builds(build, _u8, _u16, _u8, _u8, _u64, _u64, _u8, _u8)


#: Packed ROPs: requests of the sync module.
_packed = st.lists(st.builds(PackedRop, _u8, syncRequests), max_size=3)

#: Random valid requests of every ROP of the module.
notifyRequests = st.one_of(
    _registerRequests(),
    st.builds(ReleaseRequest, **_header),
    st.builds(ProxyPackRequest, packed=_packed, **_header),
    st.builds(
        ProxyPackRequest,
        packed=st.binary(max_size=20).map(lambda b: b"\x00" + req(0xA5) + b),
        **_header,
    ),
)

#: Random valid responses of every ROP of the module but RopBufferTooSmall
#: (which must come last).
notifyResponses = st.one_of(
    st.builds(RegisterNotificationResponse, handleIndex=_u8, returnValue=_u32),
    st.builds(
        NotifyResponse,
        notificationHandle=_u32,
        logonId=_u8,
        notificationData=notificationData(),
    ),
    st.builds(PendingResponse, sessionIndex=_u16),
    st.builds(
        BackoffResponse,
        logonId=_u8,
        duration=_u32,
        backoffRops=st.lists(st.builds(BackoffRop, _u8, _u32), max_size=4),
        additionalData=st.binary(max_size=20),
    ),
    st.builds(
        ProxyPackResponse,
        handleIndex=_u8,
        returnValue=st.just(0),
        data=st.binary(max_size=20),
    ),
    st.builds(
        ProxyPackResponse, handleIndex=_u8, returnValue=st.integers(1, 0xFFFFFFFF)
    ),
)

_tooSmall = st.builds(
    BufferTooSmallResponse, sizeNeeded=_u16, requestBuffers=st.binary(max_size=30)
)

#: Request and response RopIds of the module.
NOTIFY_REQUEST_IDS = [0x29, 0x01, 0xA5]
NOTIFY_RESPONSE_IDS = [0x29, 0x2A, 0x6E, 0xF9, 0xFF, 0xA5]


class PropertyTests(SynchronousTestCase):
    """
    Round trips of random ROPs and robustness against random bytes.
    """

    @_FAST
    @given(st.lists(st.one_of(notifyRequests, syncRequests), max_size=6))
    def test_requestsRoundTrip(self, requests):
        """
        Any mixed list of valid requests of this module and of the sync
        module encodes and decodes back to itself.
        """
        data = encodeRequests(requests, RopContext(), _HANDLES)
        decoded = decodeRequests(data, _HANDLES, RopContext())
        self.assertEqual(decoded, requests)
        self.assertEqual(encodeRequests(decoded, RopContext(), _HANDLES), data)

    @_FAST
    @given(
        st.lists(st.one_of(notifyResponses, syncResponses), max_size=6),
        st.one_of(st.none(), _tooSmall),
    )
    def test_responsesRoundTrip(self, responses, last):
        """
        Any mixed list of valid responses of this module and of the sync
        module (with a RopBufferTooSmall at the end or not) encodes and
        decodes back to itself.
        """
        if last is not None:
            responses = responses + [last]
        data = encodeResponses(responses, None, RopContext(), _HANDLES)
        decoded = decodeResponses(data, _HANDLES, None, RopContext())
        self.assertEqual(decoded, responses)
        self.assertEqual(encodeResponses(decoded, None, RopContext(), _HANDLES), data)

    @_FAST
    @given(notificationData(), st.lists(_u32, min_size=1, max_size=3))
    def test_tableRowWithColumns(self, data, columns):
        """
        Whatever TableRowData holds, decoding with known columns and
        re-encoding gives the same bytes.
        """
        ctx = RopContext()
        ctx.columns[7] = columns
        rop = NotifyResponse(notificationHandle=7, notificationData=data)
        encoded = encodeResponses([rop], None, RopContext())
        decoded = decodeResponses(encoded, [], None, ctx)
        self.assertEqual(len(decoded), 1)
        self.assertEqual(encodeResponses(decoded, None, ctx), encoded)

    @_FAST
    @given(st.sampled_from(NOTIFY_REQUEST_IDS), _u8, _u8, st.binary(max_size=60))
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
            self.assertTrue(data.startswith(encodeRequests([first], RopContext())))
        try:
            REQUEST_CLASSES[ropId].readBody(
                Reader(body), RopContext(), {"logonId": 0, "inputHandleIndex": 0}
            )
        except RopError:
            pass

    @_FAST
    @given(st.sampled_from(NOTIFY_RESPONSE_IDS), st.binary(max_size=60))
    def test_randomResponseBytes(self, ropId, body):
        """
        Random bytes after one of these RopIds decode to that ROP or to an
        L{UnknownRop}, re-encode exactly, and C{readBody} raises only
        L{RopError}.
        """
        data = bytes([ropId]) + body
        items = decodeResponses(data, _HANDLES, None, RopContext())
        first = items[0]
        if isinstance(first, UnknownRop):
            self.assertEqual(first.data, data)
        else:
            self.assertEqual(first.ROP_ID, ropId)
            self.assertTrue(
                data.startswith(encodeResponses([first], None, RopContext()))
            )
        cls = RESPONSE_CLASSES[ropId]
        try:
            if cls.NO_HEADER:
                cls.readBody(
                    Reader(body),
                    RopContext(),
                    None,
                    {"handleIndex": 0, "returnValue": 0},
                )
            else:
                cls.readBody(
                    Reader(body[4:]),
                    RopContext(),
                    None,
                    {
                        "handleIndex": 0,
                        "returnValue": int.from_bytes(body[:4], "little"),
                    },
                )
        except RopError:
            pass
