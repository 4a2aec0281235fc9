# -*- test-case-name: tests.mapi.rops.test_notify -*-
"""
Notification ROPs ([MS-OXCROPS] 2.2.14, semantics in [MS-OXCNOTIF] 2.2.1)
and the ROPs that are not about one object ([MS-OXCROPS] 2.2.15):
RopRegisterNotification, RopNotify, RopPending, RopRelease, RopBackoff,
RopBufferTooSmall, and OpenChange's private RopProxyPack (0xA5).

RopNotify, RopPending, RopBackoff and RopBufferTooSmall answer no request
and have no InputHandleIndex/ReturnValue header (the framework reads their
body right after the RopId). RopRelease has no response.

Layout decisions:

  - RopRegisterNotification: NotificationTypes is read as the u16 of
    [MS-OXCNOTIF] 2.2.1.2.1 and a Reserved byte follows only when its
    Extended bit (0x0400) is set. With Extended clear this is the same
    wire layout as the older "NotificationTypes u8, Reserved u8" reading
    ([MS-OXCROPS] 2.2.14.1.1, gromox), whose Reserved byte must be 0.
  - RopNotify: the fields of NotificationData ([MS-OXCNOTIF] 2.2.1.4.1.2)
    are present according to NotificationFlags, tested bit by bit (so any
    flag combination round-trips). The ICS form (NotificationType 0x0200:
    HierarchyChanged u8, a u32 count, that many 22-byte global identifiers
    then that many u32 change numbers) follows Microsoft's protocol test
    suite; it is not in current [MS-OXCNOTIF]. TableRowData is a
    L{PropertyRow} laid out in the columns of the table the notification is
    for (L{RopContext.columns} under the NotificationHandle, which is the
    table's handle for table notifications), or its raw bytes when those
    columns are unknown or the row does not fill TableRowDataSize exactly.
  - RopBufferTooSmall: RequestBuffers has no size on the wire. The server
    stops after it, so it is always the last ROP of the RopsList
    ([MS-OXCROPS] 3.1.5.1.2): RequestBuffers is every byte left in the
    list. L{BufferTooSmallResponse.decodeRequestBuffers} decodes them as
    requests.
  - RopProxyPack (OpenChange mpm_pack, not a Microsoft ROP): request body
    cb u16 and cb bytes of (position u8, whole ROP request) pairs, decoded
    into L{PackedRop}s; a blob that does not decode completely (an unknown
    or nested 0xA5 ROP, a ROP that does not parse) is kept as bytes. Its
    response (cb u16 and bytes) is defined by OpenChange but never sent;
    it is decoded only on success.

A field that the layout requires (a flag says it is there) must not be
L{None} when encoding: that raises L{RopError}.

Sans-I/O; no Twisted.
"""

import uuid
from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import PropertyRow
from mapiproxy.mapi.rops import base
from mapiproxy.mapi.rops.base import (
    RopContext,
    RopRequest,
    RopResponse,
    Writer,
    ropRequest,
    ropResponse,
)

__all__ = [
    "NOTIFY_CRITICAL_ERROR",
    "NOTIFY_NEW_MAIL",
    "NOTIFY_OBJECT_CREATED",
    "NOTIFY_OBJECT_DELETED",
    "NOTIFY_OBJECT_MODIFIED",
    "NOTIFY_OBJECT_MOVED",
    "NOTIFY_OBJECT_COPIED",
    "NOTIFY_SEARCH_COMPLETE",
    "NOTIFY_TABLE_MODIFIED",
    "NOTIFY_ICS",
    "NOTIFY_EXTENDED",
    "NOTIFY_TYPE_MASK",
    "NOTIFY_TOTAL",
    "NOTIFY_UNREAD",
    "NOTIFY_SEARCH",
    "NOTIFY_MESSAGE",
    "TABLE_CHANGED",
    "TABLE_ROW_ADDED",
    "TABLE_ROW_DELETED",
    "TABLE_ROW_MODIFIED",
    "TABLE_RESTRICTION_CHANGED",
    "TAGS_ALL",
    "PROXY_PACK_ID",
    "GlobalIdentifier",
    "NotificationData",
    "BackoffRop",
    "PackedRop",
    "RegisterNotificationRequest",
    "RegisterNotificationResponse",
    "NotifyResponse",
    "PendingResponse",
    "ReleaseRequest",
    "BackoffResponse",
    "BufferTooSmallResponse",
    "ProxyPackRequest",
    "ProxyPackResponse",
]

