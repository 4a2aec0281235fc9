# -*- test-case-name: tests.server.test_emsmdb -*-
"""
The lab Exchange's message store as ROPs see it ([MS-OXCROPS], with the
semantics of [MS-OXCSTOR], [MS-OXCFOLD], [MS-OXCTABL], [MS-OXCMSG],
[MS-OXCPRPT] and [MS-OXCNOTIF]): one L{MailboxSession} per EMSMDB session
context (CXH) runs the ROP requests of each ROP buffer against a
L{mapiproxy.server.store.Store} mailbox and answers a ROP buffer.

A session keeps the server object handle table of [MS-OXCROPS] 3.1.4.1:
every object a ROP opens (logon, folder, message, attachment, table,
stream, notification subscription) gets a 32-bit handle that the client
names by its index in the handle table of later buffers, until RopRelease
frees it.

The answer to one buffer never exceeds the size the caller allows
([MS-OXCRPC] 3.1.4.2: C{pcbOut}, and 32 KB per extended buffer): row and
stream reads are cut to fit, and a ROP whose response still does not fit
stops the buffer with RopBufferTooSmall ([MS-OXCROPS] 2.2.15.1) carrying
the requests not executed. Notifications queued for the session (a new
message in a folder the client registered for) are appended as RopNotify
responses, then RopPending when some did not fit ([MS-OXCROPS] 2.2.14).

Sans-I/O: no reactor, only the file reads and writes of the store (and
L{twisted.logger} for failures).
"""

import datetime
import uuid
from dataclasses import dataclass
from typing import Optional

from twisted.logger import Logger

from mapiproxy.errors import ConfigError, MapiBufferError, RopError
from mapiproxy.mapi import oxcdata as D
from mapiproxy.mapi.extbuf import RopBuffer
from mapiproxy.mapi.rops import base as R
from mapiproxy.mapi.rops import logon as L
from mapiproxy.mapi.rops import message as M
from mapiproxy.mapi.rops import notify as N
from mapiproxy.mapi.rops import property as P
from mapiproxy.mapi.rops import table as T
from mapiproxy.server.store import REPLICA_ID, splitId, makeId, toFileTime

__all__ = [
    "EC_SUCCESS",
    "EC_NOT_SUPPORTED",
    "EC_NOT_FOUND",
    "EC_NULL_OBJECT",
    "EC_ACCESS_DENIED",
    "EC_RPC_FORMAT",
    "EC_UNKNOWN_USER",
    "EC_LOGIN_PERM",
    "EC_LOGIN_FAILURE",
    "PropertyTags",
    "NamedPropertyMap",
    "MailboxSession",
    "StreamKey",
    "mailboxGuid",
]

# Error codes ([MS-OXCDATA] 2.4).
EC_SUCCESS = 0x00000000
#: ecNotSupported / MAPI_E_NO_SUPPORT.
EC_NOT_SUPPORTED = 0x80040102
#: ecNotFound / MAPI_E_NOT_FOUND.
EC_NOT_FOUND = 0x8004010F
#: ecNullObject: the handle index names no object.
EC_NULL_OBJECT = 0x000004B9
#: ecAccessDenied.
EC_ACCESS_DENIED = 0x80070005
#: ecRpcFormat: the request buffer is malformed.
EC_RPC_FORMAT = 0x000004B6
#: ecUnknownUser.
EC_UNKNOWN_USER = 0x000003EB
#: ecLoginPerm: the user may not log on to this mailbox.
EC_LOGIN_PERM = 0x000003F2
#: ecLoginFailure / MAPI_E_LOGON_FAILED.
EC_LOGIN_FAILURE = 0x80040111
#: ecError / MAPI_E_CALL_FAILED: the server failed.
EC_ERROR = 0x80004005
#: ecInvalidParam / MAPI_E_INVALID_PARAMETER.
EC_INVALID_PARAM = 0x80070057
#: MAPI_E_NOT_INITIALIZED: e.g. RopQueryRows before RopSetColumns.
EC_NOT_INITIALIZED = 0x80040605
#: MAPI_E_INVALID_TYPE: a property asked for with a type it cannot have.
EC_INVALID_TYPE = 0x80040302
#: ecMAPIOOM: a value too large for a row (read it with RopOpenStream).
EC_TOO_BIG = 0x8007000E
#: MAPI_E_UNABLE_TO_ABORT.
EC_UNABLE_TO_ABORT = 0x80040114
#: StreamSeekError ([MS-OXCDATA] 2.4.1).
EC_STREAM_SEEK_ERROR = 0x80030019
#: MAPI_W_ERRORS_RETURNED.
EC_WARN_WITH_ERRORS = 0x00040380

#: The largest value returned in a row or property list; longer ones are
#: read with RopOpenStream ([MS-OXCPRPT] 3.2.5.1).
MAX_VALUE_SIZE = 0x4000
#: RopReadStream's DataSize is a u16.
MAX_READ = 0xFFFF
#: A handle value that names no object.
NO_HANDLE = 0xFFFFFFFF


class PropertyTags:
    """
    The property tags ([MS-OXPROPS]) the lab store answers, with their
    native types.
    """

    ENTRYID = 0x0FFF0102
    RECORD_KEY = 0x0FF90102
    OBJECT_TYPE = 0x0FFE0003
    DISPLAY_NAME = 0x3001001F
    COMMENT = 0x3004001F
    CREATION_TIME = 0x30070040
    LAST_MODIFICATION_TIME = 0x30080040
    FID = 0x67480014
    PARENT_FID = 0x67490014
    MID = 0x674A0014
    INST_ID = 0x674D0014
    INSTANCE_NUM = 0x674E0003
    FOLDER_TYPE = 0x36010003
    CONTENT_COUNT = 0x36020003
    CONTENT_UNREAD = 0x36030003
    SUBFOLDERS = 0x360A000B
    CONTAINER_CLASS = 0x3613001F
    FOLDER_CHILD_COUNT = 0x66380003
    MESSAGE_CLASS = 0x001A001F
    SUBJECT = 0x0037001F
    SUBJECT_PREFIX = 0x003D001F
    NORMALIZED_SUBJECT = 0x0E1D001F
    IMPORTANCE = 0x00170003
    CLIENT_SUBMIT_TIME = 0x00390040
    MESSAGE_DELIVERY_TIME = 0x0E060040
    SENT_REPRESENTING_NAME = 0x0042001F
    SENT_REPRESENTING_EMAIL_ADDRESS = 0x0065001F
    SENT_REPRESENTING_ADDRTYPE = 0x0064001F
    SENDER_NAME = 0x0C1A001F
    SENDER_EMAIL_ADDRESS = 0x0C1F001F
    SENDER_ADDRTYPE = 0x0C1E001F
    DISPLAY_BCC = 0x0E02001F
    DISPLAY_CC = 0x0E03001F
    DISPLAY_TO = 0x0E04001F
    MESSAGE_FLAGS = 0x0E070003
    MESSAGE_SIZE = 0x0E080003
    HASATTACH = 0x0E1B000B
    BODY = 0x1000001F
    RECIPIENT_TYPE = 0x0C150003
    ADDRTYPE = 0x3002001F
    EMAIL_ADDRESS = 0x3003001F
    SMTP_ADDRESS = 0x39FE001F
    DISPLAY_TYPE = 0x39000003
    ROWID = 0x30000003
    ATTACH_SIZE = 0x0E200003
    ATTACH_NUM = 0x0E210003
    ATTACH_DATA_BIN = 0x37010102
    ATTACH_FILENAME = 0x3704001F
    ATTACH_METHOD = 0x37050003
    ATTACH_LONG_FILENAME = 0x3707001F
    RENDERING_POSITION = 0x370B0003
    ATTACH_MIME_TAG = 0x370E001F
    MAILBOX_OWNER_NAME = 0x661C001F
    STORE_SUPPORT_MASK = 0x340D0003
    STORE_STATE = 0x340E0003


