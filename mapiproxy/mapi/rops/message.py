# -*- test-case-name: tests.mapi.rops.test_message -*-
"""
Message, recipient, attachment and transport ROPs ([MS-OXCROPS] 2.2.6 and
2.2.7; semantics in [MS-OXCMSG] 2.2.3 and [MS-OXOMSG] 2.2.3).

Most responses here carry a body only on success (the "success response
buffer" of [MS-OXCROPS]; the failure response buffer is the header alone).
RopSetReadFlags is the exception: its single response buffer always ends
with PartialCompletion ([MS-OXCROPS] 2.2.6.10.2).

Layouts that depend on earlier traffic:

  - The recipient rows of RopOpenMessage, RopReloadCachedInformation and
    RopOpenEmbeddedMessage are laid out in the RecipientColumns sent in the
    same response. Those columns are recorded under the message's server
    object handle (L{RopContext.handleState} C{"message:recipientColumns"}),
    and the rows of a later RopReadRecipients on that message are read with
    them. A recipient row whose columns are unknown, or that does not fill
    its RecipientRowSize exactly, is kept as its raw bytes.
  - The ClientData of a RopSetMessageReadFlag request is present only when
    the logon is a public folders logon ([MS-OXCROPS] 2.2.6.11.1): the
    LogonFlags recorded in L{RopContext.logons} decide; an unknown logon is
    taken as a private mailbox (no ClientData).

RopGetMessageStatus (0x1F) is answered with RopId 0x20 ([MS-OXCROPS]
2.2.6.9.2): such a response decodes as a L{SetMessageStatusResponse},
whose layout is the same.

Three requests put a ResponseHandleIndex where the others have their
InputHandleIndex (RopSaveChangesMessage, RopSetMessageReadFlag,
RopSaveChangesAttachment, [MS-OXCROPS] 2.2.6.3.1, 2.2.6.11.1, 2.2.6.15.1):
for them the header field C{inputHandleIndex} holds the ResponseHandleIndex
(also readable as C{responseHandleIndex}) and the body's InputHandleIndex
is C{messageHandleIndex} or C{attachmentHandleIndex}.

One-byte Booleans are kept as the byte received (nonzero is TRUE) so that
re-encoding is exact; a field that a Boolean gates is L{None} when absent.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass, field
from typing import Optional

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    LongTermId,
    RecipientRow,
    TaggedPropertyValue,
    TypedString,
)
from mapiproxy.mapi.rops.base import (
    Reader,
    RopRequest,
    RopResponse,
    ropRequest,
    ropResponse,
)

__all__ = [
    "LOGON_PRIVATE",
    "RECIPIENT_COLUMNS",
    "recipientColumnsOf",
    "OpenRecipientRow",
    "ReadRecipientRow",
    "ModifyRecipientRow",
    "OpenMessageRequest",
    "OpenMessageResponse",
    "CreateMessageRequest",
    "CreateMessageResponse",
    "SaveChangesMessageRequest",
    "SaveChangesMessageResponse",
    "RemoveAllRecipientsRequest",
    "RemoveAllRecipientsResponse",
    "ModifyRecipientsRequest",
    "ModifyRecipientsResponse",
    "ReadRecipientsRequest",
    "ReadRecipientsResponse",
    "ReloadCachedInformationRequest",
    "ReloadCachedInformationResponse",
    "SetMessageReadFlagRequest",
    "SetMessageReadFlagResponse",
    "GetMessageStatusRequest",
    "GetMessageStatusResponse",
    "SetMessageStatusRequest",
    "SetMessageStatusResponse",
    "GetAttachmentTableRequest",
    "GetAttachmentTableResponse",
    "OpenAttachmentRequest",
    "OpenAttachmentResponse",
    "CreateAttachmentRequest",
    "CreateAttachmentResponse",
    "DeleteAttachmentRequest",
    "DeleteAttachmentResponse",
    "SaveChangesAttachmentRequest",
    "SaveChangesAttachmentResponse",
    "SubmitMessageRequest",
    "SubmitMessageResponse",
    "AbortSubmitRequest",
    "AbortSubmitResponse",
    "OpenEmbeddedMessageRequest",
    "OpenEmbeddedMessageResponse",
    "SetSpoolerRequest",
    "SetSpoolerResponse",
    "SpoolerLockMessageRequest",
    "SpoolerLockMessageResponse",
    "GetAddressTypesRequest",
    "GetAddressTypesResponse",
    "TransportSendRequest",
    "TransportSendResponse",
    "TransportNewMailRequest",
    "TransportNewMailResponse",
    "GetValidAttachmentsRequest",
    "GetValidAttachmentsResponse",
    "SetReadFlagsRequest",
    "SetReadFlagsResponse",
    "GetTransportFolderRequest",
    "GetTransportFolderResponse",
    "OptionsDataRequest",
    "OptionsDataResponse",
]

#: The Private bit of RopLogon's LogonFlags ([MS-OXCSTOR] 2.2.1.1.1): set
#: for a mailbox logon, clear for a public folders logon.
LOGON_PRIVATE = 0x01

#: The name of the L{RopContext.handleState} dict that maps a message's
#: server object handle to the RecipientColumns the server last sent for it.
RECIPIENT_COLUMNS = "message:recipientColumns"

# Smallest wire sizes, to refuse counts that cannot fit before reading.
_OPEN_RECIPIENT_ROW_MIN = 7  # type u8, cpid u16, reserved u16, size u16
_READ_RECIPIENT_ROW_MIN = 11  # RowId u32 + the above
_MODIFY_RECIPIENT_ROW_MIN = 7  # RowId u32, type u8, size u16
_TAGGED_VALUE_MIN = 4  # the tag; a value may be empty (PtypNull)


def recipientColumnsOf(ctx, handle):
    """
    The RecipientColumns the server last sent for a message.

    @param ctx: The session state.
    @type ctx: L{RopContext}

    @param handle: The message's server object handle (as returned by
        L{RopContext.handleOf}), or L{None}.

    @return: The property tags, or L{None} if none were seen.
    @rtype: L{list} of L{int} or L{None}
    """
    if handle is None:
        return None
    return ctx.handleState(RECIPIENT_COLUMNS).get(handle)


def _recordColumns(ctx, handle, columns):
    if handle is not None:
        ctx.handleState(RECIPIENT_COLUMNS)[handle] = list(columns)


def _readTags(r):
    # A PropertyTagArray as ROP buffers carry it: u16 count, u32 tags.
    return r.u32Array(r.u16())


def _writeTags(w, tags):
    w.u16(len(tags))
    w.u32Array(tags)


def _readRecipientRow(r, columns):
    """
    A RecipientRowSize (u16) and the RecipientRow it measures
    ([MS-OXCDATA] 2.8.3).

    @param columns: The recipient columns, or L{None} if unknown.

    @return: A L{RecipientRow}, or the raw bytes of the row when the
        columns are unknown or the bytes do not fill the size exactly.
    """
    raw = r.bytes(r.u16())
    if columns is None:
        return raw
    inner = Reader(raw)
    try:
        row = RecipientRow.read(inner, columns)
    except RopError:
        return raw
    if inner.remaining:
        return raw
    return row


def _writeRecipientRow(w, row, columns):
    pos = w.placeholderU16()
    before = len(w)
    if isinstance(row, (bytes, bytearray)):
        w.bytes(row)
    else:
        if columns is None:
            raise RopError(
                "the recipient columns of this message are unknown: "
                "a decoded RecipientRow cannot be encoded"
            )
        row.write(w, columns)
    w.setU16(pos, len(w) - before)


@dataclass(slots=True)
class OpenRecipientRow:
    """
    One recipient of a RopOpenMessage, RopReloadCachedInformation or
    RopOpenEmbeddedMessage response ([MS-OXCROPS] 2.2.6.1.2.1).

    @ivar recipientType: The recipient type (1 To, 2 Cc, 3 Bcc, with the
        flag bits of [MS-OXCMSG] 2.2.3.1.2).
    @ivar codePageId: The code page of the 8-bit strings of the row.
    @ivar reserved: Reserved u16, kept as received.
    @ivar recipientRow: A L{RecipientRow} ([MS-OXCDATA] 2.8.3), or its raw
        bytes (the u16 RecipientRowSize is their length).
    """

    recipientType: int = 0
    codePageId: int = 0
    reserved: int = 0
    recipientRow: object = b""

    @classmethod
    def read(cls, r, columns):
        """
        @param r: The reader.
        @type r: L{Reader}
        @param columns: The response's RecipientColumns.
        @rtype: L{OpenRecipientRow}
        """
        return cls(
            recipientType=r.u8(),
            codePageId=r.u16(),
            reserved=r.u16(),
            recipientRow=_readRecipientRow(r, columns),
        )

    def write(self, w, columns):
        """
        @param w: The writer.
        @type w: L{Writer}
        @param columns: The response's RecipientColumns.
        """
        w.u8(self.recipientType)
        w.u16(self.codePageId)
        w.u16(self.reserved)
        _writeRecipientRow(w, self.recipientRow, columns)


@dataclass(slots=True)
class ReadRecipientRow:
    """
    One recipient of a RopReadRecipients response ([MS-OXCROPS]
    2.2.6.6.2.1).

    @ivar rowId: The recipient's row id.
    @ivar recipientType: The recipient type.
    @ivar codePageId: The code page of the 8-bit strings of the row.
    @ivar reserved: Reserved u16, kept as received.
    @ivar recipientRow: A L{RecipientRow}, or its raw bytes.
    """

    rowId: int = 0
    recipientType: int = 0
    codePageId: int = 0
    reserved: int = 0
    recipientRow: object = b""

    @classmethod
    def read(cls, r, columns):
        """
        @param r: The reader.
        @type r: L{Reader}
        @param columns: The message's recipient columns, or L{None}.
        @rtype: L{ReadRecipientRow}
        """
        return cls(
            rowId=r.u32(),
            recipientType=r.u8(),
            codePageId=r.u16(),
            reserved=r.u16(),
            recipientRow=_readRecipientRow(r, columns),
        )

    def write(self, w, columns):
        """
        @param w: The writer.
        @type w: L{Writer}
        @param columns: The message's recipient columns, or L{None}.
        """
        w.u32(self.rowId)
        w.u8(self.recipientType)
        w.u16(self.codePageId)
        w.u16(self.reserved)
        _writeRecipientRow(w, self.recipientRow, columns)


@dataclass(slots=True)
class ModifyRecipientRow:
    """
    One recipient of a RopModifyRecipients request ([MS-OXCROPS]
    2.2.6.5.1.1).

    @ivar rowId: The recipient's row id.
    @ivar recipientType: The recipient type.
    @ivar recipientRow: A L{RecipientRow}, its raw bytes, or L{None} when
        RecipientRowSize is 0 (the recipient is removed).
    """

    rowId: int = 0
    recipientType: int = 0
    recipientRow: object = None

    @classmethod
    def read(cls, r, columns):
        """
        @param r: The reader.
        @type r: L{Reader}
        @param columns: The request's RecipientColumns.
        @rtype: L{ModifyRecipientRow}
        """
        rowId = r.u32()
        recipientType = r.u8()
        row = _readRecipientRow(r, columns)
        if isinstance(row, bytes) and not row:
            row = None
        return cls(rowId=rowId, recipientType=recipientType, recipientRow=row)

    def write(self, w, columns):
        """
        @param w: The writer.
        @type w: L{Writer}
        @param columns: The request's RecipientColumns.
        """
        w.u32(self.rowId)
        w.u8(self.recipientType)
        if self.recipientRow is None:
            w.u16(0)
        else:
            _writeRecipientRow(w, self.recipientRow, columns)


class _SuccessBody:
    """
    Mixin of responses whose body is present only when ReturnValue is 0.
    Subclasses implement C{_readSuccess} and C{_writeSuccess}.
    """

    __slots__ = ()

    @classmethod
    def readBody(cls, r, ctx, request, header):
        if header["returnValue"] != 0:
            return cls(**header)
        return cls._readSuccess(r, ctx, request, header)

    def writeBody(self, w, ctx, request):
        if self.returnValue == 0:
            self._writeSuccess(w, ctx, request)


class _MessageInfo(_SuccessBody):
    """
    Mixin of the responses that describe an opened message
    (RopOpenMessage, RopReloadCachedInformation, RopOpenEmbeddedMessage,
    [MS-OXCROPS] 2.2.6.1.2, 2.2.6.7.2, 2.2.6.16.2): HasNamedProperties,
    SubjectPrefix and NormalizedSubject (TypedStrings, [MS-OXCDATA]
    2.11.7), RecipientCount, the RecipientColumns (u16 count, u32 tags),
    then a u8 RowCount of L{OpenRecipientRow}s laid out in those columns.

    Decoding records the columns under the message's handle (see
    L{recipientColumnsOf}); subclasses say which handle with
    C{_messageHandle}.
    """

    __slots__ = ()

    @classmethod
    def _readInfo(cls, r):
        info = {
            "hasNamedProperties": r.u8(),
            "subjectPrefix": TypedString.read(r),
            "normalizedSubject": TypedString.read(r),
            "recipientCount": r.u16(),
        }
        columns = _readTags(r)
        info["recipientColumns"] = columns
        info["recipientRows"] = r.counted(
            r.u8(),
            lambda rr: OpenRecipientRow.read(rr, columns),
            minSize=_OPEN_RECIPIENT_ROW_MIN,
        )
        return info

    def _writeInfo(self, w):
        w.bool8(self.hasNamedProperties)
        self.subjectPrefix.write(w)
        self.normalizedSubject.write(w)
        w.u16(self.recipientCount)
        _writeTags(w, self.recipientColumns)
        w.u8(len(self.recipientRows))
        for row in self.recipientRows:
            row.write(w, self.recipientColumns)

    def _record(self, ctx, request):
        if self.returnValue == 0:
            _recordColumns(
                ctx, self._messageHandle(ctx, request), self.recipientColumns
            )


def _outputHandle(ctx, handleIndex):
    """
    The handle of the object a response created: the response's handle
    table at its OutputHandleIndex (echoed as the response's handle index).
    """
    return ctx.responseHandleOf(handleIndex)


def _inputHandle(ctx, request, handleIndex):
    """
    The handle of the object a ROP worked on: the request's
    InputHandleIndex, or the response's echo of it without a request.
    """
    if request is not None:
        handleIndex = request.inputHandleIndex
    return ctx.handleOf(handleIndex)


def _emptyTypedString():
    return TypedString()


# RopOpenMessage ([MS-OXCROPS] 2.2.6.1)


@ropRequest(0x03)
@dataclass(slots=True)
class OpenMessageRequest(RopRequest):
    """
    RopOpenMessage request ([MS-OXCROPS] 2.2.6.1.1).

    @ivar outputHandleIndex: Where the message's handle goes.
    @ivar codePageId: The code page for the message's 8-bit strings.
    @ivar folderId: The folder holding the message.
    @ivar openModeFlags: 0 read-only, 1 read/write, 3 best access, 4
        open soft-deleted ([MS-OXCMSG] 2.2.3.1.1).
    @ivar messageId: The message.
    """

    outputHandleIndex: int = 0
    codePageId: int = 0
    folderId: int = 0
    openModeFlags: int = 0
    messageId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            codePageId=r.u16(),
            folderId=r.u64(),
            openModeFlags=r.u8(),
            messageId=r.u64(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u16(self.codePageId)
        w.u64(self.folderId)
        w.u8(self.openModeFlags)
        w.u64(self.messageId)


@ropResponse(0x03)
@dataclass(slots=True)
class OpenMessageResponse(_MessageInfo, RopResponse):
    """
    RopOpenMessage response ([MS-OXCROPS] 2.2.6.1.2); the handle index is
    the OutputHandleIndex. On success it describes the message (see
    L{_MessageInfo}) and records its recipient columns.

    @ivar hasNamedProperties: Whether the message has named properties.
    @ivar subjectPrefix: A L{TypedString}.
    @ivar normalizedSubject: A L{TypedString}.
    @ivar recipientCount: How many recipients the message has (may be more
        than C{recipientRows}).
    @ivar recipientColumns: The property tags of the recipient rows.
    @ivar recipientRows: L{OpenRecipientRow} items.
    """

    hasNamedProperties: int = 0
    subjectPrefix: object = field(default_factory=_emptyTypedString)
    normalizedSubject: object = field(default_factory=_emptyTypedString)
    recipientCount: int = 0
    recipientColumns: list = field(default_factory=list)
    recipientRows: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        rop = cls(**cls._readInfo(r), **header)
        rop._record(ctx, request)
        return rop

    def _writeSuccess(self, w, ctx, request):
        self._writeInfo(w)
        self._record(ctx, request)

    def _messageHandle(self, ctx, request):
        return _outputHandle(ctx, self.handleIndex)


# RopCreateMessage ([MS-OXCROPS] 2.2.6.2)


@ropRequest(0x06)
@dataclass(slots=True)
class CreateMessageRequest(RopRequest):
    """
    RopCreateMessage request ([MS-OXCROPS] 2.2.6.2.1).

    @ivar outputHandleIndex: Where the new message's handle goes.
    @ivar codePageId: The code page for the message's 8-bit strings.
    @ivar folderId: The folder to create the message in.
    @ivar associatedFlag: Nonzero for a folder associated information
        (FAI) message.
    """

    outputHandleIndex: int = 0
    codePageId: int = 0
    folderId: int = 0
    associatedFlag: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            codePageId=r.u16(),
            folderId=r.u64(),
            associatedFlag=r.u8(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u16(self.codePageId)
        w.u64(self.folderId)
        w.bool8(self.associatedFlag)


@ropResponse(0x06)
@dataclass(slots=True)
class CreateMessageResponse(_SuccessBody, RopResponse):
    """
    RopCreateMessage response ([MS-OXCROPS] 2.2.6.2.2); the handle index is
    the OutputHandleIndex.

    @ivar hasMessageId: Whether C{messageId} follows.
    @ivar messageId: The new message's id, or L{None} when HasMessageId is
        zero.
    """

    hasMessageId: int = 0
    messageId: Optional[int] = None

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        has = r.u8()
        messageId = r.u64() if has else None
        return cls(hasMessageId=has, messageId=messageId, **header)

    def _writeSuccess(self, w, ctx, request):
        w.bool8(self.hasMessageId)
        if self.hasMessageId:
            if self.messageId is None:
                raise RopError("HasMessageId is set but messageId is None")
            w.u64(self.messageId)


# RopSaveChangesMessage ([MS-OXCROPS] 2.2.6.3)


@ropRequest(0x0C)
@dataclass(slots=True)
class SaveChangesMessageRequest(RopRequest):
    """
    RopSaveChangesMessage request ([MS-OXCROPS] 2.2.6.3.1). The header byte
    C{inputHandleIndex} is the ResponseHandleIndex; the message to save is
    at C{messageHandleIndex} (the body's InputHandleIndex).

    @ivar messageHandleIndex: The message's handle index.
    @ivar saveFlags: 0x01 KeepOpenReadOnly, 0x02 KeepOpenReadWrite, 0x04
        ForceSave, possibly with 0x08 DelayedCommit ([MS-OXCMSG] 2.2.3.3.1).
    """

    messageHandleIndex: int = 0
    saveFlags: int = 0

    @property
    def responseHandleIndex(self):
        """
        The ResponseHandleIndex (the header byte after LogonId).
        """
        return self.inputHandleIndex

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(messageHandleIndex=r.u8(), saveFlags=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.messageHandleIndex)
        w.u8(self.saveFlags)


@ropResponse(0x0C)
@dataclass(slots=True)
class SaveChangesMessageResponse(_SuccessBody, RopResponse):
    """
    RopSaveChangesMessage response ([MS-OXCROPS] 2.2.6.3.2); the handle
    index is the ResponseHandleIndex.

    @ivar inputHandleIndex: The request's InputHandleIndex, echoed.
    @ivar messageId: The id of the saved message.
    """

    inputHandleIndex: int = 0
    messageId: int = 0

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(inputHandleIndex=r.u8(), messageId=r.u64(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.inputHandleIndex)
        w.u64(self.messageId)


# RopRemoveAllRecipients ([MS-OXCROPS] 2.2.6.4)


@ropRequest(0x0D)
@dataclass(slots=True)
class RemoveAllRecipientsRequest(RopRequest):
    """
    RopRemoveAllRecipients request ([MS-OXCROPS] 2.2.6.4.1).

    @ivar reserved: Reserved u32, kept as sent.
    """

    reserved: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(reserved=r.u32(), **header)

    def writeBody(self, w, ctx):
        w.u32(self.reserved)


@ropResponse(0x0D)
@dataclass(slots=True)
class RemoveAllRecipientsResponse(RopResponse):
    """
    RopRemoveAllRecipients response ([MS-OXCROPS] 2.2.6.4.2): the header
    only.
    """


# RopModifyRecipients ([MS-OXCROPS] 2.2.6.5)


@ropRequest(0x0E)
@dataclass(slots=True)
class ModifyRecipientsRequest(RopRequest):
    """
    RopModifyRecipients request ([MS-OXCROPS] 2.2.6.5.1): the recipient
    columns (u16 count, u32 tags) and a u16 count of
    L{ModifyRecipientRow}s laid out in them.

    @ivar recipientColumns: The property tags of the rows.
    @ivar recipientRows: L{ModifyRecipientRow} items.
    """

    recipientColumns: list = field(default_factory=list)
    recipientRows: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        columns = _readTags(r)
        rows = r.counted(
            r.u16(),
            lambda rr: ModifyRecipientRow.read(rr, columns),
            minSize=_MODIFY_RECIPIENT_ROW_MIN,
        )
        return cls(recipientColumns=columns, recipientRows=rows, **header)

    def writeBody(self, w, ctx):
        _writeTags(w, self.recipientColumns)
        w.u16(len(self.recipientRows))
        for row in self.recipientRows:
            row.write(w, self.recipientColumns)


@ropResponse(0x0E)
@dataclass(slots=True)
class ModifyRecipientsResponse(RopResponse):
    """
    RopModifyRecipients response ([MS-OXCROPS] 2.2.6.5.2): the header only.
    """


# RopReadRecipients ([MS-OXCROPS] 2.2.6.6)


@ropRequest(0x0F)
@dataclass(slots=True)
class ReadRecipientsRequest(RopRequest):
    """
    RopReadRecipients request ([MS-OXCROPS] 2.2.6.6.1).

    @ivar rowId: The first recipient row to read.
    @ivar reserved: Reserved u16, kept as sent.
    """

    rowId: int = 0
    reserved: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(rowId=r.u32(), reserved=r.u16(), **header)

    def writeBody(self, w, ctx):
        w.u32(self.rowId)
        w.u16(self.reserved)


@ropResponse(0x0F)
@dataclass(slots=True)
class ReadRecipientsResponse(_SuccessBody, RopResponse):
    """
    RopReadRecipients response ([MS-OXCROPS] 2.2.6.6.2): a u8 count of
    L{ReadRecipientRow}s. Their rows are laid out in the recipient columns
    the server last sent for the message (L{recipientColumnsOf}); without
    them each RecipientRow stays raw bytes.

    @ivar recipientRows: L{ReadRecipientRow} items.
    """

    recipientRows: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        columns = recipientColumnsOf(
            ctx, _inputHandle(ctx, request, header["handleIndex"])
        )
        rows = r.counted(
            r.u8(),
            lambda rr: ReadRecipientRow.read(rr, columns),
            minSize=_READ_RECIPIENT_ROW_MIN,
        )
        return cls(recipientRows=rows, **header)

    def _writeSuccess(self, w, ctx, request):
        columns = recipientColumnsOf(ctx, _inputHandle(ctx, request, self.handleIndex))
        w.u8(len(self.recipientRows))
        for row in self.recipientRows:
            row.write(w, columns)


# RopReloadCachedInformation ([MS-OXCROPS] 2.2.6.7)


@ropRequest(0x10)
@dataclass(slots=True)
class ReloadCachedInformationRequest(RopRequest):
    """
    RopReloadCachedInformation request ([MS-OXCROPS] 2.2.6.7.1).

    @ivar reserved: Reserved u16, kept as sent.
    """

    reserved: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(reserved=r.u16(), **header)

    def writeBody(self, w, ctx):
        w.u16(self.reserved)


@ropResponse(0x10)
@dataclass(slots=True)
class ReloadCachedInformationResponse(_MessageInfo, RopResponse):
    """
    RopReloadCachedInformation response ([MS-OXCROPS] 2.2.6.7.2): the same
    description of the message as L{OpenMessageResponse}; the handle index
    is the InputHandleIndex.
    """

    hasNamedProperties: int = 0
    subjectPrefix: object = field(default_factory=_emptyTypedString)
    normalizedSubject: object = field(default_factory=_emptyTypedString)
    recipientCount: int = 0
    recipientColumns: list = field(default_factory=list)
    recipientRows: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        rop = cls(**cls._readInfo(r), **header)
        rop._record(ctx, request)
        return rop

    def _writeSuccess(self, w, ctx, request):
        self._writeInfo(w)
        self._record(ctx, request)

    def _messageHandle(self, ctx, request):
        return _inputHandle(ctx, request, self.handleIndex)


# RopSetMessageStatus ([MS-OXCROPS] 2.2.6.8)


@ropRequest(0x20)
@dataclass(slots=True)
class SetMessageStatusRequest(RopRequest):
    """
    RopSetMessageStatus request ([MS-OXCROPS] 2.2.6.8.1).

    @ivar messageId: The message.
    @ivar messageStatusFlags: The new status bits ([MS-OXCMSG] 2.2.1.8).
    @ivar messageStatusMask: Which bits to change.
    """

    messageId: int = 0
    messageStatusFlags: int = 0
    messageStatusMask: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            messageId=r.u64(),
            messageStatusFlags=r.u32(),
            messageStatusMask=r.u32(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u64(self.messageId)
        w.u32(self.messageStatusFlags)
        w.u32(self.messageStatusMask)


class _StatusResponse(_SuccessBody):
    """
    A success body of one MessageStatusFlags u32.
    """

    __slots__ = ()

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(messageStatusFlags=r.u32(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u32(self.messageStatusFlags)


@ropResponse(0x20)
@dataclass(slots=True)
class SetMessageStatusResponse(_StatusResponse, RopResponse):
    """
    RopSetMessageStatus response ([MS-OXCROPS] 2.2.6.8.2), also the RopId
    a server answers RopGetMessageStatus with ([MS-OXCROPS] 2.2.6.9.2).

    @ivar messageStatusFlags: The status before the change (or the current
        status, for RopGetMessageStatus).
    """

    messageStatusFlags: int = 0


# RopGetMessageStatus ([MS-OXCROPS] 2.2.6.9)


@ropRequest(0x1F)
@dataclass(slots=True)
class GetMessageStatusRequest(RopRequest):
    """
    RopGetMessageStatus request ([MS-OXCROPS] 2.2.6.9.1).

    @ivar messageId: The message.
    """

    messageId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(messageId=r.u64(), **header)

    def writeBody(self, w, ctx):
        w.u64(self.messageId)


@ropResponse(0x1F)
@dataclass(slots=True)
class GetMessageStatusResponse(_StatusResponse, RopResponse):
    """
    A RopGetMessageStatus response that carries RopId 0x1F (servers
    following [MS-OXCROPS] 2.2.6.9.2 send 0x20: see
    L{SetMessageStatusResponse}).

    @ivar messageStatusFlags: The message's status ([MS-OXCMSG] 2.2.1.8).
    """

    messageStatusFlags: int = 0


# RopSetReadFlags ([MS-OXCROPS] 2.2.6.10)


@ropRequest(0x66)
@dataclass(slots=True)
class SetReadFlagsRequest(RopRequest):
    """
    RopSetReadFlags request ([MS-OXCROPS] 2.2.6.10.1).

    @ivar wantAsynchronous: Nonzero if the server may answer with
        RopProgress.
    @ivar readFlags: [MS-OXCMSG] 2.2.3.10.1 flags.
    @ivar messageIds: The messages (u16 count, u64 each).
    """

    wantAsynchronous: int = 0
    readFlags: int = 0
    messageIds: list = field(default_factory=list)

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            wantAsynchronous=r.u8(),
            readFlags=r.u8(),
            messageIds=r.u64Array(r.u16()),
            **header,
        )

    def writeBody(self, w, ctx):
        w.bool8(self.wantAsynchronous)
        w.u8(self.readFlags)
        w.u16(len(self.messageIds))
        w.u64Array(self.messageIds)


@ropResponse(0x66)
@dataclass(slots=True)
class SetReadFlagsResponse(RopResponse):
    """
    RopSetReadFlags response ([MS-OXCROPS] 2.2.6.10.2): PartialCompletion
    follows the header whatever the ReturnValue.

    @ivar partialCompletion: Nonzero if some messages were not changed.
    """

    partialCompletion: int = 0

    @classmethod
    def readBody(cls, r, ctx, request, header):
        return cls(partialCompletion=r.u8(), **header)

    def writeBody(self, w, ctx, request):
        w.bool8(self.partialCompletion)


# RopSetMessageReadFlag ([MS-OXCROPS] 2.2.6.11)


@ropRequest(0x11)
@dataclass(slots=True)
class SetMessageReadFlagRequest(RopRequest):
    """
    RopSetMessageReadFlag request ([MS-OXCROPS] 2.2.6.11.1). The header
    byte C{inputHandleIndex} is the ResponseHandleIndex (the folder); the
    message is at C{messageHandleIndex} (the body's InputHandleIndex).

    ClientData (a 24-byte LongTermID) is present only on a public folders
    logon: it is read when L{RopContext.logons} has the LogonId without the
    Private flag, and written whenever it is not L{None}.

    @ivar messageHandleIndex: The message's handle index.
    @ivar readFlags: [MS-OXCMSG] 2.2.3.11.1 flags.
    @ivar clientData: A L{LongTermId}, or L{None}.
    """

    messageHandleIndex: int = 0
    readFlags: int = 0
    clientData: Optional[object] = None

    @property
    def responseHandleIndex(self):
        """
        The ResponseHandleIndex (the header byte after LogonId).
        """
        return self.inputHandleIndex

    @classmethod
    def readBody(cls, r, ctx, header):
        messageHandleIndex = r.u8()
        readFlags = r.u8()
        clientData = None
        logonFlags = ctx.logons.get(header["logonId"])
        if logonFlags is not None and not logonFlags & LOGON_PRIVATE:
            clientData = LongTermId.read(r)
        return cls(
            messageHandleIndex=messageHandleIndex,
            readFlags=readFlags,
            clientData=clientData,
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.messageHandleIndex)
        w.u8(self.readFlags)
        if self.clientData is not None:
            self.clientData.write(w)


@ropResponse(0x11)
@dataclass(slots=True)
class SetMessageReadFlagResponse(_SuccessBody, RopResponse):
    """
    RopSetMessageReadFlag response ([MS-OXCROPS] 2.2.6.11.2); the handle
    index is the ResponseHandleIndex. On success, ReadStatusChanged; when
    it is nonzero (a public folder message whose read state changed), the
    LogonId and the request's ClientData follow.

    @ivar readStatusChanged: Whether the read status changed.
    @ivar logonId: The request's LogonId, or L{None}.
    @ivar clientData: A L{LongTermId}, or L{None}.
    """

    readStatusChanged: int = 0
    logonId: Optional[int] = None
    clientData: Optional[object] = None

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        changed = r.u8()
        logonId = clientData = None
        if changed:
            logonId = r.u8()
            clientData = LongTermId.read(r)
        return cls(
            readStatusChanged=changed,
            logonId=logonId,
            clientData=clientData,
            **header,
        )

    def _writeSuccess(self, w, ctx, request):
        w.bool8(self.readStatusChanged)
        if self.readStatusChanged:
            if self.logonId is None or self.clientData is None:
                raise RopError(
                    "ReadStatusChanged is set but logonId or clientData is None"
                )
            w.u8(self.logonId)
            self.clientData.write(w)


# RopOpenAttachment ([MS-OXCROPS] 2.2.6.12)


@ropRequest(0x22)
@dataclass(slots=True)
class OpenAttachmentRequest(RopRequest):
    """
    RopOpenAttachment request ([MS-OXCROPS] 2.2.6.12.1).

    @ivar outputHandleIndex: Where the attachment's handle goes.
    @ivar openAttachmentFlags: 0 read-only, 1 read/write, 3 best access
        ([MS-OXCMSG] 2.2.3.12.1).
    @ivar attachmentId: The attachment's number (PidTagAttachNumber).
    """

    outputHandleIndex: int = 0
    openAttachmentFlags: int = 0
    attachmentId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            openAttachmentFlags=r.u8(),
            attachmentId=r.u32(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.openAttachmentFlags)
        w.u32(self.attachmentId)


@ropResponse(0x22)
@dataclass(slots=True)
class OpenAttachmentResponse(RopResponse):
    """
    RopOpenAttachment response ([MS-OXCROPS] 2.2.6.12.2): the header only
    (the handle index is the OutputHandleIndex).
    """


# RopCreateAttachment ([MS-OXCROPS] 2.2.6.13)


@ropRequest(0x23)
@dataclass(slots=True)
class CreateAttachmentRequest(RopRequest):
    """
    RopCreateAttachment request ([MS-OXCROPS] 2.2.6.13.1).

    @ivar outputHandleIndex: Where the new attachment's handle goes.
    """

    outputHandleIndex: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(outputHandleIndex=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)


@ropResponse(0x23)
@dataclass(slots=True)
class CreateAttachmentResponse(_SuccessBody, RopResponse):
    """
    RopCreateAttachment response ([MS-OXCROPS] 2.2.6.13.2); the handle
    index is the OutputHandleIndex.

    @ivar attachmentId: The new attachment's number.
    """

    attachmentId: int = 0

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(attachmentId=r.u32(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u32(self.attachmentId)


# RopDeleteAttachment ([MS-OXCROPS] 2.2.6.14)


@ropRequest(0x24)
@dataclass(slots=True)
class DeleteAttachmentRequest(RopRequest):
    """
    RopDeleteAttachment request ([MS-OXCROPS] 2.2.6.14.1).

    @ivar attachmentId: The attachment's number.
    """

    attachmentId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(attachmentId=r.u32(), **header)

    def writeBody(self, w, ctx):
        w.u32(self.attachmentId)


@ropResponse(0x24)
@dataclass(slots=True)
class DeleteAttachmentResponse(RopResponse):
    """
    RopDeleteAttachment response ([MS-OXCROPS] 2.2.6.14.2): the header
    only.
    """


# RopSaveChangesAttachment ([MS-OXCROPS] 2.2.6.15)


@ropRequest(0x25)
@dataclass(slots=True)
class SaveChangesAttachmentRequest(RopRequest):
    """
    RopSaveChangesAttachment request ([MS-OXCROPS] 2.2.6.15.1). The header
    byte C{inputHandleIndex} is the ResponseHandleIndex; the attachment is
    at C{attachmentHandleIndex} (the body's InputHandleIndex).

    @ivar attachmentHandleIndex: The attachment's handle index.
    @ivar saveFlags: As for RopSaveChangesMessage ([MS-OXCMSG] 2.2.3.3.1).
    """

    attachmentHandleIndex: int = 0
    saveFlags: int = 0

    @property
    def responseHandleIndex(self):
        """
        The ResponseHandleIndex (the header byte after LogonId).
        """
        return self.inputHandleIndex

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(attachmentHandleIndex=r.u8(), saveFlags=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.attachmentHandleIndex)
        w.u8(self.saveFlags)


@ropResponse(0x25)
@dataclass(slots=True)
class SaveChangesAttachmentResponse(RopResponse):
    """
    RopSaveChangesAttachment response ([MS-OXCROPS] 2.2.6.15.2): the header
    only (the handle index is the ResponseHandleIndex).
    """


# RopOpenEmbeddedMessage ([MS-OXCROPS] 2.2.6.16)


@ropRequest(0x46)
@dataclass(slots=True)
class OpenEmbeddedMessageRequest(RopRequest):
    """
    RopOpenEmbeddedMessage request ([MS-OXCROPS] 2.2.6.16.1); the input
    handle is an attachment.

    @ivar outputHandleIndex: Where the embedded message's handle goes.
    @ivar codePageId: The code page for the message's 8-bit strings.
    @ivar openModeFlags: 0 read-only, 1 read/write, 2 create
        ([MS-OXCMSG] 2.2.3.16.1).
    """

    outputHandleIndex: int = 0
    codePageId: int = 0
    openModeFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            outputHandleIndex=r.u8(),
            codePageId=r.u16(),
            openModeFlags=r.u8(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u16(self.codePageId)
        w.u8(self.openModeFlags)


@ropResponse(0x46)
@dataclass(slots=True)
class OpenEmbeddedMessageResponse(_MessageInfo, RopResponse):
    """
    RopOpenEmbeddedMessage response ([MS-OXCROPS] 2.2.6.16.2); the handle
    index is the OutputHandleIndex. On success a Reserved byte and the
    MessageId precede the description of L{OpenMessageResponse}.

    @ivar reserved: Reserved u8, kept as received.
    @ivar messageId: The embedded message's id.
    """

    reserved: int = 0
    messageId: int = 0
    hasNamedProperties: int = 0
    subjectPrefix: object = field(default_factory=_emptyTypedString)
    normalizedSubject: object = field(default_factory=_emptyTypedString)
    recipientCount: int = 0
    recipientColumns: list = field(default_factory=list)
    recipientRows: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        reserved = r.u8()
        messageId = r.u64()
        rop = cls(reserved=reserved, messageId=messageId, **cls._readInfo(r), **header)
        rop._record(ctx, request)
        return rop

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.reserved)
        w.u64(self.messageId)
        self._writeInfo(w)
        self._record(ctx, request)

    def _messageHandle(self, ctx, request):
        return _outputHandle(ctx, self.handleIndex)


# RopGetAttachmentTable ([MS-OXCROPS] 2.2.6.17)


@ropRequest(0x21)
@dataclass(slots=True)
class GetAttachmentTableRequest(RopRequest):
    """
    RopGetAttachmentTable request ([MS-OXCROPS] 2.2.6.17.1).

    @ivar outputHandleIndex: Where the table's handle goes.
    @ivar tableFlags: 0x40 UseUnicode ([MS-OXCMSG] 2.2.3.17.1).
    """

    outputHandleIndex: int = 0
    tableFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(outputHandleIndex=r.u8(), tableFlags=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.outputHandleIndex)
        w.u8(self.tableFlags)


@ropResponse(0x21)
@dataclass(slots=True)
class GetAttachmentTableResponse(RopResponse):
    """
    RopGetAttachmentTable response ([MS-OXCROPS] 2.2.6.17.2): the header
    only (the handle index is the OutputHandleIndex).
    """


# RopGetValidAttachments ([MS-OXCROPS] 2.2.6.18)


@ropRequest(0x52)
@dataclass(slots=True)
class GetValidAttachmentsRequest(RopRequest):
    """
    RopGetValidAttachments request ([MS-OXCROPS] 2.2.6.18.1): no body.
    """


@ropResponse(0x52)
@dataclass(slots=True)
class GetValidAttachmentsResponse(_SuccessBody, RopResponse):
    """
    RopGetValidAttachments response ([MS-OXCROPS] 2.2.6.18.2).

    @ivar attachmentIdArray: The attachment numbers (u16 count, u32 each).
    """

    attachmentIdArray: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(attachmentIdArray=r.u32Array(r.u16()), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u16(len(self.attachmentIdArray))
        w.u32Array(self.attachmentIdArray)


# RopSubmitMessage ([MS-OXCROPS] 2.2.7.1)


@ropRequest(0x32)
@dataclass(slots=True)
class SubmitMessageRequest(RopRequest):
    """
    RopSubmitMessage request ([MS-OXCROPS] 2.2.7.1.1).

    @ivar submitFlags: 0x00 None, 0x01 PreProcess, 0x02 NeedsSpooler
        ([MS-OXOMSG] 2.2.3.1.1).
    """

    submitFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(submitFlags=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u8(self.submitFlags)


@ropResponse(0x32)
@dataclass(slots=True)
class SubmitMessageResponse(RopResponse):
    """
    RopSubmitMessage response ([MS-OXCROPS] 2.2.7.1.2): the header only.
    """


# RopAbortSubmit ([MS-OXCROPS] 2.2.7.2)


@ropRequest(0x34)
@dataclass(slots=True)
class AbortSubmitRequest(RopRequest):
    """
    RopAbortSubmit request ([MS-OXCROPS] 2.2.7.2.1).

    @ivar folderId: The folder holding the message.
    @ivar messageId: The message whose submission to abort.
    """

    folderId: int = 0
    messageId: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(folderId=r.u64(), messageId=r.u64(), **header)

    def writeBody(self, w, ctx):
        w.u64(self.folderId)
        w.u64(self.messageId)


@ropResponse(0x34)
@dataclass(slots=True)
class AbortSubmitResponse(RopResponse):
    """
    RopAbortSubmit response ([MS-OXCROPS] 2.2.7.2.2): the header only.
    """


# RopGetAddressTypes ([MS-OXCROPS] 2.2.7.3)


@ropRequest(0x49)
@dataclass(slots=True)
class GetAddressTypesRequest(RopRequest):
    """
    RopGetAddressTypes request ([MS-OXCROPS] 2.2.7.3.1): no body.
    """


@ropResponse(0x49)
@dataclass(slots=True)
class GetAddressTypesResponse(_SuccessBody, RopResponse):
    """
    RopGetAddressTypes response ([MS-OXCROPS] 2.2.7.3.2): AddressTypeCount
    (u16), AddressTypeSize (u16, the byte size of what follows) and that
    many NUL-terminated 8-bit strings.

    @ivar addressTypes: The address types (e.g. C{"SMTP"}, C{"EX"}).
    """

    addressTypes: list = field(default_factory=list)

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        count = r.u16()
        window = r.sub(r.u16())
        types = window.counted(count, Reader.asciiz, minSize=1)
        if window.remaining:
            raise RopError(
                "AddressTypeSize leaves %d byte(s) after %d address type(s)"
                % (window.remaining, count)
            )
        return cls(addressTypes=types, **header)

    def _writeSuccess(self, w, ctx, request):
        w.u16(len(self.addressTypes))
        pos = w.placeholderU16()
        before = len(w)
        for addressType in self.addressTypes:
            w.asciiz(addressType)
        w.setU16(pos, len(w) - before)


# RopSetSpooler ([MS-OXCROPS] 2.2.7.4)


@ropRequest(0x47)
@dataclass(slots=True)
class SetSpoolerRequest(RopRequest):
    """
    RopSetSpooler request ([MS-OXCROPS] 2.2.7.4.1): no body.
    """


@ropResponse(0x47)
@dataclass(slots=True)
class SetSpoolerResponse(RopResponse):
    """
    RopSetSpooler response ([MS-OXCROPS] 2.2.7.4.2): the header only.
    """


# RopSpoolerLockMessage ([MS-OXCROPS] 2.2.7.5)


@ropRequest(0x48)
@dataclass(slots=True)
class SpoolerLockMessageRequest(RopRequest):
    """
    RopSpoolerLockMessage request ([MS-OXCROPS] 2.2.7.5.1).

    @ivar messageId: The message.
    @ivar lockState: 0 lock, 1 unlock, 2 finished ([MS-OXOMSG] 2.2.3.4.1).
    """

    messageId: int = 0
    lockState: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(messageId=r.u64(), lockState=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.u64(self.messageId)
        w.u8(self.lockState)


@ropResponse(0x48)
@dataclass(slots=True)
class SpoolerLockMessageResponse(RopResponse):
    """
    RopSpoolerLockMessage response ([MS-OXCROPS] 2.2.7.5.2): the header
    only.
    """


# RopTransportSend ([MS-OXCROPS] 2.2.7.6)


@ropRequest(0x4A)
@dataclass(slots=True)
class TransportSendRequest(RopRequest):
    """
    RopTransportSend request ([MS-OXCROPS] 2.2.7.6.1): no body.
    """


@ropResponse(0x4A)
@dataclass(slots=True)
class TransportSendResponse(_SuccessBody, RopResponse):
    """
    RopTransportSend response ([MS-OXCROPS] 2.2.7.6.2): NoPropertiesReturned;
    when it is zero, a u16 count of TaggedPropertyValues ([MS-OXCDATA]
    2.11.4).

    @ivar noPropertiesReturned: Nonzero when no values follow.
    @ivar propertyValues: L{TaggedPropertyValue} items, or L{None} when
        NoPropertiesReturned is nonzero.
    """

    noPropertiesReturned: int = 0
    propertyValues: Optional[list] = None

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        none = r.u8()
        values = None
        if not none:
            values = r.counted(
                r.u16(), TaggedPropertyValue.read, minSize=_TAGGED_VALUE_MIN
            )
        return cls(noPropertiesReturned=none, propertyValues=values, **header)

    def _writeSuccess(self, w, ctx, request):
        w.bool8(self.noPropertiesReturned)
        if not self.noPropertiesReturned:
            values = self.propertyValues or []
            w.u16(len(values))
            for value in values:
                value.write(w)


# RopTransportNewMail ([MS-OXCROPS] 2.2.7.7)


@ropRequest(0x51)
@dataclass(slots=True)
class TransportNewMailRequest(RopRequest):
    """
    RopTransportNewMail request ([MS-OXCROPS] 2.2.7.7.1).

    @ivar messageId: The new message.
    @ivar folderId: The folder it arrived in.
    @ivar messageClass: Its message class (NUL-terminated 8-bit string).
    @ivar messageFlags: Its PidTagMessageFlags.
    """

    messageId: int = 0
    folderId: int = 0
    messageClass: str = ""
    messageFlags: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(
            messageId=r.u64(),
            folderId=r.u64(),
            messageClass=r.asciiz(),
            messageFlags=r.u32(),
            **header,
        )

    def writeBody(self, w, ctx):
        w.u64(self.messageId)
        w.u64(self.folderId)
        w.asciiz(self.messageClass)
        w.u32(self.messageFlags)


@ropResponse(0x51)
@dataclass(slots=True)
class TransportNewMailResponse(RopResponse):
    """
    RopTransportNewMail response ([MS-OXCROPS] 2.2.7.7.2): the header only.
    """


# RopGetTransportFolder ([MS-OXCROPS] 2.2.7.8)


@ropRequest(0x6D)
@dataclass(slots=True)
class GetTransportFolderRequest(RopRequest):
    """
    RopGetTransportFolder request ([MS-OXCROPS] 2.2.7.8.1): no body.
    """


@ropResponse(0x6D)
@dataclass(slots=True)
class GetTransportFolderResponse(_SuccessBody, RopResponse):
    """
    RopGetTransportFolder response ([MS-OXCROPS] 2.2.7.8.2).

    @ivar folderId: The transport folder's id.
    """

    folderId: int = 0

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        return cls(folderId=r.u64(), **header)

    def _writeSuccess(self, w, ctx, request):
        w.u64(self.folderId)


# RopOptionsData ([MS-OXCROPS] 2.2.7.9)


@ropRequest(0x6F)
@dataclass(slots=True)
class OptionsDataRequest(RopRequest):
    """
    RopOptionsData request ([MS-OXCROPS] 2.2.7.9.1).

    @ivar addressType: The address type (NUL-terminated 8-bit string).
    @ivar wantWin32: Nonzero for Win32 help file data.
    """

    addressType: str = ""
    wantWin32: int = 0

    @classmethod
    def readBody(cls, r, ctx, header):
        return cls(addressType=r.asciiz(), wantWin32=r.u8(), **header)

    def writeBody(self, w, ctx):
        w.asciiz(self.addressType)
        w.bool8(self.wantWin32)


@ropResponse(0x6F)
@dataclass(slots=True)
class OptionsDataResponse(_SuccessBody, RopResponse):
    """
    RopOptionsData response ([MS-OXCROPS] 2.2.7.9.2): Reserved, OptionsInfo
    (u16 size + bytes), HelpFile (u16 size + bytes) and, when HelpFileSize
    is nonzero, HelpFileName (NUL-terminated 8-bit string).

    @ivar reserved: Reserved u8, kept as received.
    @ivar optionsInfo: Opaque address-type options data.
    @ivar helpFile: The help file's bytes.
    @ivar helpFileName: The help file's name, or L{None} when C{helpFile}
        is empty.
    """

    reserved: int = 0
    optionsInfo: bytes = b""
    helpFile: bytes = b""
    helpFileName: Optional[str] = None

    @classmethod
    def _readSuccess(cls, r, ctx, request, header):
        reserved = r.u8()
        optionsInfo = r.bytes(r.u16())
        helpFile = r.bytes(r.u16())
        helpFileName = r.asciiz() if helpFile else None
        return cls(
            reserved=reserved,
            optionsInfo=optionsInfo,
            helpFile=helpFile,
            helpFileName=helpFileName,
            **header,
        )

    def _writeSuccess(self, w, ctx, request):
        w.u8(self.reserved)
        w.u16(len(self.optionsInfo))
        w.bytes(self.optionsInfo)
        w.u16(len(self.helpFile))
        w.bytes(self.helpFile)
        if self.helpFile:
            if self.helpFileName is None:
                raise RopError("HelpFile is not empty but helpFileName is None")
            w.asciiz(self.helpFileName)