# NotificationType, the low 12 bits of NotificationFlags ([MS-OXCNOTIF]
# 2.2.1.4.1.2; also the NotificationTypes of RopRegisterNotification).
#: A critical error.
NOTIFY_CRITICAL_ERROR = 0x0001
#: New mail arrived.
NOTIFY_NEW_MAIL = 0x0002
#: An object was created.
NOTIFY_OBJECT_CREATED = 0x0004
#: An object was deleted.
NOTIFY_OBJECT_DELETED = 0x0008
#: An object was modified.
NOTIFY_OBJECT_MODIFIED = 0x0010
#: An object was moved.
NOTIFY_OBJECT_MOVED = 0x0020
#: An object was copied.
NOTIFY_OBJECT_COPIED = 0x0040
#: A search completed.
NOTIFY_SEARCH_COMPLETE = 0x0080
#: A table changed (TableEventType says how).
NOTIFY_TABLE_MODIFIED = 0x0100
#: ICS: folders changed (the form of Microsoft's test suite).
NOTIFY_ICS = 0x0200
#: An extended event.
NOTIFY_EXTENDED = 0x0400
#: The NotificationType bits.
NOTIFY_TYPE_MASK = 0x0FFF

# The availability bits of NotificationFlags.
#: T: TotalMessageCount is present.
NOTIFY_TOTAL = 0x1000
#: U: UnreadMessageCount is present.
NOTIFY_UNREAD = 0x2000
#: S: the event is about a search folder.
NOTIFY_SEARCH = 0x4000
#: M: the event is about a message.
NOTIFY_MESSAGE = 0x8000

# TableEventType ([MS-OXCNOTIF] 2.2.1.4.1.2).
#: The table changed; re-read it.
TABLE_CHANGED = 0x0001
#: A row was added.
TABLE_ROW_ADDED = 0x0003
#: A row was deleted.
TABLE_ROW_DELETED = 0x0004
#: A row was modified.
TABLE_ROW_MODIFIED = 0x0005
#: The restriction of the table changed.
TABLE_RESTRICTION_CHANGED = 0x0007

#: TagCount 0xFFFF: every property changed (L{NotificationData.tags} is
#: L{None}).
TAGS_ALL = 0xFFFF

#: The RopId of OpenChange's RopProxyPack.
PROXY_PACK_ID = 0xA5

_MOVE_COPY = NOTIFY_OBJECT_MOVED | NOTIFY_OBJECT_COPIED
_HAS_PARENT = (
    NOTIFY_OBJECT_CREATED
    | NOTIFY_OBJECT_DELETED
    | NOTIFY_OBJECT_MOVED
    | NOTIFY_OBJECT_COPIED
)
_HAS_TAGS = NOTIFY_OBJECT_CREATED | NOTIFY_OBJECT_MODIFIED
_NO_FOLDER_ID = NOTIFY_TABLE_MODIFIED | NOTIFY_ICS | NOTIFY_EXTENDED
_ROW_EVENTS = (TABLE_ROW_ADDED, TABLE_ROW_DELETED, TABLE_ROW_MODIFIED)
_ROW_DATA_EVENTS = (TABLE_ROW_ADDED, TABLE_ROW_MODIFIED)


def _required(value, name):
    """
    A field the layout requires.

    @raise RopError: If C{value} is L{None}.
    """
    if value is None:
        raise RopError("%s is required by the layout but is None" % (name,))
    return value