#: MSGFLAG_READ, MSGFLAG_UNMODIFIED, MSGFLAG_HASATTACH ([MS-OXCMSG] 2.2.1.6).
MSGFLAG_READ = 0x01
MSGFLAG_UNMODIFIED = 0x02
MSGFLAG_HASATTACH = 0x10

# Read flags of RopSetMessageReadFlag/RopSetReadFlags ([MS-OXCMSG] 2.2.3.10.1).
_RF_GENERATE_RECEIPT_ONLY = 0x10
_RF_CLEAR_READ_FLAG = 0x04

# Table flags ([MS-OXCFOLD] 2.2.1.13.1, 2.2.1.14.1).
_TABLE_ASSOCIATED = 0x02
_TABLE_DEPTH = 0x04

# The order of the 13 folder ids of a private logon ([MS-OXCSTOR] 2.2.1.1.3).
_LOGON_FOLDER_ROLES = (
    "root",
    "deferredAction",
    "spoolerQueue",
    "ipmSubtree",
    "inbox",
    "outbox",
    "sentItems",
    "deletedItems",
    "commonViews",
    "schedule",
    "finder",
    "views",
    "shortcuts",
)

_STRING_TYPES = (D.PtypString, D.PtypString8)
_UNICODE_CODE_PAGE = 1200
_NAMESPACE = uuid.UUID("6d617069-7072-6f78-7920-6c6162000000")


def mailboxGuid(account):
    """
    The stable MailboxGuid of an account's mailbox.

    @type account: L{str}
    @rtype: L{uuid.UUID}
    """
    return uuid.uuid5(_NAMESPACE, "mailbox:" + account.lower())


def _replicaGuid(account):
    return uuid.uuid5(_NAMESPACE, "replica:" + account.lower())


class _DoesNotFit(Exception):
    """
    A handler's response cannot fit the space left in the output buffer.

    @ivar size: how many bytes the response needs.
    """

    def __init__(self, size):
        super().__init__(size)
        self.size = size


class NamedPropertyMap:
    """
    The named properties of one mailbox ([MS-OXCPRPT] 3.2.5.8): a
    PropertyName maps to a property id from 0x8000 up, created on demand.
    """

    def __init__(self):
        self._ids = {}
        self._names = {}

    @staticmethod
    def _key(name):
        guid = name.guid
        if name.kind == D.MNID_ID:
            return (D.MNID_ID, guid, name.lid)
        return (D.MNID_STRING, guid, (name.name or "").lower())

    def idOf(self, name, create=False):
        """
        The property id of a name.

        @type name: L{mapiproxy.mapi.oxcdata.PropertyName}
        @param create: allocate an id when the name has none.
        @return: the id, or L{None}.
        @rtype: L{int} or L{None}
        """
        if name.kind not in (D.MNID_ID, D.MNID_STRING):
            return None
        key = self._key(name)
        found = self._ids.get(key)
        if found is None and create and len(self._ids) < 0x7FFE:
            found = 0x8000 + len(self._ids)
            self._ids[key] = found
            self._names[found] = D.PropertyName(name.kind, name.guid, name.lid, name.name)
        return found

    def nameOf(self, propertyId):
        """
        @return: the L{PropertyName} of an id, or L{None}.
        """
        return self._names.get(propertyId)


@dataclass(frozen=True)
class StreamKey:
    """
    Which property stream of which message (or attachment) a RopReadStream
    read ([MS-OXCROPS] 2.2.9.2): what the lab Exchange counts per stream.

    @ivar account: the mailbox owner.
    @ivar folderId: the message's folder id.
    @ivar messageId: the message id.
    @ivar attachmentNumber: the attachment's number (PidTagAttachNumber),
        or L{None} for a stream of the message itself.
    @ivar propertyTag: the PropertyTag of RopOpenStream.
    """

    account: str
    folderId: int
    messageId: int
    attachmentNumber: Optional[int]
    propertyTag: int


# -- the objects of the handle table -----------------------------------------


class _Logon:
    kind = "logon"

    def __init__(self, logonId):
        self.logonId = logonId


class _FolderObject:
    kind = "folder"

    def __init__(self, folder):
        self.folder = folder


class _MessageObject:
    kind = "message"

    def __init__(self, message):
        self.message = message


class _AttachmentObject:
    kind = "attachment"

    def __init__(self, message, attachment):
        self.message = message
        self.attachment = attachment


class _Subscription:
    kind = "subscription"

    def __init__(self, logonId, types, folderId):
        self.logonId = logonId
        self.types = types
        self.folderId = folderId


class _Stream:
    """
    A read-only stream over bytes or a seekable file.
    """

    kind = "stream"

    def __init__(self, size, data=None, opener=None, key=None):
        self.size = size
        self.key = key
        self.position = 0
        self._data = data
        self._opener = opener
        self._file = None

    def read(self, count):
        count = max(0, min(count, self.size - self.position))
        if count == 0:
            return b""
        if self._data is not None:
            chunk = self._data[self.position : self.position + count]
        else:
            if self._file is None:
                self._file = self._opener()
            self._file.seek(self.position)
            chunk = self._file.read(count)
        self.position += len(chunk)
        return chunk

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


class _Table:
    """
    A hierarchy, contents or attachment table ([MS-OXCTABL]): the objects
    of its rows, the columns, sort order, restriction and cursor.
    """

    kind = "table"

    def __init__(self, source, session):
        self._source = source
        self._session = session
        self.columns = None
        self.sortOrders = []
        self.restriction = None
        self.position = 0

    def rows(self):
        items = list(self._source())
        if self.restriction is not None:
            items = [i for i in items if _matches(self.restriction, self._session._props(i))]
        for order in reversed(self.sortOrders):
            tag = order.tag
            descending = bool(order.order & 0x01)

            def key(item, tag=tag):
                value = self._session._props(item).get(D.propertyId(tag))
                return (value is None, _sortable(value))

            items.sort(key=key, reverse=descending)
        return items


def _sortable(entry):
    if entry is None:
        return ""
    value = entry[1]
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, (bytes, bool, int)):
        return value
    return str(value)


def _matches(restriction, props):
    """
    Whether a row's properties satisfy a restriction ([MS-OXCDATA] 2.12):
    And, Or, Not, Exist, Property, BitMask and Content are evaluated.

    @raise NotImplementedError: for other kinds.
    """
    if isinstance(restriction, D.AndRestriction):
        return all(_matches(r, props) for r in restriction.restricts)
    if isinstance(restriction, D.OrRestriction):
        return any(_matches(r, props) for r in restriction.restricts)
    if isinstance(restriction, D.NotRestriction):
        return not _matches(restriction.restriction, props)
    if isinstance(restriction, D.ExistRestriction):
        return D.propertyId(restriction.propTag) in props
    if isinstance(restriction, D.BitMaskRestriction):
        entry = props.get(D.propertyId(restriction.propTag))
        hit = entry is not None and isinstance(entry[1], int) and bool(entry[1] & restriction.mask)
        return hit if restriction.bitmapRelOp == 1 else not hit
    if isinstance(restriction, D.PropertyRestriction):
        entry = props.get(D.propertyId(restriction.propertyTag))
        if entry is None:
            return False
        return _compare(restriction.relOp, entry[1], restriction.taggedValue.value)
    if isinstance(restriction, D.ContentRestriction):
        entry = props.get(D.propertyId(restriction.propertyTag))
        if entry is None or not isinstance(entry[1], str):
            return False
        have, want = entry[1], str(restriction.taggedValue.value)
        if restriction.fuzzyLevelHigh & 0x0003:
            have, want = have.lower(), want.lower()
        level = restriction.fuzzyLevelLow & 0x0F
        if level == 0:
            return have == want
        if level == 1:
            return want in have
        return have.startswith(want)
    raise NotImplementedError(type(restriction).__name__)


def _supported(restriction):
    """
    Whether L{_matches} can evaluate every node of a restriction.
    """
    if isinstance(restriction, (D.AndRestriction, D.OrRestriction)):
        return all(_supported(r) for r in restriction.restricts)
    if isinstance(restriction, D.NotRestriction):
        return _supported(restriction.restriction)
    return isinstance(
        restriction,
        (D.ExistRestriction, D.BitMaskRestriction, D.PropertyRestriction, D.ContentRestriction),
    )


def _compare(relOp, have, want):
    if isinstance(have, str) and isinstance(want, str):
        have, want = have.lower(), want.lower()
    try:
        return {
            0: have < want,
            1: have <= want,
            2: have > want,
            3: have >= want,
            4: have == want,
            5: have != want,
        }[relOp]
    except (KeyError, TypeError):
        return False


# -- the session --------------------------------------------------------------