@dataclass(slots=True)
class GlobalIdentifier:
    """
    A 22-byte global identifier: a replica GUID and a 48-bit big-endian
    GlobalCounter ([MS-OXCDATA] 2.2.1.3), as in the ICS notification.

    @ivar replGuid: The replica GUID.
    @ivar globalCounter: The counter.
    """

    replGuid: uuid.UUID = uuid.UUID(int=0)
    globalCounter: int = 0

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{GlobalIdentifier}
        """
        guid = r.guid()
        return cls(guid, int.from_bytes(r.bytes(6), "big"))

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.guid(self.replGuid)
        try:
            w.bytes(self.globalCounter.to_bytes(6, "big"))
        except (OverflowError, AttributeError) as e:
            raise RopError(
                "bad GlobalCounter %r: %s" % (self.globalCounter, e)
            ) from None


@dataclass(slots=True)
class NotificationData:
    """
    The NotificationData of RopNotify ([MS-OXCNOTIF] 2.2.1.4.1.2).

    Every field but C{notificationFlags} is L{None} when NotificationFlags
    (and TableEventType) say it is absent; see the module docstring for
    the ICS form and TableRowData.

    @ivar notificationFlags: NotificationType (low 12 bits, C{NOTIFY_*})
        and the T/U/S/M bits.
    @ivar tableEventType: A C{TABLE_*} value (TableModified).
    @ivar tableRowFolderId: FolderID of the row (row added, deleted,
        modified).
    @ivar tableRowMessageId: MessageID of the row (same, M set).
    @ivar tableRowInstance: Instance of the row (same, M set).
    @ivar insertAfterTableRowFolderId: FolderID of the row before it (row
        added or modified).
    @ivar insertAfterTableRowId: MessageID of the row before it (same, M
        set).
    @ivar insertAfterTableRowInstance: Its instance (same, M set).
    @ivar tableRowData: The row (row added or modified): a L{PropertyRow}
        or L{bytes}; TableRowDataSize is its encoded size.
    @ivar hierarchyChanged: ICS: nonzero if the hierarchy changed.
    @ivar folderGids: ICS: L{GlobalIdentifier}s of the changed folders.
    @ivar icsChangeNumbers: ICS: one u32 change number per folder.
    @ivar folderId: FolderID (not TableModified, ICS or Extended).
    @ivar messageId: MessageID (same, M set).
    @ivar parentFolderId: Parent FolderID (created, deleted, moved, copied;
        S and M both set or both clear).
    @ivar oldFolderId: Old FolderID (moved, copied).
    @ivar oldMessageId: Old MessageID (moved, copied; M set).
    @ivar oldParentFolderId: Old parent FolderID (moved, copied; M clear).
    @ivar tags: The changed property tags (created, modified): a L{list}
        (TagCount then tags), or L{None} for TagCount L{TAGS_ALL}.
    @ivar totalMessageCount: T set.
    @ivar unreadMessageCount: U set.
    @ivar messageFlags: NewMail: PidTagMessageFlags.
    @ivar unicodeFlag: NewMail: nonzero when MessageClass is UTF-16 (the
        byte received).
    @ivar messageClass: NewMail: the message class.
    """

    notificationFlags: int = 0
    tableEventType: Optional[int] = None
    tableRowFolderId: Optional[int] = None
    tableRowMessageId: Optional[int] = None
    tableRowInstance: Optional[int] = None
    insertAfterTableRowFolderId: Optional[int] = None
    insertAfterTableRowId: Optional[int] = None
    insertAfterTableRowInstance: Optional[int] = None
    tableRowData: object = None
    hierarchyChanged: Optional[int] = None
    folderGids: Optional[list] = None
    icsChangeNumbers: Optional[list] = None
    folderId: Optional[int] = None
    messageId: Optional[int] = None
    parentFolderId: Optional[int] = None
    oldFolderId: Optional[int] = None
    oldMessageId: Optional[int] = None
    oldParentFolderId: Optional[int] = None
    tags: Optional[list] = None
    totalMessageCount: Optional[int] = None
    unreadMessageCount: Optional[int] = None
    messageFlags: Optional[int] = None
    unicodeFlag: Optional[int] = None
    messageClass: Optional[str] = None

    @property
    def notificationType(self):
        """
        The NotificationType part of C{notificationFlags}.
        """
        return self.notificationFlags & NOTIFY_TYPE_MASK

    @classmethod
    def read(cls, r, columns=None):
        """
        @type r: L{Reader}
        @param columns: The columns of the table the notification is for,
            or L{None} if unknown (TableRowData then stays bytes).
        @type columns: L{list} of L{int} or L{None}
        @rtype: L{NotificationData}
        """
        flags = r.u16()
        data = cls(notificationFlags=flags)
        message = flags & NOTIFY_MESSAGE
        if flags & NOTIFY_TABLE_MODIFIED:
            event = data.tableEventType = r.u16()
            if event in _ROW_EVENTS:
                data.tableRowFolderId = r.u64()
                if message:
                    data.tableRowMessageId = r.u64()
                    data.tableRowInstance = r.u32()
            if event in _ROW_DATA_EVENTS:
                data.insertAfterTableRowFolderId = r.u64()
                if message:
                    data.insertAfterTableRowId = r.u64()
                    data.insertAfterTableRowInstance = r.u32()
                data.tableRowData = _readRow(r.sub(r.u16()), columns)
        if flags & NOTIFY_ICS:
            data.hierarchyChanged = r.u8()
            count = r.u32()
            data.folderGids = r.counted(count, GlobalIdentifier.read, minSize=26)
            data.icsChangeNumbers = r.u32Array(count)
        if not flags & _NO_FOLDER_ID:
            data.folderId = r.u64()
            if message:
                data.messageId = r.u64()
        if flags & _HAS_PARENT and bool(flags & NOTIFY_SEARCH) == bool(message):
            data.parentFolderId = r.u64()
        if flags & _MOVE_COPY:
            data.oldFolderId = r.u64()
            if message:
                data.oldMessageId = r.u64()
            else:
                data.oldParentFolderId = r.u64()
        if flags & _HAS_TAGS:
            count = r.u16()
            data.tags = None if count == TAGS_ALL else r.u32Array(count)
        if flags & NOTIFY_TOTAL:
            data.totalMessageCount = r.u32()
        if flags & NOTIFY_UNREAD:
            data.unreadMessageCount = r.u32()
        if flags & NOTIFY_NEW_MAIL:
            data.messageFlags = r.u32()
            unicode = data.unicodeFlag = r.u8()
            data.messageClass = r.unicodez() if unicode else r.asciiz()
        return data

    def write(self, w, columns=None):
        """
        @type w: L{Writer}
        @param columns: The columns of the table, needed when
            C{tableRowData} is a L{PropertyRow}.
        @type columns: L{list} of L{int} or L{None}
        @raise RopError: If a field the flags require is L{None}, or a
            value does not fit.
        """
        flags = self.notificationFlags
        w.u16(flags)
        message = flags & NOTIFY_MESSAGE
        if flags & NOTIFY_TABLE_MODIFIED:
            event = _required(self.tableEventType, "tableEventType")
            w.u16(event)
            if event in _ROW_EVENTS:
                w.u64(_required(self.tableRowFolderId, "tableRowFolderId"))
                if message:
                    w.u64(_required(self.tableRowMessageId, "tableRowMessageId"))
                    w.u32(_required(self.tableRowInstance, "tableRowInstance"))
            if event in _ROW_DATA_EVENTS:
                w.u64(
                    _required(
                        self.insertAfterTableRowFolderId, "insertAfterTableRowFolderId"
                    )
                )
                if message:
                    w.u64(
                        _required(self.insertAfterTableRowId, "insertAfterTableRowId")
                    )
                    w.u32(
                        _required(
                            self.insertAfterTableRowInstance,
                            "insertAfterTableRowInstance",
                        )
                    )
                _writeRow(w, _required(self.tableRowData, "tableRowData"), columns)
        if flags & NOTIFY_ICS:
            gids = _required(self.folderGids, "folderGids")
            numbers = _required(self.icsChangeNumbers, "icsChangeNumbers")
            if len(gids) != len(numbers):
                raise RopError(
                    "%d folder identifiers but %d change numbers"
                    % (len(gids), len(numbers))
                )
            w.bool8(_required(self.hierarchyChanged, "hierarchyChanged"))
            w.u32(len(gids))
            for gid in gids:
                gid.write(w)
            w.u32Array(numbers)
        if not flags & _NO_FOLDER_ID:
            w.u64(_required(self.folderId, "folderId"))
            if message:
                w.u64(_required(self.messageId, "messageId"))
        if flags & _HAS_PARENT and bool(flags & NOTIFY_SEARCH) == bool(message):
            w.u64(_required(self.parentFolderId, "parentFolderId"))
        if flags & _MOVE_COPY:
            w.u64(_required(self.oldFolderId, "oldFolderId"))
            if message:
                w.u64(_required(self.oldMessageId, "oldMessageId"))
            else:
                w.u64(_required(self.oldParentFolderId, "oldParentFolderId"))
        if flags & _HAS_TAGS:
            if self.tags is None:
                w.u16(TAGS_ALL)
            else:
                if len(self.tags) == TAGS_ALL:
                    raise RopError("0xFFFF tags cannot be encoded (TagCount 0xFFFF)")
                w.u16(len(self.tags))
                w.u32Array(self.tags)
        if flags & NOTIFY_TOTAL:
            w.u32(_required(self.totalMessageCount, "totalMessageCount"))
        if flags & NOTIFY_UNREAD:
            w.u32(_required(self.unreadMessageCount, "unreadMessageCount"))
        if flags & NOTIFY_NEW_MAIL:
            w.u32(_required(self.messageFlags, "messageFlags"))
            unicode = _required(self.unicodeFlag, "unicodeFlag")
            w.bool8(unicode)
            text = _required(self.messageClass, "messageClass")
            if unicode:
                w.unicodez(text)
            else:
                w.asciiz(text)


def _readRow(window, columns):
    """
    TableRowData: a L{PropertyRow} in C{columns} if it fills C{window}
    exactly, else the raw bytes.
    """
    if columns is not None:
        start = window.offset
        try:
            row = PropertyRow.read(window, columns)
        except RopError:
            row = None
        if row is not None and window.atEnd():
            return row
        window.offset = start
    return window.rest()


def _writeRow(w, row, columns):
    # TableRowDataSize u16 and the row.
    if isinstance(row, PropertyRow):
        if columns is None:
            raise RopError(
                "tableRowData is a PropertyRow but the table's columns are unknown"
            )
        inner = Writer()
        row.write(inner, columns)
        row = inner.getvalue()
    w.u16(len(row))
    w.bytes(row)


# RopRegisterNotification ([MS-OXCROPS] 2.2.14.1)


@ropRequest(0x29)
@dataclass(slots=True)
class RegisterNotificationRequest(RopRequest):
    """
    RopRegisterNotification request ([MS-OXCROPS] 2.2.14.1.1,
    [MS-OXCNOTIF] 2.2.1.2.1).

    @ivar outputHandleIndex: Where the subscription goes.
    @ivar notificationTypes: C{NOTIFY_*} types, u16 (see the module
        docstring).
    @ivar reserved: The Reserved byte, present if and only if
        L{NOTIFY_EXTENDED} is set (else L{None}).
    @ivar wantWholeStore: Nonzero for the whole store (the byte received).
    @ivar folderId: The folder, present if and only if C{wantWholeStore}
        is zero (else L{None}).
    @ivar messageId: The message, same condition.
    """

    outputHandleIndex: int = 0
    notificationTypes: int = 0
    reserved: Optional[int] = None
    wantWholeStore: int = 0
    folderId: Optional[int] = None
    messageId: Optional[int] = None

    @classmethod
    def readBody(cls, r, ctx, header):
        out = r.u8()
        types = r.u16()
        reserved = r.u8() if types & NOTIFY_EXTENDED else None
        whole = r.u8()
        folderId = messageId = None
        if not whole:
            folderId = r.u64()
            messageId = r.u64()
        return cls(
            outputHandleIndex=out,
            notificationTypes=types,
            reserved=reserved,
            wantWholeStore=whole,
            folderId=folderId,
            messageId=messageId,
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u16(self.notificationTypes)
        if self.notificationTypes & NOTIFY_EXTENDED:
            w.u8(_required(self.reserved, "reserved"))
        w.bool8(self.wantWholeStore)
        if not self.wantWholeStore:
            w.u64(_required(self.folderId, "folderId"))
            w.u64(_required(self.messageId, "messageId"))


@ropResponse(0x29)
@dataclass(slots=True)
class RegisterNotificationResponse(RopResponse):
    """
    RopRegisterNotification response ([MS-OXCROPS] 2.2.14.1.2): the header
    alone (handle index = OutputHandleIndex).
    """


# RopNotify ([MS-OXCROPS] 2.2.14.2)


@ropResponse(0x2A)
@dataclass(slots=True)
class NotifyResponse(RopResponse):
    """
    RopNotify response ([MS-OXCROPS] 2.2.14.2.1, [MS-OXCNOTIF] 2.2.1.4.1):
    NotificationHandle u32, LogonId u8, NotificationData; no header.

    @ivar notificationHandle: The subscription or table handle.
    @ivar logonId: The logon.
    @ivar notificationData: A L{NotificationData}.
    """

    notificationHandle: int = 0
    logonId: int = 0
    notificationData: NotificationData = field(default_factory=NotificationData)

    @classmethod
    def readBody(cls, r, ctx, request, header):
        handle = r.u32()
        logonId = r.u8()
        data = NotificationData.read(r, ctx.columns.get(handle))
        return cls(
            notificationHandle=handle, logonId=logonId, notificationData=data, **header
        )

    def writeBody(self, w, ctx, request):
        w.u32(self.notificationHandle)
        w.u8(self.logonId)
        self.notificationData.write(w, ctx.columns.get(self.notificationHandle))


# RopPending ([MS-OXCROPS] 2.2.14.3)


@ropResponse(0x6E)
@dataclass(slots=True)
class PendingResponse(RopResponse):
    """
    RopPending response ([MS-OXCROPS] 2.2.14.3.1): more notifications wait
    on a session. SessionIndex u16; no header.

    @ivar sessionIndex: The session that has them.
    """

    sessionIndex: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(sessionIndex=r.u16(), **header)

    def writeBody(self, w, ctx, request):
        w.u16(self.sessionIndex)


# RopRelease ([MS-OXCROPS] 2.2.15.3)


@ropRequest(0x01)
@dataclass(slots=True)
class ReleaseRequest(RopRequest):
    """
    RopRelease request ([MS-OXCROPS] 2.2.15.3.1): frees the object at
    InputHandleIndex. No body and no response.
    """


# RopBackoff ([MS-OXCROPS] 2.2.15.2)


@dataclass(slots=True)
class BackoffRop:
    """
    One BackoffRop ([MS-OXCROPS] 2.2.15.2.1.1): RopIdBackoff u8 and
    Duration u32.

    @ivar ropIdBackoff: The RopId to delay.
    @ivar duration: Milliseconds.
    """

    ropIdBackoff: int = 0
    duration: int = 0

    @classmethod
    def read(cls, r):
        """
        @type r: L{Reader}
        @rtype: L{BackoffRop}
        """
        return cls(r.u8(), r.u32())

    def write(self, w):
        """
        @type w: L{Writer}
        """
        w.u8(self.ropIdBackoff)
        w.u32(self.duration)


@ropResponse(0xF9)
@dataclass(slots=True)
class BackoffResponse(RopResponse):
    """
    RopBackoff response ([MS-OXCROPS] 2.2.15.2.1): the server asks the
    client to wait. LogonId u8, Duration u32, BackoffRopCount u8 and that
    many L{BackoffRop}s, AdditionalDataSize u16 and that many bytes; no
    header.

    @ivar logonId: The logon to delay.
    @ivar duration: Milliseconds, for the whole logon.
    @ivar backoffRops: L{BackoffRop}s (empty: every ROP of the logon).
    @ivar additionalData: Opaque bytes.
    """

    logonId: int = 0
    duration: int = 0
    backoffRops: list = field(default_factory=list)
    additionalData: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, request, header):
        logonId = r.u8()
        duration = r.u32()
        rops = r.counted(r.u8(), BackoffRop.read, minSize=5)
        return cls(
            logonId=logonId,
            duration=duration,
            backoffRops=rops,
            additionalData=r.bytes(r.u16()),
            **header,
        )

    def writeBody(self, w, ctx, request):
        w.u8(self.logonId)
        w.u32(self.duration)
        w.u8(len(self.backoffRops))
        for rop in self.backoffRops:
            rop.write(w)
        w.u16(len(self.additionalData))
        w.bytes(self.additionalData)


# RopBufferTooSmall ([MS-OXCROPS] 2.2.15.1)


@ropResponse(0xFF)
@dataclass(slots=True)
class BufferTooSmallResponse(RopResponse):
    """
    RopBufferTooSmall response ([MS-OXCROPS] 2.2.15.1.1): the output
    buffer was too small. SizeNeeded u16, then RequestBuffers: the request
    ROPs not executed, every byte left in the RopsList (see the module
    docstring); no header.

    @ivar sizeNeeded: The output buffer size needed.
    @ivar requestBuffers: The unexecuted request ROPs, as bytes.
    """

    sizeNeeded: int = 0
    requestBuffers: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(sizeNeeded=r.u16(), requestBuffers=r.rest(), **header)

    def writeBody(self, w, ctx, request):
        w.u16(self.sizeNeeded)
        w.bytes(self.requestBuffers)

    def decodeRequestBuffers(self, handles=None, ctx=None):
        """
        Decode C{requestBuffers} as a list of ROP requests.

        @param handles: The handle table of the request buffer they came
            from.
        @type handles: L{list} of L{int} or L{None}

        @param ctx: The session state; by default a fresh one, so that
            decoding them does not disturb the session's.
        @type ctx: L{RopContext} or L{None}

        @return: What L{base.decodeRequests} returns.
        @rtype: L{list}
        """
        if ctx is None:
            ctx = RopContext()
        return base.decodeRequests(self.requestBuffers, handles or [], ctx)


# RopProxyPack (OpenChange's mpm_pack, RopId 0xA5)


@dataclass(slots=True)
class PackedRop:
    """
    One ROP packed into a RopProxyPack: its position in the original
    request buffer and the request itself.

    @ivar position: The original index of the ROP (u8).
    @ivar request: The L{RopRequest}.
    """

    position: int = 0
    request: RopRequest = None


def _readPacked(r, ctx):
    """
    The (position, ROP) pairs of a RopProxyPack blob.

    @raise RopError: If any pair does not decode.
    """
    classes = base.REQUEST_CLASSES
    items = []
    while r.remaining:
        position = r.u8()
        ropId = r.u8()
        logonId = r.u8()
        inputHandleIndex = r.u8()
        if ropId == PROXY_PACK_ID:
            raise RopError("RopProxyPack inside RopProxyPack")
        cls = classes.get(ropId)
        if cls is None:
            raise RopError("unknown packed RopId 0x%02X" % (ropId,))
        request = cls.readBody(
            r, ctx, {"logonId": logonId, "inputHandleIndex": inputHandleIndex}
        )
        request.logonId = logonId
        request.inputHandleIndex = inputHandleIndex
        items.append(PackedRop(position, request))
    return items


@ropRequest(PROXY_PACK_ID)
@dataclass(slots=True)
class ProxyPackRequest(RopRequest):
    """
    RopProxyPack request (OpenChange mpm_pack): cb u16, then cb bytes of
    (position u8, whole ROP request) pairs.

    @ivar packed: A L{list} of L{PackedRop}, or the raw blob (L{bytes})
        when it does not decode completely.
    """

    packed: object = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        window = r.sub(r.u16())
        start = window.offset
        try:
            packed = _readPacked(window, ctx)
        except Exception:
            # Whatever the reason (including a fault in another family's
            # decoder), the blob is kept exactly as received.
            window.offset = start
            packed = window.rest()
        return cls(packed=packed, **header)

    def writeBody(self, w, ctx):
        packed = self.packed
        if not isinstance(packed, (bytes, bytearray)):
            inner = Writer()
            for item in packed:
                request = item.request
                if request.ROP_ID == PROXY_PACK_ID:
                    raise RopError("RopProxyPack inside RopProxyPack")
                inner.u8(item.position)
                inner.u8(request.ROP_ID)
                inner.u8(request.logonId)
                inner.u8(request.inputHandleIndex)
                request.writeBody(inner, ctx)
            packed = inner.getvalue()
        w.u16(len(packed))
        w.bytes(packed)


@ropResponse(PROXY_PACK_ID)
@dataclass(slots=True)
class ProxyPackResponse(RopResponse):
    """
    RopProxyPack response (OpenChange; never sent in practice): on success
    cb u16 and cb bytes.

    @ivar data: The bytes.
    """

    data: bytes = b""

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != 0:
            return cls(**header)
        return cls(data=r.bytes(r.u16()), **header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == 0:
            w.u16(len(self.data))
            w.bytes(self.data)