class MailboxSession:
    """
    One user's ROP session on a mailbox.

    @ivar account: the user's account name.
    @ivar sessionIndex: the session index (C{picxr}) of RopPending.
    @ivar onNotification: called without arguments when a notification is
        queued (EMSMDB wakes the session's EcDoAsyncWaitEx), or L{None}.
    @ivar onStreamRead: called with a L{StreamKey} and the number of bytes
        after each RopReadStream on a message or attachment stream, or
        L{None}.
    """

    _log = Logger()

    def __init__(self, store, account, namedProperties=None, sessionIndex=0, now=None):
        """
        @param store: the store.
        @type store: L{mapiproxy.server.store.Store}
        @param account: the authenticated user, owner of the mailbox.
        @type account: L{str}
        @param namedProperties: the mailbox's named property map (shared by
            the user's sessions).
        @type namedProperties: L{NamedPropertyMap}
        @param sessionIndex: the session index.
        @param now: returns the current aware L{datetime.datetime}.
        """
        self.store = store
        self.account = account
        self.user = store.user(account)
        self.mailbox = store.mailbox(account)
        self.namedProperties = namedProperties if namedProperties is not None else NamedPropertyMap()
        self.sessionIndex = sessionIndex
        self.onNotification = None
        self.onStreamRead = None
        self._now = now or (lambda: datetime.datetime.now(datetime.timezone.utc))
        self._objects = {}
        self._nextHandle = 1
        self._pending = []
        self._ropContext = R.RopContext()
        self._mailboxGuid = mailboxGuid(account)
        self._replGuid = _replicaGuid(account)

    # -- public API ---------------------------------------------------------

    @property
    def notificationsPending(self):
        """
        Whether RopNotify responses wait for the next ROP buffer.

        @rtype: L{bool}
        """
        return bool(self._pending)

    @property
    def openHandles(self):
        """
        How many server objects are open.

        @rtype: L{int}
        """
        return len(self._objects)

    def execute(self, payload, maxSize):
        """
        Run the ROP requests of one ROP buffer ([MS-OXCROPS] 2.2.1).

        @param payload: the plain ROP input buffer (RopSize, RopsList,
            ServerObjectHandleTable).
        @type payload: L{bytes}
        @param maxSize: the largest ROP output buffer allowed.
        @type maxSize: L{int}
        @return: the ROP output buffer.
        @rtype: L{bytes}
        @raise MapiBufferError: the buffer or a ROP in it does not decode
            (the caller answers ecRpcFormat); nothing was executed.
        """
        inBuffer = RopBuffer.decode(payload)
        requests = R.decodeRequests(inBuffer.rops, inBuffer.handles, self._ropContext)
        for request in requests:
            if isinstance(request, R.UnknownRop):
                raise RopError("undecodable ROP %s: %s" % (request.NAME, request.error))
        inHandles = list(inBuffer.handles)
        outHandles = list(inHandles)
        budget = maxSize - 2 - 4 * len(outHandles)
        parts = []
        used = 0
        for position, request in enumerate(requests):
            self._space = budget - used
            try:
                response = self._run(request, inHandles, outHandles)
            except _DoesNotFit as e:
                needed = e.size
            else:
                if response is None:
                    continue
                encoded = self._encode(response, request, outHandles, inHandles)
                needed = len(encoded)
            if used + needed > budget:
                rest = R.encodeRequests(requests[position:], R.RopContext(), handles=inHandles)
                tooSmall = N.BufferTooSmallResponse(
                    sizeNeeded=min(0xFFFF, 2 + used + needed + 4 * len(outHandles)),
                    requestBuffers=rest,
                )
                parts.append(self._encode(tooSmall, None, outHandles, inHandles))
                break
            parts.append(encoded)
            used += len(encoded)
        else:
            parts.extend(self._notifications(budget - used, outHandles, inHandles))
        return RopBuffer(b"".join(parts), outHandles).encode()

    def deliver(self, message):
        """
        Queue the notifications a new message raises for the subscriptions
        of this session ([MS-OXCNOTIF] 3.2.5.1): NewMail and
        ObjectCreated, for its folder or the whole store.

        @param message: the new message.
        @type message: L{mapiproxy.server.store.Message}
        @return: how many notifications were queued.
        @rtype: L{int}
        """
        queued = 0
        folderId = message.folder.id
        for handle, obj in sorted(self._objects.items()):
            if obj.kind != "subscription":
                continue
            if obj.folderId is not None and obj.folderId != folderId:
                continue
            if obj.types & N.NOTIFY_NEW_MAIL:
                data = N.NotificationData(
                    notificationFlags=N.NOTIFY_NEW_MAIL | N.NOTIFY_MESSAGE,
                    folderId=folderId,
                    messageId=message.id,
                    messageFlags=self._messageFlags(message),
                    unicodeFlag=1,
                    messageClass=message.messageClass,
                )
                self._pending.append(N.NotifyResponse(notificationHandle=handle, logonId=obj.logonId, notificationData=data))
                queued += 1
            if obj.types & N.NOTIFY_OBJECT_CREATED:
                data = N.NotificationData(
                    notificationFlags=N.NOTIFY_OBJECT_CREATED | N.NOTIFY_MESSAGE,
                    folderId=folderId,
                    messageId=message.id,
                    tags=[],
                )
                self._pending.append(N.NotifyResponse(notificationHandle=handle, logonId=obj.logonId, notificationData=data))
                queued += 1
        if queued and self.onNotification is not None:
            self.onNotification()
        return queued

    def close(self):
        """
        Release every object (open stream files are closed).
        """
        for obj in self._objects.values():
            if obj.kind == "stream":
                obj.close()
        self._objects.clear()
        self._pending = []

    # -- machinery ----------------------------------------------------------

    def _encode(self, response, request, outHandles, inHandles):
        requests = [request] if request is not None else None
        try:
            return R.encodeResponses([response], requests, R.RopContext(), handles=outHandles, requestHandles=inHandles)
        except RopError:
            if request is None or response.returnValue != 0:
                raise
            self._log.failure("cannot encode the {rop} response", rop=response.NAME)
        failed = type(response)(handleIndex=response.handleIndex, returnValue=EC_ERROR)
        return R.encodeResponses([failed], requests, R.RopContext(), handles=outHandles, requestHandles=inHandles)

    def _notifications(self, space, outHandles, inHandles):
        parts = []
        pendingResponse = self._encode(N.PendingResponse(sessionIndex=self.sessionIndex & 0xFFFF), None, outHandles, inHandles)
        while self._pending:
            encoded = self._encode(self._pending[0], None, outHandles, inHandles)
            reserve = len(pendingResponse) if len(self._pending) > 1 else 0
            if len(encoded) + reserve > space:
                break
            parts.append(encoded)
            space -= len(encoded)
            self._pending.pop(0)
        if self._pending and len(pendingResponse) <= space:
            parts.append(pendingResponse)
        return parts

    def _allocate(self, obj):
        handle = self._nextHandle
        self._nextHandle = handle + 1 if handle + 1 < NO_HANDLE else 1
        self._objects[handle] = obj
        return handle

    def _object(self, handles, index, kinds=None):
        if not 0 <= index < len(handles):
            return None
        obj = self._objects.get(handles[index])
        if obj is None or (kinds is not None and obj.kind not in kinds):
            return None
        return obj

    def _run(self, request, inHandles, outHandles):
        if request.ROP_ID == 0x01:
            self._release(outHandles, request.inputHandleIndex)
            return None
        out = getattr(request, "outputHandleIndex", None)
        if out is not None and 0 <= out < len(outHandles):
            outHandles[out] = NO_HANDLE
        responseClass = R.RESPONSE_CLASSES.get(request.ROP_ID)
        handleIndex = out if out is not None else request.inputHandleIndex
        handler = getattr(self, "_rop%s" % (request.NAME[3:],), None)
        if handler is None:
            code = EC_NOT_SUPPORTED
            if request.ROP_ID != 0xFE and self._object(outHandles, request.inputHandleIndex) is None:
                code = EC_NULL_OBJECT
            return responseClass(handleIndex=handleIndex, returnValue=code)
        try:
            result = handler(request, outHandles)
        except _RopFailure as failure:
            return responseClass(handleIndex=handleIndex, returnValue=failure.code)
        except (_DoesNotFit, MapiBufferError):
            raise
        except Exception:
            self._log.failure("{rop} failed on the mailbox of {account}", rop=request.NAME, account=self.account)
            return responseClass(handleIndex=handleIndex, returnValue=EC_ERROR)
        if isinstance(result, tuple):
            response, created = result
            if out is not None and 0 <= out < len(outHandles):
                outHandles[out] = self._allocate(created)
        else:
            response = result
        response.handleIndex = handleIndex
        return response

    def _release(self, handles, index):
        if 0 <= index < len(handles):
            obj = self._objects.pop(handles[index], None)
            if obj is not None and obj.kind == "stream":
                obj.close()
            if obj is not None:
                self._pending = [p for p in self._pending if p.notificationHandle != handles[index]]

    def _need(self, handles, index, *kinds):
        obj = self._object(handles, index, kinds or None)
        if obj is None:
            raise _RopFailure(EC_NULL_OBJECT)
        return obj

    # -- properties ---------------------------------------------------------

    def _messageFlags(self, message):
        flags = MSGFLAG_UNMODIFIED
        if message.read:
            flags |= MSGFLAG_READ
        if message.attachments:
            flags |= MSGFLAG_HASATTACH
        return flags

    def _folderEntryId(self, folder):
        return D.FolderEntryId(
            flags=0,
            providerUid=self._mailboxGuid.bytes_le,
            folderType=0x0001,
            databaseGuid=self._replGuid,
            globalCounter=splitId(folder.id)[1],
        ).toBytes()

    def _messageEntryId(self, message):
        return D.MessageEntryId(
            flags=0,
            providerUid=self._mailboxGuid.bytes_le,
            messageType=0x0007,
            folderDatabaseGuid=self._replGuid,
            folderGlobalCounter=splitId(message.folder.id)[1],
            messageDatabaseGuid=self._replGuid,
            messageGlobalCounter=splitId(message.id)[1],
        ).toBytes()

    def _attachmentSize(self, attachment):
        try:
            return attachment.size
        except OSError:
            return 0

    def _props(self, obj):
        """
        The properties of a store object: property id -> (type, value).
        """
        if isinstance(obj, tuple):
            kind, item = obj
        else:
            kind, item = obj.kind, getattr(obj, obj.kind, None)
        T_ = PropertyTags
        props = {}

        def put(tag, value):
            if value is not None:
                props[D.propertyId(tag)] = (D.propertyType(tag), value)

        if kind == "folder":
            folder = item
            put(T_.FID, folder.id)
            put(T_.PARENT_FID, folder.parent.id if folder.parent else 0)
            put(T_.INST_ID, folder.id)
            put(T_.INSTANCE_NUM, 0)
            put(T_.DISPLAY_NAME, folder.displayName)
            put(T_.CONTENT_COUNT, len(folder.messages))
            put(T_.CONTENT_UNREAD, folder.unreadCount)
            put(T_.SUBFOLDERS, bool(folder.children))
            put(T_.FOLDER_CHILD_COUNT, len(folder.children))
            put(T_.FOLDER_TYPE, 0 if folder.parent is None else 1)
            put(T_.CONTAINER_CLASS, folder.containerClass or None)
            put(T_.OBJECT_TYPE, 3)
            put(T_.ENTRYID, self._folderEntryId(folder))
            put(T_.RECORD_KEY, self._folderEntryId(folder))
        elif kind == "message":
            message = item
            sender = message.sender
            put(T_.MID, message.id)
            put(T_.FID, message.folder.id)
            put(T_.INST_ID, message.id)
            put(T_.INSTANCE_NUM, 0)
            put(T_.MESSAGE_CLASS, message.messageClass)
            put(T_.SUBJECT, message.subject)
            put(T_.NORMALIZED_SUBJECT, message.subject)
            put(T_.SUBJECT_PREFIX, "")
            put(T_.DISPLAY_NAME, message.subject)
            put(T_.IMPORTANCE, message.importance)
            put(T_.BODY, message.body)
            if sender is not None:
                for name, email, kindTag in (
                    (T_.SENDER_NAME, T_.SENDER_EMAIL_ADDRESS, T_.SENDER_ADDRTYPE),
                    (T_.SENT_REPRESENTING_NAME, T_.SENT_REPRESENTING_EMAIL_ADDRESS, T_.SENT_REPRESENTING_ADDRTYPE),
                ):
                    put(name, sender.name)
                    put(email, sender.email)
                    put(kindTag, "SMTP")
            for tag, recipientKind in ((T_.DISPLAY_TO, "to"), (T_.DISPLAY_CC, "cc"), (T_.DISPLAY_BCC, "bcc")):
                put(tag, "; ".join(r.name for r in message.recipientsOf(recipientKind)))
            if message.sent is not None:
                put(T_.CLIENT_SUBMIT_TIME, toFileTime(message.sent))
                put(T_.CREATION_TIME, toFileTime(message.sent))
            if message.received is not None:
                put(T_.MESSAGE_DELIVERY_TIME, toFileTime(message.received))
                put(T_.LAST_MODIFICATION_TIME, toFileTime(message.received))
            put(T_.MESSAGE_FLAGS, self._messageFlags(message))
            put(T_.HASATTACH, bool(message.attachments))
            size = 2 * (len(message.subject) + len(message.body)) + 512
            size += sum(self._attachmentSize(a) for a in message.attachments)
            put(T_.MESSAGE_SIZE, min(size, 0x7FFFFFFF))
            put(T_.OBJECT_TYPE, 5)
            put(T_.ENTRYID, self._messageEntryId(message))
            put(T_.RECORD_KEY, self._messageEntryId(message))
        elif kind == "attachment":
            attachment = item if not isinstance(obj, _AttachmentObject) else obj.attachment
            put(T_.ATTACH_NUM, attachment.number)
            put(T_.INST_ID, attachment.number)
            put(T_.INSTANCE_NUM, 0)
            put(T_.DISPLAY_NAME, attachment.name)
            put(T_.ATTACH_FILENAME, attachment.name)
            put(T_.ATTACH_LONG_FILENAME, attachment.name)
            put(T_.ATTACH_MIME_TAG, attachment.mimeType)
            put(T_.ATTACH_METHOD, 1)
            put(T_.ATTACH_SIZE, min(self._attachmentSize(attachment), 0x7FFFFFFF))
            put(T_.RENDERING_POSITION, 0xFFFFFFFF)
            put(T_.OBJECT_TYPE, 7)
        elif kind == "logon":
            put(T_.DISPLAY_NAME, "Mailbox - %s" % (self.user.displayName,))
            put(T_.MAILBOX_OWNER_NAME, self.user.displayName)
            put(T_.STORE_SUPPORT_MASK, 0x00040E79)
            put(T_.STORE_STATE, 0)
            put(T_.OBJECT_TYPE, 1)
        return props

    def _value(self, obj, props, tag, sizeLimit=MAX_VALUE_SIZE):
        """
        One property as a row wants it.

        @return: C{(type, flag, value)}: flag L{D.FLAG_VALUE} with the value
            converted to the requested type, or L{D.FLAG_ERROR} with an
            error code.
        """
        wanted = D.propertyType(tag)
        propId = D.propertyId(tag)
        entry = props.get(propId)
        if entry is None:
            if propId == D.propertyId(PropertyTags.ATTACH_DATA_BIN) and isinstance(obj, _AttachmentObject):
                return D.PtypErrorCode, D.FLAG_ERROR, EC_TOO_BIG
            return D.PtypErrorCode, D.FLAG_ERROR, EC_NOT_FOUND
        native, value = entry
        if wanted == D.PtypUnspecified:
            wanted = native
        if wanted != native:
            if not (native in _STRING_TYPES and wanted in _STRING_TYPES):
                return D.PtypErrorCode, D.FLAG_ERROR, EC_INVALID_TYPE
        if wanted == D.PtypString8:
            value = value.encode("latin-1", "replace").decode("latin-1")
        if isinstance(value, (str, bytes)) and len(value) * (2 if isinstance(value, str) else 1) > sizeLimit:
            return D.PtypErrorCode, D.FLAG_ERROR, EC_TOO_BIG
        return wanted, D.FLAG_VALUE, value

    def _row(self, obj, tags, sizeLimit=MAX_VALUE_SIZE):
        props = self._props(obj)
        cells = [self._value(obj, props, tag, sizeLimit) for tag in tags]
        flagged = any(flag != D.FLAG_VALUE for _, flag, _ in cells)
        if not flagged:
            values = []
            for tag, (ptype, _, value) in zip(tags, cells):
                if D.propertyType(tag) == D.PtypUnspecified:
                    values.append(D.TypedPropertyValue(ptype, value))
                else:
                    values.append(value)
            return D.PropertyRow(D.ROW_STANDARD, values)
        values = []
        for tag, (ptype, flag, value) in zip(tags, cells):
            if D.propertyType(tag) == D.PtypUnspecified:
                values.append(D.FlaggedPropertyValueWithType(ptype, flag, value))
            else:
                values.append(D.FlaggedPropertyValue(flag, value))
        return D.PropertyRow(D.ROW_FLAGGED, values)

    # -- logon ROPs [MS-OXCSTOR] ----------------------------------------------

    def _ropLogon(self, request, handles):
        if not request.logonFlags & L.LOGON_PRIVATE:
            raise _RopFailure(EC_LOGIN_FAILURE)
        if self.mailbox is None:
            raise _RopFailure(EC_UNKNOWN_USER)
        essdn = (request.essdn or "").strip()
        if essdn and essdn.lower() != self.user.legacyDN.lower():
            known = any(u.legacyDN.lower() == essdn.lower() for u in self.store.users)
            raise _RopFailure(EC_LOGIN_PERM if known else EC_UNKNOWN_USER)
        self.mailbox.refresh()
        folderIds = []
        for role in _LOGON_FOLDER_ROLES:
            folder = self.mailbox.folderByRole(role)
            folderIds.append(folder.id if folder is not None else 0)
        now = self._now()
        logonTime = L.LogonTime(
            now.second, now.minute, now.hour, (now.weekday() + 1) % 7, now.day, now.month, now.year
        )
        response = L.LogonResponse(
            logonFlags=request.logonFlags,
            folderIds=folderIds,
            responseFlags=0x07,
            mailboxGuid=self._mailboxGuid,
            replId=REPLICA_ID,
            replGuid=self._replGuid,
            logonTime=logonTime,
            gwartTime=0,
            storeState=0,
        )
        return response, _Logon(request.logonId)

    def _ropGetReceiveFolder(self, request, handles):
        self._need(handles, request.inputHandleIndex, "logon")
        inbox = self.mailbox.folderByRole("inbox")
        if inbox is None:
            raise _RopFailure(EC_NOT_FOUND)
        cls = (request.messageClass or "")
        explicit = "IPM" if cls.upper().startswith("IPM") else ""
        return L.GetReceiveFolderResponse(folderId=inbox.id, explicitMessageClass=explicit)

    def _ropGetStoreState(self, request, handles):
        self._need(handles, request.inputHandleIndex, "logon")
        return L.GetStoreStateResponse(storeState=0)

    def _ropLongTermIdFromId(self, request, handles):
        self._need(handles, request.inputHandleIndex, "logon")
        replicaId, counter = splitId(request.objectId)
        if replicaId != REPLICA_ID:
            raise _RopFailure(EC_NOT_FOUND)
        return L.LongTermIdFromIdResponse(longTermId=D.LongTermId(self._replGuid, counter, 0))

    def _ropIdFromLongTermId(self, request, handles):
        self._need(handles, request.inputHandleIndex, "logon")
        longTermId = request.longTermId
        if longTermId is None or longTermId.databaseGuid != self._replGuid:
            raise _RopFailure(EC_NOT_FOUND)
        return L.IdFromLongTermIdResponse(objectId=makeId(longTermId.globalCounter))

    # -- folders [MS-OXCFOLD] -------------------------------------------------

    def _ropOpenFolder(self, request, handles):
        self._need(handles, request.inputHandleIndex, "logon", "folder")
        folder = self.mailbox.folder(request.folderId)
        if folder is None:
            raise _RopFailure(EC_NOT_FOUND)
        return L.OpenFolderResponse(hasRules=0, isGhosted=0), _FolderObject(folder)

    def _ropGetHierarchyTable(self, request, handles):
        folder = self._need(handles, request.inputHandleIndex, "folder").folder
        if request.tableFlags & _TABLE_DEPTH:
            source = lambda: [("folder", f) for f in list(folder.walk())[1:]]
        else:
            source = lambda: [("folder", f) for f in folder.children]
        table = _Table(source, self)
        return L.GetHierarchyTableResponse(rowCount=len(table.rows())), table

    def _ropGetContentsTable(self, request, handles):
        folder = self._need(handles, request.inputHandleIndex, "folder").folder
        if request.tableFlags & _TABLE_ASSOCIATED:
            source = lambda: []
        else:
            source = lambda: [("message", m) for m in folder.messages]
        table = _Table(source, self)
        return L.GetContentsTableResponse(rowCount=len(table.rows())), table

    def _ropSetReadFlags(self, request, handles):
        folder = self._need(handles, request.inputHandleIndex, "folder").folder
        partial = False
        for messageId in request.messageIds:
            message = self.mailbox.message(messageId)
            if message is None or message.folder is not folder:
                partial = True
                continue
            if not self._applyReadFlags(message, request.readFlags):
                partial = True
        return M.SetReadFlagsResponse(partialCompletion=int(partial))

    # -- tables [MS-OXCTABL] ---------------------------------------------------

    def _table(self, handles, index):
        return self._need(handles, index, "table")

    def _ropSetColumns(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        table.columns = list(request.propertyTags)
        return T.SetColumnsResponse(tableStatus=T.TBLSTAT_COMPLETE)

    def _ropSortTable(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        table.sortOrders = list(request.sortOrders)
        table.position = 0
        return T.SortTableResponse(tableStatus=T.TBLSTAT_COMPLETE)

    def _ropRestrict(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        restriction = request.restriction
        if request.restrictionTail or (restriction is not None and not _supported(restriction)):
            raise _RopFailure(EC_NOT_SUPPORTED)
        table.restriction = restriction
        table.position = 0
        return T.RestrictResponse(tableStatus=T.TBLSTAT_COMPLETE)

    def _ropGetStatus(self, request, handles):
        self._table(handles, request.inputHandleIndex)
        return T.GetStatusResponse(tableStatus=T.TBLSTAT_COMPLETE)

    def _ropResetTable(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        table.columns = None
        table.sortOrders = []
        table.restriction = None
        table.position = 0
        return T.ResetTableResponse()

    def _ropQueryColumnsAll(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        tags = set()
        for item in table.rows():
            for propId, (ptype, _) in self._props(item).items():
                tags.add((propId << 16) | ptype)
        return T.QueryColumnsAllResponse(propertyTags=sorted(tags))

    def _ropQueryPosition(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        count = len(table.rows())
        return T.QueryPositionResponse(numerator=min(table.position, count), denominator=count)

    def _ropSeekRow(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        count = len(table.rows())
        start = {T.BOOKMARK_BEGINNING: 0, T.BOOKMARK_CURRENT: min(table.position, count), T.BOOKMARK_END: count}.get(request.origin)
        if start is None:
            raise _RopFailure(EC_INVALID_PARAM)
        target = max(0, min(count, start + request.rowCount))
        table.position = target
        sought = target - start
        return T.SeekRowResponse(hasSoughtLess=int(sought != request.rowCount), rowsSought=sought & 0xFFFFFFFF)

    def _ropAbort(self, request, handles):
        self._table(handles, request.inputHandleIndex)
        raise _RopFailure(EC_UNABLE_TO_ABORT)

    def _ropQueryRows(self, request, handles):
        table = self._table(handles, request.inputHandleIndex)
        if table.columns is None:
            raise _RopFailure(EC_NOT_INITIALIZED)
        rows = table.rows()
        count = len(rows)
        position = min(table.position, count)
        forward = bool(request.forwardRead)
        if forward:
            picked = rows[position : position + request.rowCount]
        else:
            picked = list(reversed(rows[max(0, position - request.rowCount) : position]))
        space = self._space - 6 - 3
        built = []
        for item in picked:
            row = self._row(item, table.columns)
            w = R.Writer()
            row.write(w, table.columns)
            if len(w) > space:
                if not built:
                    raise _DoesNotFit(6 + 3 + len(w))
                break
            space -= len(w)
            built.append(row)
        if not request.queryRowsFlags & T.QUERY_ROWS_NO_ADVANCE:
            position = position + len(built) if forward else position - len(built)
            table.position = position
        if position <= 0:
            origin = T.BOOKMARK_BEGINNING
        elif position >= count:
            origin = T.BOOKMARK_END
        else:
            origin = T.BOOKMARK_CURRENT
        request.columns = list(table.columns)
        return T.QueryRowsResponse(origin=origin, rows=built)

    # -- properties [MS-OXCPRPT] -----------------------------------------------

    def _anyObject(self, handles, index):
        return self._need(handles, index, "logon", "folder", "message", "attachment")

    def _ropGetPropertiesSpecific(self, request, handles):
        obj = self._anyObject(handles, request.inputHandleIndex)
        limit = request.propertySizeLimit or MAX_VALUE_SIZE
        return P.GetPropertiesSpecificResponse(rowData=self._row(obj, request.propertyTags, min(limit, MAX_VALUE_SIZE)))

    def _ropGetPropertiesAll(self, request, handles):
        obj = self._anyObject(handles, request.inputHandleIndex)
        limit = min(request.propertySizeLimit or MAX_VALUE_SIZE, MAX_VALUE_SIZE)
        props = self._props(obj)
        values = []
        for propId, (ptype, _) in sorted(props.items()):
            tag = (propId << 16) | ptype
            valueType, flag, value = self._value(obj, props, tag, limit)
            if flag == D.FLAG_VALUE:
                values.append(D.TaggedPropertyValue(tag, value))
            else:
                values.append(D.TaggedPropertyValue((propId << 16) | D.PtypErrorCode, value))
        return P.GetPropertiesAllResponse(propertyValues=values)

    def _ropGetPropertiesList(self, request, handles):
        obj = self._anyObject(handles, request.inputHandleIndex)
        tags = [(propId << 16) | ptype for propId, (ptype, _) in sorted(self._props(obj).items())]
        if isinstance(obj, _AttachmentObject):
            tags.append(PropertyTags.ATTACH_DATA_BIN)
        return P.GetPropertiesListResponse(propertyTags=tags)

    def _ropGetPropertyIdsFromNames(self, request, handles):
        self._anyObject(handles, request.inputHandleIndex)
        create = bool(request.flags & P.CREATE_NAMED_PROPERTIES)
        ids = []
        for name in request.propertyNames:
            found = self.namedProperties.idOf(name, create)
            ids.append(found or 0)
        code = EC_WARN_WITH_ERRORS if 0 in ids else EC_SUCCESS
        return P.GetPropertyIdsFromNamesResponse(returnValue=code, propertyIds=ids)

    def _ropGetNamesFromPropertyIds(self, request, handles):
        self._anyObject(handles, request.inputHandleIndex)
        names = []
        missing = False
        for propertyId in request.propertyIds:
            name = self.namedProperties.nameOf(propertyId)
            if name is None:
                missing = True
                name = D.PropertyName(D.MNID_NONE)
            names.append(name)
        code = EC_WARN_WITH_ERRORS if missing else EC_SUCCESS
        return P.GetNamesFromPropertyIdsResponse(returnValue=code, propertyNames=names)

    # -- messages [MS-OXCMSG] --------------------------------------------------

    def _recipientRow(self, recipient):
        user = self.store.user(recipient.account) if recipient.account else None
        flags = D.RECIPIENT_U | D.RECIPIENT_D | D.RECIPIENT_T
        if user is not None:
            flags |= D.RECIPIENT_TYPE_X500DN
        else:
            flags |= D.RECIPIENT_TYPE_SMTP | D.RECIPIENT_E
        return D.RecipientRow(
            recipientFlags=flags,
            addressPrefixUsed=0 if user is not None else None,
            displayType=0 if user is not None else None,
            x500dn=user.legacyDN if user is not None else None,
            emailAddress=None if user is not None else recipient.email,
            displayName=recipient.name,
            transmittableDisplayName=recipient.name,
            recipientColumnCount=len(_RECIPIENT_COLUMNS),
            recipientProperties=D.PropertyRow(D.ROW_STANDARD, [recipient.email, 0]),
        )

    def _recipients(self, message):
        kinds = {"to": 1, "cc": 2, "bcc": 3}
        return [(kinds.get(r.kind, 1), r) for r in message.recipients]

    def _messageInfo(self, message):
        rows = []
        space = self._space - 64 - len(message.subject) * 2
        for kind, recipient in self._recipients(message)[:255]:
            row = M.OpenRecipientRow(
                recipientType=kind, codePageId=_UNICODE_CODE_PAGE, reserved=0, recipientRow=self._recipientRow(recipient)
            )
            w = R.Writer()
            row.write(w, _RECIPIENT_COLUMNS)
            if len(w) > space:
                break
            space -= len(w)
            rows.append(row)
        subject = message.subject
        return dict(
            hasNamedProperties=0,
            subjectPrefix=D.TypedString(D.STRING_EMPTY, ""),
            normalizedSubject=D.TypedString(D.STRING_UNICODE, subject) if subject else D.TypedString(D.STRING_EMPTY, ""),
            recipientCount=len(message.recipients),
            recipientColumns=list(_RECIPIENT_COLUMNS),
            recipientRows=rows,
        )

    def _ropOpenMessage(self, request, handles):
        self._need(handles, request.inputHandleIndex, "logon", "folder")
        message = self.mailbox.message(request.messageId)
        if message is None or message.folder.id != request.folderId:
            raise _RopFailure(EC_NOT_FOUND)
        return M.OpenMessageResponse(**self._messageInfo(message)), _MessageObject(message)

    def _ropReloadCachedInformation(self, request, handles):
        message = self._need(handles, request.inputHandleIndex, "message").message
        return M.ReloadCachedInformationResponse(**self._messageInfo(message))

    def _ropReadRecipients(self, request, handles):
        message = self._need(handles, request.inputHandleIndex, "message").message
        recipients = self._recipients(message)
        if request.rowId >= len(recipients):
            raise _RopFailure(EC_NOT_FOUND)
        rows = []
        space = self._space - 7
        for rowId in range(request.rowId, min(len(recipients), request.rowId + 255)):
            kind, recipient = recipients[rowId]
            w = R.Writer()
            self._recipientRow(recipient).write(w, _RECIPIENT_COLUMNS)
            row = M.ReadRecipientRow(rowId, kind, _UNICODE_CODE_PAGE, 0, w.getvalue())
            if len(w) + 11 > space:
                if not rows:
                    raise _DoesNotFit(7 + 11 + len(w))
                break
            space -= len(w) + 11
            rows.append(row)
        return M.ReadRecipientsResponse(recipientRows=rows)

    def _applyReadFlags(self, message, readFlags):
        if readFlags & _RF_GENERATE_RECEIPT_ONLY:
            return True
        wantRead = not readFlags & _RF_CLEAR_READ_FLAG
        if message.read == wantRead:
            return True
        try:
            self.store.markRead(message, wantRead)
        except (OSError, ConfigError):
            return False
        return True

    def _ropSetMessageReadFlag(self, request, handles):
        message = self._need(handles, request.messageHandleIndex, "message").message
        if not self._applyReadFlags(message, request.readFlags):
            raise _RopFailure(EC_ACCESS_DENIED)
        return M.SetMessageReadFlagResponse(readStatusChanged=0)

    def _ropGetAttachmentTable(self, request, handles):
        message = self._need(handles, request.inputHandleIndex, "message").message
        table = _Table(lambda: [("attachment", a) for a in message.attachments], self)
        return M.GetAttachmentTableResponse(), table

    def _ropGetValidAttachments(self, request, handles):
        message = self._need(handles, request.inputHandleIndex, "message").message
        return M.GetValidAttachmentsResponse(attachmentIdArray=[a.number for a in message.attachments])

    def _ropOpenAttachment(self, request, handles):
        message = self._need(handles, request.inputHandleIndex, "message").message
        for attachment in message.attachments:
            if attachment.number == request.attachmentId:
                return M.OpenAttachmentResponse(), _AttachmentObject(message, attachment)
        raise _RopFailure(EC_NOT_FOUND)

    # -- streams [MS-OXCPRPT] 3.2.5.13 -----------------------------------------

    def _ropOpenStream(self, request, handles):
        obj = self._anyObject(handles, request.inputHandleIndex)
        if request.openModeFlags in (P.STREAM_READ_WRITE, P.STREAM_CREATE):
            raise _RopFailure(EC_ACCESS_DENIED)
        tag = request.propertyTag
        if isinstance(obj, _AttachmentObject) and tag == PropertyTags.ATTACH_DATA_BIN:
            attachment = obj.attachment
            try:
                size = attachment.size
            except OSError:
                raise _RopFailure(EC_NOT_FOUND)
            key = StreamKey(self.account, obj.message.folder.id, obj.message.id, attachment.number, tag)
            stream = _Stream(size, opener=attachment.open, key=key)
        else:
            props = self._props(obj)
            entry = props.get(D.propertyId(tag))
            if entry is None:
                raise _RopFailure(EC_NOT_FOUND)
            native, value = entry
            wanted = D.propertyType(tag)
            if isinstance(value, str) and wanted == D.PtypString:
                data = value.encode("utf-16-le")
            elif isinstance(value, str) and wanted == D.PtypString8:
                data = value.encode("latin-1", "replace")
            elif isinstance(value, bytes) and wanted in (D.PtypBinary, D.PtypObject):
                data = value
            else:
                raise _RopFailure(EC_NOT_SUPPORTED)
            key = None
            if isinstance(obj, _MessageObject):
                key = StreamKey(self.account, obj.message.folder.id, obj.message.id, None, tag)
            stream = _Stream(len(data), data=data, key=key)
        return P.OpenStreamResponse(streamSize=min(stream.size, 0xFFFFFFFF)), stream

    def _ropReadStream(self, request, handles):
        stream = self._need(handles, request.inputHandleIndex, "stream")
        count = request.byteCount
        if count == P.READ_STREAM_USE_MAXIMUM:
            count = request.maximumByteCount or 0
        count = min(count, MAX_READ, max(0, self._space - 6 - 2))
        try:
            data = stream.read(count)
        except OSError:
            raise _RopFailure(EC_NOT_FOUND)
        if stream.key is not None and self.onStreamRead is not None:
            self.onStreamRead(stream.key, len(data))
        return P.ReadStreamResponse(data=data)

    def _ropSeekStream(self, request, handles):
        stream = self._need(handles, request.inputHandleIndex, "stream")
        base = {P.SEEK_BEGINNING: 0, P.SEEK_CURRENT: stream.position, P.SEEK_END: stream.size}.get(request.origin)
        if base is None:
            raise _RopFailure(EC_INVALID_PARAM)
        target = base + request.offset
        if target < 0 or target > 0xFFFFFFFFFFFFFFFF:
            raise _RopFailure(EC_STREAM_SEEK_ERROR)
        stream.position = target
        return P.SeekStreamResponse(newPosition=target)

    def _ropGetStreamSize(self, request, handles):
        stream = self._need(handles, request.inputHandleIndex, "stream")
        return P.GetStreamSizeResponse(streamSize=min(stream.size, 0xFFFFFFFF))

    def _ropCommitStream(self, request, handles):
        self._need(handles, request.inputHandleIndex, "stream")
        return P.CommitStreamResponse()

    # -- notifications [MS-OXCNOTIF] -------------------------------------------

    def _ropRegisterNotification(self, request, handles):
        logon = self._need(handles, request.inputHandleIndex, "logon")
        folderId = None if request.wantWholeStore else request.folderId
        if folderId is not None and self.mailbox.folder(folderId) is None:
            raise _RopFailure(EC_NOT_FOUND)
        subscription = _Subscription(logon.logonId, request.notificationTypes, folderId)
        return N.RegisterNotificationResponse(), subscription


class _RopFailure(Exception):
    """
    A ROP fails with a MAPI error code in its ReturnValue.
    """

    def __init__(self, code):
        super().__init__("0x%08x" % (code,))
        self.code = code


#: The columns of the recipient rows ([MS-OXCROPS] 2.2.6.1.2).
_RECIPIENT_COLUMNS = (PropertyTags.SMTP_ADDRESS, PropertyTags.DISPLAY_TYPE)
