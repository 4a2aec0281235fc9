"""
Tests for L{mapiproxy.mapi.rops.message}: the message, recipient,
attachment and transport ROPs of [MS-OXCROPS] 2.2.6 and 2.2.7.

Golden bytes are laid out by hand from the MS-OXCROPS field tables (one
field per line, with its name); the RopSubmitMessage and RopAbortSubmit
exchanges are Microsoft's own example bytes from [MS-OXOMSG] 4.1.1, 4.1.2
and 4.3.1 (an independent source).
"""

import re
import uuid

from hypothesis import given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    FLAG_ERROR,
    FLAG_NOT_FOUND,
    FLAG_VALUE,
    ROW_FLAGGED,
    ROW_STANDARD,
    STRING_8BIT,
    STRING_EMPTY,
    STRING_NONE,
    STRING_REDUCED_UNICODE,
    STRING_UNICODE,
    FlaggedPropertyValue,
    LongTermId,
    PropertyRow,
    RecipientRow,
    TaggedPropertyValue,
    TypedString,
)
from mapiproxy.mapi.rops import base, message
from mapiproxy.mapi.rops.base import (
    Reader,
    RopContext,
    UnknownRop,
    decodeRequests,
    decodeResponses,
    encodeRequests,
    encodeResponses,
    loadFamilies,
)
from mapiproxy.mapi.rops.message import (
    RECIPIENT_COLUMNS,
    AbortSubmitRequest,
    AbortSubmitResponse,
    CreateAttachmentRequest,
    CreateAttachmentResponse,
    CreateMessageRequest,
    CreateMessageResponse,
    DeleteAttachmentRequest,
    DeleteAttachmentResponse,
    GetAddressTypesRequest,
    GetAddressTypesResponse,
    GetAttachmentTableRequest,
    GetAttachmentTableResponse,
    GetMessageStatusRequest,
    GetMessageStatusResponse,
    GetTransportFolderRequest,
    GetTransportFolderResponse,
    GetValidAttachmentsRequest,
    GetValidAttachmentsResponse,
    ModifyRecipientRow,
    ModifyRecipientsRequest,
    ModifyRecipientsResponse,
    OpenAttachmentRequest,
    OpenAttachmentResponse,
    OpenEmbeddedMessageRequest,
    OpenEmbeddedMessageResponse,
    OpenMessageRequest,
    OpenMessageResponse,
    OpenRecipientRow,
    OptionsDataRequest,
    OptionsDataResponse,
    ReadRecipientRow,
    ReadRecipientsRequest,
    ReadRecipientsResponse,
    ReloadCachedInformationRequest,
    ReloadCachedInformationResponse,
    RemoveAllRecipientsRequest,
    RemoveAllRecipientsResponse,
    SaveChangesAttachmentRequest,
    SaveChangesAttachmentResponse,
    SaveChangesMessageRequest,
    SaveChangesMessageResponse,
    SetMessageReadFlagRequest,
    SetMessageReadFlagResponse,
    SetMessageStatusRequest,
    SetMessageStatusResponse,
    SetReadFlagsRequest,
    SetReadFlagsResponse,
    SetSpoolerRequest,
    SetSpoolerResponse,
    SpoolerLockMessageRequest,
    SpoolerLockMessageResponse,
    SubmitMessageRequest,
    SubmitMessageResponse,
    TransportNewMailRequest,
    TransportNewMailResponse,
    TransportSendRequest,
    TransportSendResponse,
    recipientColumnsOf,
)

_FAST = settings(max_examples=200, deadline=None)


def _h(text):
    """
    Bytes from hex digits, ignoring whitespace and C{#} comments.
    """
    return bytes.fromhex(re.sub(r"#[^\n]*", "", text))


# Identifiers used throughout: FID 0001-0003b479ca47 and MID
# 0001-0003b7e65fa7 from [MS-OXOMSG] 4.3.1 (ReplicaId u16 LE, then the
# 48-bit GlobalCounter big-endian, [MS-OXCDATA] 2.2.1.1).
_FID_WIRE = "01 00 00 03 b4 79 ca 47"
_FID = 0x47CA79B403000001
_MID_WIRE = "01 00 00 03 b7 e6 5f a7"
_MID = 0xA75FE6B703000001

# A LongTermID ([MS-OXCDATA] 2.2.1.3.1): DatabaseGuid (GUID wire layout),
# GlobalCounter (6 bytes, big-endian), Pad.
_LTID_WIRE = (
    "33 22 11 00 55 44 77 66 88 99 aa bb cc dd ee ff"  # DatabaseGuid
    "00 00 00 00 12 34"  # GlobalCounter
    "00 00"  # Pad
)
_LTID = LongTermId(uuid.UUID("00112233-4455-6677-8899-aabbccddeeff"), 0x1234, 0)

# Property tags ([MS-OXPROPS]).
PidTagDisplayType = 0x39000003
PidTagSmtpAddress = 0x39FE001F
PidTagEntryId = 0x0FFF0102
PidTagRecipientType = 0x0C150003
PidTagSubject = 0x0037001F
PidTagMessageSize = 0x0E080003

ecNotFound = 0x8004010F
ecNullObject = 0x000004B9


def _private():
    """
    A context in which logon 0 is a private mailbox and logon 1 a public
    folders logon (LogonFlags of RopLogon, [MS-OXCSTOR] 2.2.1.1.1).
    """
    ctx = RopContext()
    ctx.logons[0] = 0x01
    ctx.logons[1] = 0x00
    return ctx


class _GoldenMixin:
    """
    Assertions shared by the golden-bytes tests.
    """

    def assertRequestGolden(self, wire, expected, makeCtx=RopContext, handles=()):
        """
        C{wire} decodes to exactly C{expected}; the decoded and the freshly
        built object both encode back to C{wire}.
        """
        items = decodeRequests(wire, list(handles), makeCtx())
        self.assertEqual(items, [expected])
        self.assertEqual(encodeRequests(items, makeCtx(), list(handles)), wire)
        self.assertEqual(encodeRequests([expected], makeCtx(), list(handles)), wire)
        return items[0]

    def assertResponseGolden(
        self, wire, expected, requests=None, makeCtx=RopContext, handles=()
    ):
        """
        The response C{wire} decodes to exactly C{expected}; the decoded and
        the freshly built object both encode back to C{wire}.
        """
        items = decodeResponses(wire, list(handles), requests, makeCtx())
        self.assertEqual(items, [expected])
        self.assertEqual(
            encodeResponses(items, requests, makeCtx(), list(handles)), wire
        )
        self.assertEqual(
            encodeResponses([expected], requests, makeCtx(), list(handles)), wire
        )
        return items[0]


# RopOpenMessage with every branch of the response: a UTF-16 and an 8-bit
# TypedString, more recipients than rows, a Unicode SMTP row in a standard
# PropertyRow and an X500DN row with 8-bit names in a flagged PropertyRow.
_OPEN_MESSAGE_REQUEST = _h(
    """
    03                      # RopId
    01                      # LogonId
    02                      # InputHandleIndex
    03                      # OutputHandleIndex
    e4 04                   # CodePageId 1252
    """
    + _FID_WIRE
    + """
    03                      # OpenModeFlags BestAccess
    """
    + _MID_WIRE
)

_OPEN_MESSAGE_COLUMNS = [PidTagDisplayType, PidTagSmtpAddress, PidTagEntryId]

_OPEN_MESSAGE_RESPONSE = _h("""
    03                      # RopId
    03                      # OutputHandleIndex
    00 00 00 00             # ReturnValue
    01                      # HasNamedProperties
    04 52 00 45 00 3a 00 20 00 00 00    # SubjectPrefix: UTF-16 "RE: "
    02 48 69 00             # NormalizedSubject: 8-bit "Hi"
    03 00                   # RecipientCount
    03 00                   # ColumnCount
    03 00 00 39             # PidTagDisplayType
    1f 00 fe 39             # PidTagSmtpAddress
    02 01 ff 0f             # PidTagEntryId
    02                      # RowCount
    # OpenRecipientRow 1
    01                      # RecipientType To
    e4 04                   # CodePageId
    00 00                   # Reserved
    1d 00                   # RecipientRowSize (29)
    1b 02                   # RecipientFlags: SMTP | E | D | U
    61 00 40 00 62 00 00 00 # EmailAddress "a@b"
    41 00 00 00             # DisplayName "A"
    02 00                   # RecipientColumnCount
    00                      # PropertyRow Flag: standard
    00 00 00 00             # PidTagDisplayType 0
    61 00 40 00 62 00 00 00 # PidTagSmtpAddress "a@b"
    # OpenRecipientRow 2
    02                      # RecipientType Cc
    e4 04                   # CodePageId
    07 00                   # Reserved (kept as received)
    1f 00                   # RecipientRowSize (31)
    31 00                   # RecipientFlags: X500DN | D | T
    05                      # AddressPrefixUsed
    00                      # DisplayType
    2f 6f 3d 78 00          # X500DN "/o=x"
    42 6f 62 00             # DisplayName "Bob"
    42 6f 62 00             # TransmittableDisplayName "Bob"
    03 00                   # RecipientColumnCount
    01                      # PropertyRow Flag: flagged
    00 01 00 00 00          # value: 1
    01                      # not found
    0a 0f 01 04 80          # error ecNotFound
    """)


def _openMessageRows():
    return [
        OpenRecipientRow(
            recipientType=1,
            codePageId=1252,
            reserved=0,
            recipientRow=RecipientRow(
                recipientFlags=0x021B,
                emailAddress="a@b",
                displayName="A",
                recipientColumnCount=2,
                recipientProperties=PropertyRow(ROW_STANDARD, [0, "a@b"]),
            ),
        ),
        OpenRecipientRow(
            recipientType=2,
            codePageId=1252,
            reserved=7,
            recipientRow=RecipientRow(
                recipientFlags=0x0031,
                addressPrefixUsed=5,
                displayType=0,
                x500dn="/o=x",
                displayName="Bob",
                transmittableDisplayName="Bob",
                recipientColumnCount=3,
                recipientProperties=PropertyRow(
                    ROW_FLAGGED,
                    [
                        FlaggedPropertyValue(FLAG_VALUE, 1),
                        FlaggedPropertyValue(FLAG_NOT_FOUND, None),
                        FlaggedPropertyValue(FLAG_ERROR, ecNotFound),
                    ],
                ),
            ),
        ),
    ]


class OpenMessageTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopOpenMessage (0x03).
    """

    def test_request(self):
        """
        The request carries OutputHandleIndex, CodePageId, FolderId,
        OpenModeFlags and MessageId.
        """
        self.assertRequestGolden(
            _OPEN_MESSAGE_REQUEST,
            OpenMessageRequest(
                logonId=1,
                inputHandleIndex=2,
                outputHandleIndex=3,
                codePageId=1252,
                folderId=_FID,
                openModeFlags=3,
                messageId=_MID,
            ),
        )

    def test_responseSuccess(self):
        """
        The success response decodes its TypedStrings, columns and recipient
        rows (standard and flagged PropertyRows, Unicode and 8-bit names)
        and encodes back to the same bytes.
        """
        rop = self.assertResponseGolden(
            _OPEN_MESSAGE_RESPONSE,
            OpenMessageResponse(
                handleIndex=3,
                hasNamedProperties=1,
                subjectPrefix=TypedString(STRING_UNICODE, "RE: "),
                normalizedSubject=TypedString(STRING_8BIT, "Hi"),
                recipientCount=3,
                recipientColumns=_OPEN_MESSAGE_COLUMNS,
                recipientRows=_openMessageRows(),
            ),
        )
        self.assertEqual(rop.recipientRows[1].recipientRow.x500dn, "/o=x")

    def test_responseFailure(self):
        """
        A failure response is the header alone.
        """
        wire = _h("03 03 0f 01 04 80")
        self.assertResponseGolden(
            wire, OpenMessageResponse(handleIndex=3, returnValue=ecNotFound)
        )

    def test_recordsRecipientColumns(self):
        """
        Decoding a successful response records its RecipientColumns under
        the new message's handle (the response's handle table at the
        OutputHandleIndex).
        """
        ctx = RopContext()
        decodeResponses(_OPEN_MESSAGE_RESPONSE, [0x10, 0x11, 0x12, 0xABCD], None, ctx)
        self.assertEqual(recipientColumnsOf(ctx, 0xABCD), _OPEN_MESSAGE_COLUMNS)
        self.assertEqual(
            ctx.handleState(RECIPIENT_COLUMNS), {0xABCD: _OPEN_MESSAGE_COLUMNS}
        )

    def test_failureRecordsNothing(self):
        """
        A failure response records no columns.
        """
        ctx = RopContext()
        decodeResponses(_h("03 03 0f 01 04 80"), [0, 0, 0, 0xABCD], None, ctx)
        self.assertIsNone(recipientColumnsOf(ctx, 0xABCD))

    def test_rowTooLongKeptRaw(self):
        """
        A RecipientRow that does not fill its RecipientRowSize exactly is
        kept as raw bytes, and the response still re-encodes exactly.
        """
        wire = _h("""
            03 00 00 00 00 00       # header
            00 00 00 00 00          # no named props, no strings, 0 recipients
            01 00 03 00 00 39       # 1 column: PidTagDisplayType
            01                      # RowCount
            01 e4 04 00 00          # type, CodePageId, Reserved
            0a 00                   # RecipientRowSize 10 (the row takes 9)
            03 00                   # RecipientFlags: SMTP
            01 00 00 07 00 00 00    # 1 column, standard row, 7
            ff                      # a stray byte inside the size
            """)
        items = decodeResponses(wire, [], None, RopContext())
        self.assertEqual(
            items[0].recipientRows[0].recipientRow,
            _h("03 00 01 00 00 07 00 00 00 ff"),
        )
        self.assertEqual(encodeResponses(items, None, RopContext()), wire)

    def test_truncated(self):
        """
        A response cut in the middle of a recipient row becomes an
        L{UnknownRop} holding the bytes verbatim.
        """
        wire = _OPEN_MESSAGE_RESPONSE[:-3]
        items = decodeResponses(wire, [], None, RopContext())
        self.assertEqual(len(items), 1)
        self.assertIsInstance(items[0], UnknownRop)
        self.assertEqual(items[0].data, wire)
        self.assertEqual(encodeResponses(items, None, RopContext()), wire)


class CreateMessageTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopCreateMessage (0x06).
    """

    def test_request(self):
        """
        The request carries OutputHandleIndex, CodePageId, FolderId and
        AssociatedFlag.
        """
        wire = _h("06 00 00  01  ff 0f " + _FID_WIRE + " 01")
        self.assertRequestGolden(
            wire,
            CreateMessageRequest(
                outputHandleIndex=1,
                codePageId=0x0FFF,
                folderId=_FID,
                associatedFlag=1,
            ),
        )

    def test_responseWithMessageId(self):
        """
        HasMessageId nonzero is followed by the MessageId.
        """
        wire = _h("06 01 00 00 00 00  01 " + _MID_WIRE)
        self.assertResponseGolden(
            wire,
            CreateMessageResponse(handleIndex=1, hasMessageId=1, messageId=_MID),
        )

    def test_responseWithoutMessageId(self):
        """
        HasMessageId zero ends the body; C{messageId} is L{None}.
        """
        wire = _h("06 01 00 00 00 00  00")
        self.assertResponseGolden(
            wire, CreateMessageResponse(handleIndex=1, hasMessageId=0, messageId=None)
        )

    def test_responseFailure(self):
        """
        A failure response is the header alone.
        """
        self.assertResponseGolden(
            _h("06 01 b9 04 00 00"),
            CreateMessageResponse(handleIndex=1, returnValue=ecNullObject),
        )

    def test_missingMessageIdRefused(self):
        """
        Encoding HasMessageId without a MessageId raises L{RopError}.
        """
        self.assertRaises(
            RopError,
            encodeResponses,
            [CreateMessageResponse(hasMessageId=1)],
            None,
            RopContext(),
        )


class SaveChangesMessageTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopSaveChangesMessage (0x0C).
    """

    def test_request(self):
        """
        The header's handle byte is the ResponseHandleIndex; the body holds
        the message's InputHandleIndex and SaveFlags.
        """
        wire = _h("0c 00 01  02  0a")
        rop = self.assertRequestGolden(
            wire,
            SaveChangesMessageRequest(
                inputHandleIndex=1, messageHandleIndex=2, saveFlags=0x0A
            ),
        )
        self.assertEqual(rop.responseHandleIndex, 1)

    def test_responseSuccess(self):
        """
        The success response echoes the InputHandleIndex and gives the
        MessageId.
        """
        wire = _h("0c 01 00 00 00 00  02 " + _MID_WIRE)
        self.assertResponseGolden(
            wire,
            SaveChangesMessageResponse(
                handleIndex=1, inputHandleIndex=2, messageId=_MID
            ),
        )

    def test_responseFailure(self):
        """
        A failure response (ecObjectModified) is the header alone.
        """
        self.assertResponseGolden(
            _h("0c 01 09 01 04 80"),
            SaveChangesMessageResponse(handleIndex=1, returnValue=0x80040109),
        )


class RemoveAllRecipientsTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopRemoveAllRecipients (0x0D).
    """

    def test_request(self):
        """
        The Reserved u32 is kept as sent.
        """
        self.assertRequestGolden(
            _h("0d 00 01  78 56 34 12"),
            RemoveAllRecipientsRequest(inputHandleIndex=1, reserved=0x12345678),
        )

    def test_response(self):
        """
        The response is the header alone, success or not.
        """
        self.assertResponseGolden(
            _h("0d 01 00 00 00 00"), RemoveAllRecipientsResponse(handleIndex=1)
        )
        self.assertResponseGolden(
            _h("0d 01 b9 04 00 00"),
            RemoveAllRecipientsResponse(handleIndex=1, returnValue=ecNullObject),
        )


_MODIFY_RECIPIENTS = _h("""
    0e 00 01                # RopId, LogonId, InputHandleIndex
    01 00                   # ColumnCount
    03 00 15 0c             # PidTagRecipientType
    03 00                   # RowCount
    # ModifyRecipientRow 1: NoType with AddressType, Unicode names
    00 00 00 00             # RowId
    01                      # RecipientType
    16 00                   # RecipientRowSize (22)
    10 86                   # RecipientFlags: O | I | U | D, Type NoType
    53 4d 54 50 00          # AddressType "SMTP"
    5a 00 00 00             # DisplayName "Z"
    7a 00 00 00             # SimpleDisplayName "z"
    01 00                   # RecipientColumnCount
    00 01 00 00 00          # standard row: 1
    # ModifyRecipientRow 2: personal distribution list, 8-bit e-mail
    01 00 00 00             # RowId
    02                      # RecipientType
    0f 00                   # RecipientRowSize (15)
    0e 00                   # RecipientFlags: E, Type PersonalDistributionList1
    02 00 aa bb             # EntryId
    01 00 cc                # SearchKey
    64 6c 00                # EmailAddress "dl"
    00 00                   # RecipientColumnCount
    00                      # standard row, no values
    # ModifyRecipientRow 3: removal
    02 00 00 00             # RowId
    03                      # RecipientType
    00 00                   # RecipientRowSize 0: no RecipientRow
    """)


class ModifyRecipientsTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopModifyRecipients (0x0E).
    """

    def test_request(self):
        """
        The request's rows are laid out in its own columns; a row of size 0
        has no RecipientRow.
        """
        self.assertRequestGolden(
            _MODIFY_RECIPIENTS,
            ModifyRecipientsRequest(
                inputHandleIndex=1,
                recipientColumns=[PidTagRecipientType],
                recipientRows=[
                    ModifyRecipientRow(
                        0,
                        1,
                        RecipientRow(
                            recipientFlags=0x8610,
                            addressType="SMTP",
                            displayName="Z",
                            simpleDisplayName="z",
                            recipientColumnCount=1,
                            recipientProperties=PropertyRow(ROW_STANDARD, [1]),
                        ),
                    ),
                    ModifyRecipientRow(
                        1,
                        2,
                        RecipientRow(
                            recipientFlags=0x000E,
                            entryId=b"\xaa\xbb",
                            searchKey=b"\xcc",
                            emailAddress="dl",
                            recipientColumnCount=0,
                            recipientProperties=PropertyRow(ROW_STANDARD, []),
                        ),
                    ),
                    ModifyRecipientRow(2, 3, None),
                ],
            ),
        )

    def test_response(self):
        """
        The response is the header alone.
        """
        self.assertResponseGolden(
            _h("0e 01 00 00 00 00"), ModifyRecipientsResponse(handleIndex=1)
        )
        self.assertResponseGolden(
            _h("0e 01 b9 04 00 00"),
            ModifyRecipientsResponse(handleIndex=1, returnValue=ecNullObject),
        )

    def test_tooManyRowsRefused(self):
        """
        A RowCount that cannot fit in the bytes left ends the list with an
        L{UnknownRop} instead of reading garbage.
        """
        wire = _h("0e 00 01  00 00  ff ff  00 00 00 00 01 00 00")
        items = decodeRequests(wire, [], RopContext())
        self.assertIsInstance(items[0], UnknownRop)
        self.assertEqual(items[0].data, wire)


_READ_RECIPIENTS_RESPONSE = _h("""
    0f 01 00 00 00 00       # RopId, InputHandleIndex, ReturnValue
    01                      # RowCount
    05 00 00 00             # RowId
    01                      # RecipientType
    e4 04                   # CodePageId
    00 00                   # Reserved
    0d 00                   # RecipientRowSize (13)
    0b 00                   # RecipientFlags: SMTP | E
    78 40 79 00             # EmailAddress "x@y"
    01 00                   # RecipientColumnCount
    00 07 00 00 00          # standard row: PidTagDisplayType 7
    """)

_READ_RECIPIENT_ROW_BYTES = _h("0b 00 78 40 79 00 01 00 00 07 00 00 00")


class ReadRecipientsTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopReadRecipients (0x0F).
    """

    def test_request(self):
        """
        The request carries RowId and a Reserved u16.
        """
        self.assertRequestGolden(
            _h("0f 00 01  05 00 00 00  34 12"),
            ReadRecipientsRequest(inputHandleIndex=1, rowId=5, reserved=0x1234),
        )

    def _known(self):
        ctx = RopContext()
        ctx.handleState(RECIPIENT_COLUMNS)[0x55] = [PidTagDisplayType]
        return ctx

    def test_responseWithColumns(self):
        """
        When the message's recipient columns are known, the rows are
        decoded with them.
        """
        request = ReadRecipientsRequest(inputHandleIndex=1)
        self.assertResponseGolden(
            _READ_RECIPIENTS_RESPONSE,
            ReadRecipientsResponse(
                handleIndex=1,
                recipientRows=[
                    ReadRecipientRow(
                        rowId=5,
                        recipientType=1,
                        codePageId=1252,
                        recipientRow=RecipientRow(
                            recipientFlags=0x000B,
                            emailAddress="x@y",
                            recipientColumnCount=1,
                            recipientProperties=PropertyRow(ROW_STANDARD, [7]),
                        ),
                    )
                ],
            ),
            requests=[request],
            makeCtx=self._known,
            handles=[0x10, 0x55],
        )

    def test_responseWithoutColumns(self):
        """
        Without recipient columns each RecipientRow stays raw bytes, which
        encode back verbatim.
        """
        self.assertResponseGolden(
            _READ_RECIPIENTS_RESPONSE,
            ReadRecipientsResponse(
                handleIndex=1,
                recipientRows=[
                    ReadRecipientRow(5, 1, 1252, 0, _READ_RECIPIENT_ROW_BYTES)
                ],
            ),
        )

    def test_responseFailure(self):
        """
        A failure response is the header alone.
        """
        self.assertResponseGolden(
            _h("0f 01 0f 01 04 80"),
            ReadRecipientsResponse(handleIndex=1, returnValue=ecNotFound),
        )

    def test_columnsFromOpenMessage(self):
        """
        A RopReadRecipients on a message opened in an earlier buffer reads
        its rows with the columns of that RopOpenMessage response.
        """
        ctx = RopContext()
        opened = decodeRequests(_OPEN_MESSAGE_REQUEST, [0, 0x10, 0x20, 0], ctx)
        decodeResponses(
            _OPEN_MESSAGE_RESPONSE,
            [0, 0x10, 0x20, 0x55],
            opened,
            ctx,
            requestHandles=[0, 0x10, 0x20, 0],
        )
        wire = _h("0f 00 03  00 00 00 00  00 00")
        requests = decodeRequests(wire, [0, 0x10, 0x20, 0x55], ctx)
        response = (
            _READ_RECIPIENTS_RESPONSE[:1] + b"\x03" + _READ_RECIPIENTS_RESPONSE[2:]
        )
        items = decodeResponses(
            response,
            [0, 0x10, 0x20, 0x55],
            requests,
            ctx,
            requestHandles=[0, 0x10, 0x20, 0x55],
        )
        row = items[0].recipientRows[0].recipientRow
        self.assertEqual(row.emailAddress, "x@y")
        self.assertEqual(row.recipientProperties, PropertyRow(ROW_STANDARD, [7]))
        self.assertEqual(
            encodeResponses(
                items,
                requests,
                ctx,
                [0, 0x10, 0x20, 0x55],
                requestHandles=[0, 0x10, 0x20, 0x55],
            ),
            response,
        )

    def test_sameBuffer(self):
        """
        A RopReadRecipients on a message opened earlier in the same buffer
        reads its rows with the columns of that RopOpenMessage response,
        and the buffer re-encodes to the same bytes.
        """
        ctx = RopContext()
        readWire = _h("0f 00 03  00 00 00 00  00 00")
        requests = decodeRequests(
            _OPEN_MESSAGE_REQUEST + readWire, [0, 0x10, 0x20, 0xFFFFFFFF], ctx
        )
        response = (
            _OPEN_MESSAGE_RESPONSE
            + _READ_RECIPIENTS_RESPONSE[:1]
            + b"\x03"
            + _READ_RECIPIENTS_RESPONSE[2:]
        )
        items = decodeResponses(
            response,
            [0, 0x10, 0x20, 0x55],
            requests,
            ctx,
            requestHandles=[0, 0x10, 0x20, 0xFFFFFFFF],
        )
        self.assertEqual(
            [type(i) for i in items], [OpenMessageResponse, ReadRecipientsResponse]
        )
        row = items[1].recipientRows[0].recipientRow
        self.assertEqual(row.emailAddress, "x@y")
        self.assertEqual(row.recipientProperties, PropertyRow(ROW_STANDARD, [7]))
        self.assertEqual(
            encodeResponses(
                items,
                requests,
                RopContext(),
                [0, 0x10, 0x20, 0x55],
                requestHandles=[0, 0x10, 0x20, 0xFFFFFFFF],
            ),
            response,
        )

    def test_unknownColumnsEncodeRefused(self):
        """
        Encoding a decoded RecipientRow when the columns are unknown raises
        L{RopError} rather than guessing a layout.
        """
        rop = ReadRecipientsResponse(
            recipientRows=[
                ReadRecipientRow(
                    recipientRow=RecipientRow(
                        recipientFlags=0x0003,
                        recipientProperties=PropertyRow(ROW_STANDARD, []),
                    )
                )
            ]
        )
        self.assertRaises(RopError, encodeResponses, [rop], None, RopContext())


class ReloadCachedInformationTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopReloadCachedInformation (0x10).
    """

    def test_request(self):
        """
        The request carries a Reserved u16.
        """
        self.assertRequestGolden(
            _h("10 00 02  00 00"),
            ReloadCachedInformationRequest(inputHandleIndex=2, reserved=0),
        )

    def test_responseSuccess(self):
        """
        The success response has the RopOpenMessage layout; the no-string
        and empty-string TypedStrings carry no characters.
        """
        wire = _h("""
            10 02 00 00 00 00       # RopId, InputHandleIndex, ReturnValue
            00                      # HasNamedProperties
            00                      # SubjectPrefix: none
            01                      # NormalizedSubject: empty
            00 00                   # RecipientCount
            01 00 03 00 00 39       # 1 column
            00                      # RowCount
            """)
        self.assertResponseGolden(
            wire,
            ReloadCachedInformationResponse(
                handleIndex=2,
                subjectPrefix=TypedString(STRING_NONE, None),
                normalizedSubject=TypedString(STRING_EMPTY, ""),
                recipientColumns=[PidTagDisplayType],
            ),
        )

    def test_responseFailure(self):
        """
        A failure response is the header alone.
        """
        self.assertResponseGolden(
            _h("10 02 b9 04 00 00"),
            ReloadCachedInformationResponse(handleIndex=2, returnValue=ecNullObject),
        )

    def test_recordsUnderInputHandle(self):
        """
        The columns are recorded under the message at the request's
        InputHandleIndex.
        """
        ctx = RopContext()
        wire = _h("10 02 00 00 00 00  00 00 00 00 00  01 00 03 00 00 39  00")
        decodeResponses(wire, [0, 0, 0x77], None, ctx)
        self.assertEqual(recipientColumnsOf(ctx, 0x77), [PidTagDisplayType])


class MessageStatusTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopSetMessageStatus (0x20) and RopGetMessageStatus (0x1F).
    """

    def test_setRequest(self):
        """
        The request carries MessageId, MessageStatusFlags and
        MessageStatusMask.
        """
        wire = _h("20 00 00 " + _MID_WIRE + " 01 10 00 00  01 10 00 00")
        self.assertRequestGolden(
            wire,
            SetMessageStatusRequest(
                messageId=_MID, messageStatusFlags=0x1001, messageStatusMask=0x1001
            ),
        )

    def test_setResponse(self):
        """
        The success response gives the old MessageStatusFlags; the failure
        response is the header alone.
        """
        self.assertResponseGolden(
            _h("20 00 00 00 00 00  00 10 00 00"),
            SetMessageStatusResponse(messageStatusFlags=0x1000),
        )
        self.assertResponseGolden(
            _h("20 00 b9 04 00 00"),
            SetMessageStatusResponse(returnValue=ecNullObject),
        )

    def test_getRequest(self):
        """
        The request carries the MessageId.
        """
        self.assertRequestGolden(
            _h("1f 00 00 " + _MID_WIRE), GetMessageStatusRequest(messageId=_MID)
        )

    def test_getResponseWithItsOwnId(self):
        """
        A response with RopId 0x1F decodes as L{GetMessageStatusResponse}.
        """
        self.assertResponseGolden(
            _h("1f 00 00 00 00 00  02 00 00 00"),
            GetMessageStatusResponse(messageStatusFlags=2),
        )
        self.assertResponseGolden(
            _h("1f 00 0f 01 04 80"),
            GetMessageStatusResponse(returnValue=ecNotFound),
        )

    def test_getAnsweredWithSetId(self):
        """
        A RopGetMessageStatus answered with RopId 0x20 ([MS-OXCROPS]
        2.2.6.9.2) decodes as a status response and re-encodes exactly.
        """
        ctx = RopContext()
        requests = decodeRequests(_h("1f 00 00 " + _MID_WIRE), [1], ctx)
        wire = _h("20 00 00 00 00 00  02 00 00 00")
        items = decodeResponses(wire, [1], requests, ctx)
        self.assertEqual(items, [SetMessageStatusResponse(messageStatusFlags=2)])
        self.assertEqual(encodeResponses(items, requests, RopContext(), [1]), wire)


class SetReadFlagsTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopSetReadFlags (0x66).
    """

    def test_request(self):
        """
        The request carries WantAsynchronous, ReadFlags and the MessageIds.
        """
        wire = _h("66 00 00  01  05  02 00 " + _MID_WIRE + " 01 00 00 00 00 0e 8e c3")
        self.assertRequestGolden(
            wire,
            SetReadFlagsRequest(
                wantAsynchronous=1,
                readFlags=0x05,
                messageIds=[_MID, 0xC38E0E0000000001],
            ),
        )

    def test_responseAlwaysHasPartialCompletion(self):
        """
        PartialCompletion follows the header on success and on failure.
        """
        self.assertResponseGolden(
            _h("66 00 00 00 00 00  00"), SetReadFlagsResponse(partialCompletion=0)
        )
        self.assertResponseGolden(
            _h("66 00 05 00 07 80  01"),
            SetReadFlagsResponse(returnValue=0x80070005, partialCompletion=1),
        )


class SetMessageReadFlagTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopSetMessageReadFlag (0x11).
    """

    def test_requestPrivateLogon(self):
        """
        On a private mailbox logon the request has no ClientData; the
        header's handle byte is the ResponseHandleIndex.
        """
        rop = self.assertRequestGolden(
            _h("11 00 01  02  04"),
            SetMessageReadFlagRequest(
                logonId=0, inputHandleIndex=1, messageHandleIndex=2, readFlags=4
            ),
            makeCtx=_private,
        )
        self.assertEqual(rop.responseHandleIndex, 1)
        self.assertIsNone(rop.clientData)

    def test_requestPublicLogon(self):
        """
        On a public folders logon the request ends with a 24-byte
        LongTermID ClientData.
        """
        self.assertRequestGolden(
            _h("11 01 01  02  00 " + _LTID_WIRE),
            SetMessageReadFlagRequest(
                logonId=1,
                inputHandleIndex=1,
                messageHandleIndex=2,
                readFlags=0,
                clientData=_LTID,
            ),
            makeCtx=_private,
        )

    def test_requestUnknownLogon(self):
        """
        A logon never seen is taken as a private mailbox: what follows
        ReadFlags is the next ROP.
        """
        wire = _h("11 05 01  02  00") + _h("32 00 02 00")
        items = decodeRequests(wire, [], _private())
        self.assertEqual(
            items,
            [
                SetMessageReadFlagRequest(
                    logonId=5, inputHandleIndex=1, messageHandleIndex=2
                ),
                SubmitMessageRequest(inputHandleIndex=2),
            ],
        )

    def test_responseUnchanged(self):
        """
        ReadStatusChanged zero ends the success body.
        """
        self.assertResponseGolden(
            _h("11 01 00 00 00 00  00"),
            SetMessageReadFlagResponse(handleIndex=1, readStatusChanged=0),
        )

    def test_responseChanged(self):
        """
        ReadStatusChanged nonzero is followed by the LogonId and the
        ClientData.
        """
        self.assertResponseGolden(
            _h("11 01 00 00 00 00  01  01 " + _LTID_WIRE),
            SetMessageReadFlagResponse(
                handleIndex=1, readStatusChanged=1, logonId=1, clientData=_LTID
            ),
        )

    def test_responseFailure(self):
        """
        A failure response is the header alone.
        """
        self.assertResponseGolden(
            _h("11 01 b9 04 00 00"),
            SetMessageReadFlagResponse(handleIndex=1, returnValue=ecNullObject),
        )


class AttachmentTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopOpenAttachment (0x22), RopCreateAttachment (0x23),
    RopDeleteAttachment (0x24), RopSaveChangesAttachment (0x25),
    RopGetAttachmentTable (0x21) and RopGetValidAttachments (0x52).
    """

    def test_openAttachment(self):
        """
        RopOpenAttachment: OutputHandleIndex, OpenAttachmentFlags and
        AttachmentID; the response is the header alone.
        """
        self.assertRequestGolden(
            _h("22 00 01  02  01  03 00 00 00"),
            OpenAttachmentRequest(
                inputHandleIndex=1,
                outputHandleIndex=2,
                openAttachmentFlags=1,
                attachmentId=3,
            ),
        )
        self.assertResponseGolden(
            _h("22 02 00 00 00 00"), OpenAttachmentResponse(handleIndex=2)
        )
        self.assertResponseGolden(
            _h("22 02 0f 01 04 80"),
            OpenAttachmentResponse(handleIndex=2, returnValue=ecNotFound),
        )

    def test_createAttachment(self):
        """
        RopCreateAttachment: the success response gives the AttachmentID.
        """
        self.assertRequestGolden(
            _h("23 00 01  02"),
            CreateAttachmentRequest(inputHandleIndex=1, outputHandleIndex=2),
        )
        self.assertResponseGolden(
            _h("23 02 00 00 00 00  07 00 00 00"),
            CreateAttachmentResponse(handleIndex=2, attachmentId=7),
        )
        self.assertResponseGolden(
            _h("23 02 b9 04 00 00"),
            CreateAttachmentResponse(handleIndex=2, returnValue=ecNullObject),
        )

    def test_deleteAttachment(self):
        """
        RopDeleteAttachment: the AttachmentID; the response is the header.
        """
        self.assertRequestGolden(
            _h("24 00 01  07 00 00 00"),
            DeleteAttachmentRequest(inputHandleIndex=1, attachmentId=7),
        )
        self.assertResponseGolden(
            _h("24 01 00 00 00 00"), DeleteAttachmentResponse(handleIndex=1)
        )

    def test_saveChangesAttachment(self):
        """
        RopSaveChangesAttachment: the header's handle byte is the
        ResponseHandleIndex, the body the attachment's InputHandleIndex and
        SaveFlags; the response is the header.
        """
        rop = self.assertRequestGolden(
            _h("25 00 01  03  0a"),
            SaveChangesAttachmentRequest(
                inputHandleIndex=1, attachmentHandleIndex=3, saveFlags=0x0A
            ),
        )
        self.assertEqual(rop.responseHandleIndex, 1)
        self.assertResponseGolden(
            _h("25 01 00 00 00 00"), SaveChangesAttachmentResponse(handleIndex=1)
        )

    def test_getAttachmentTable(self):
        """
        RopGetAttachmentTable: OutputHandleIndex and TableFlags.
        """
        self.assertRequestGolden(
            _h("21 00 01  02  40"),
            GetAttachmentTableRequest(
                inputHandleIndex=1, outputHandleIndex=2, tableFlags=0x40
            ),
        )
        self.assertResponseGolden(
            _h("21 02 00 00 00 00"), GetAttachmentTableResponse(handleIndex=2)
        )

    def test_getValidAttachments(self):
        """
        RopGetValidAttachments: no request body; the success response is a
        u16 count of u32 attachment numbers.
        """
        self.assertRequestGolden(
            _h("52 00 01"), GetValidAttachmentsRequest(inputHandleIndex=1)
        )
        self.assertResponseGolden(
            _h("52 01 00 00 00 00  02 00  00 00 00 00  03 00 00 00"),
            GetValidAttachmentsResponse(handleIndex=1, attachmentIdArray=[0, 3]),
        )
        self.assertResponseGolden(
            _h("52 01 b9 04 00 00"),
            GetValidAttachmentsResponse(handleIndex=1, returnValue=ecNullObject),
        )


class OpenEmbeddedMessageTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for RopOpenEmbeddedMessage (0x46).
    """

    def test_request(self):
        """
        The request carries OutputHandleIndex, CodePageId and
        OpenModeFlags.
        """
        self.assertRequestGolden(
            _h("46 00 03  04  e4 04  02"),
            OpenEmbeddedMessageRequest(
                inputHandleIndex=3,
                outputHandleIndex=4,
                codePageId=1252,
                openModeFlags=2,
            ),
        )

    def test_responseSuccess(self):
        """
        Reserved and MessageId precede the RopOpenMessage layout; a
        reduced-Unicode TypedString is read as 8-bit characters.
        """
        wire = _h(
            """
            46 04 00 00 00 00       # RopId, OutputHandleIndex, ReturnValue
            00                      # Reserved
            """
            + _MID_WIRE
            + """
            00                      # HasNamedProperties
            03 46 57 3a 20 00       # SubjectPrefix: reduced Unicode "FW: "
            04 78 00 00 00          # NormalizedSubject: UTF-16 "x"
            01 00                   # RecipientCount
            01 00 03 00 00 39       # 1 column
            01                      # RowCount
            01 e4 04 00 00 09 00    # type, cpid, reserved, size 9
            03 00 01 00 00 02 00 00 00  # SMTP, 1 column, standard row: 2
            """
        )
        self.assertResponseGolden(
            wire,
            OpenEmbeddedMessageResponse(
                handleIndex=4,
                reserved=0,
                messageId=_MID,
                hasNamedProperties=0,
                subjectPrefix=TypedString(STRING_REDUCED_UNICODE, "FW: "),
                normalizedSubject=TypedString(STRING_UNICODE, "x"),
                recipientCount=1,
                recipientColumns=[PidTagDisplayType],
                recipientRows=[
                    OpenRecipientRow(
                        1,
                        1252,
                        0,
                        RecipientRow(
                            recipientFlags=0x0003,
                            recipientColumnCount=1,
                            recipientProperties=PropertyRow(ROW_STANDARD, [2]),
                        ),
                    )
                ],
            ),
        )

    def test_responseFailure(self):
        """
        A failure response is the header alone.
        """
        self.assertResponseGolden(
            _h("46 04 0f 01 04 80"),
            OpenEmbeddedMessageResponse(handleIndex=4, returnValue=ecNotFound),
        )

    def test_recordsColumns(self):
        """
        The columns are recorded under the embedded message's new handle.
        """
        ctx = RopContext()
        wire = _h(
            "46 01 00 00 00 00  00" + _MID_WIRE + "00 00 00 00 00 01 00 1f 00 fe 39 00"
        )
        decodeResponses(wire, [0, 0x99], None, ctx)
        self.assertEqual(recipientColumnsOf(ctx, 0x99), [PidTagSmtpAddress])


class TransportTests(_GoldenMixin, SynchronousTestCase):
    """
    Tests for the transport ROPs of [MS-OXCROPS] 2.2.7.
    """

    def test_submitMessageMicrosoftExample(self):
        """
        RopSubmitMessage as in [MS-OXOMSG] 4.1.1 and 4.1.2.
        """
        self.assertRequestGolden(
            _h("32 00 02 00"), SubmitMessageRequest(inputHandleIndex=2, submitFlags=0)
        )
        self.assertResponseGolden(
            _h("32 02 00 00 00 00"), SubmitMessageResponse(handleIndex=2)
        )

    def test_abortSubmitMicrosoftExample(self):
        """
        RopAbortSubmit as in [MS-OXOMSG] 4.3.1: FolderId and MessageId.
        """
        wire = _h("34 00 00 01 00 00 03 b4 79 ca 47 01 00 00 03 b7 e6 5f a7")
        self.assertRequestGolden(
            wire, AbortSubmitRequest(folderId=_FID, messageId=_MID)
        )
        self.assertResponseGolden(
            _h("34 00 0f 01 04 80"), AbortSubmitResponse(returnValue=ecNotFound)
        )

    def test_getAddressTypes(self):
        """
        RopGetAddressTypes: the success response carries a count, the byte
        size of the strings and the NUL-terminated strings.
        """
        self.assertRequestGolden(_h("49 00 00"), GetAddressTypesRequest())
        self.assertResponseGolden(
            _h("49 00 00 00 00 00  02 00  08 00  45 58 00 53 4d 54 50 00"),
            GetAddressTypesResponse(addressTypes=["EX", "SMTP"]),
        )
        self.assertResponseGolden(
            _h("49 00 b9 04 00 00"), GetAddressTypesResponse(returnValue=ecNullObject)
        )

    def test_getAddressTypesBadSize(self):
        """
        An AddressTypeSize that the strings do not fill exactly makes the
        ROP undecodable (an L{UnknownRop}).
        """
        wire = _h("49 00 00 00 00 00  01 00  05 00  45 58 00 00 00")
        items = decodeResponses(wire, [], None, RopContext())
        self.assertIsInstance(items[0], UnknownRop)
        self.assertIn("AddressTypeSize", items[0].error)

    def test_setSpooler(self):
        """
        RopSetSpooler: no request body; the response is the header.
        """
        self.assertRequestGolden(_h("47 00 00"), SetSpoolerRequest())
        self.assertResponseGolden(_h("47 00 00 00 00 00"), SetSpoolerResponse())

    def test_spoolerLockMessage(self):
        """
        RopSpoolerLockMessage: MessageId and LockState.
        """
        self.assertRequestGolden(
            _h("48 00 00 " + _MID_WIRE + " 02"),
            SpoolerLockMessageRequest(messageId=_MID, lockState=2),
        )
        self.assertResponseGolden(_h("48 00 00 00 00 00"), SpoolerLockMessageResponse())

    def test_transportSendWithValues(self):
        """
        RopTransportSend: NoPropertiesReturned zero is followed by a u16
        count of TaggedPropertyValues.
        """
        self.assertRequestGolden(
            _h("4a 00 02"), TransportSendRequest(inputHandleIndex=2)
        )
        wire = _h("""
            4a 02 00 00 00 00       # RopId, InputHandleIndex, ReturnValue
            00                      # NoPropertiesReturned
            02 00                   # PropertyValueCount
            1f 00 37 00 48 00 69 00 00 00   # PidTagSubject "Hi"
            03 00 08 0e 10 00 00 00         # PidTagMessageSize 16
            """)
        self.assertResponseGolden(
            wire,
            TransportSendResponse(
                handleIndex=2,
                noPropertiesReturned=0,
                propertyValues=[
                    TaggedPropertyValue(PidTagSubject, "Hi"),
                    TaggedPropertyValue(PidTagMessageSize, 16),
                ],
            ),
        )

    def test_transportSendWithoutValues(self):
        """
        NoPropertiesReturned nonzero ends the body; failure is the header.
        """
        self.assertResponseGolden(
            _h("4a 02 00 00 00 00  01"),
            TransportSendResponse(handleIndex=2, noPropertiesReturned=1),
        )
        self.assertResponseGolden(
            _h("4a 02 b9 04 00 00"),
            TransportSendResponse(handleIndex=2, returnValue=ecNullObject),
        )

    def test_transportNewMail(self):
        """
        RopTransportNewMail: MessageId, FolderId, MessageClass and
        MessageFlags.
        """
        wire = _h(
            "51 00 00 "
            + _MID_WIRE
            + _FID_WIRE
            + "49 50 4d 2e 4e 6f 74 65 00"  # "IPM.Note"
            + "01 00 00 00"
        )
        self.assertRequestGolden(
            wire,
            TransportNewMailRequest(
                messageId=_MID, folderId=_FID, messageClass="IPM.Note", messageFlags=1
            ),
        )
        self.assertResponseGolden(_h("51 00 00 00 00 00"), TransportNewMailResponse())

    def test_getTransportFolder(self):
        """
        RopGetTransportFolder: the success response gives the FolderId.
        """
        self.assertRequestGolden(_h("6d 00 00"), GetTransportFolderRequest())
        self.assertResponseGolden(
            _h("6d 00 00 00 00 00 " + _FID_WIRE),
            GetTransportFolderResponse(folderId=_FID),
        )
        self.assertResponseGolden(
            _h("6d 00 b9 04 00 00"),
            GetTransportFolderResponse(returnValue=ecNullObject),
        )

    def test_optionsDataRequest(self):
        """
        RopOptionsData request: AddressType and WantWin32.
        """
        self.assertRequestGolden(
            _h("6f 00 00  45 58 00  01"),
            OptionsDataRequest(addressType="EX", wantWin32=1),
        )

    def test_optionsDataWithHelpFile(self):
        """
        A nonempty HelpFile is followed by HelpFileName.
        """
        wire = _h("""
            6f 00 00 00 00 00       # RopId, InputHandleIndex, ReturnValue
            01                      # Reserved
            03 00 aa bb cc          # OptionsInfo
            02 00 dd ee             # HelpFile
            68 2e 68 6c 70 00       # HelpFileName "h.hlp"
            """)
        self.assertResponseGolden(
            wire,
            OptionsDataResponse(
                reserved=1,
                optionsInfo=b"\xaa\xbb\xcc",
                helpFile=b"\xdd\xee",
                helpFileName="h.hlp",
            ),
        )

    def test_optionsDataWithoutHelpFile(self):
        """
        An empty HelpFile has no HelpFileName; failure is the header.
        """
        self.assertResponseGolden(
            _h("6f 00 00 00 00 00  00  00 00  00 00"),
            OptionsDataResponse(helpFileName=None),
        )
        self.assertResponseGolden(
            _h("6f 00 b9 04 00 00"), OptionsDataResponse(returnValue=ecNullObject)
        )


# Property-based tests.

_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_u32 = st.integers(0, 0xFFFFFFFF)
_u64 = st.integers(0, 0xFFFFFFFFFFFFFFFF)
_ascii = st.text(st.characters(min_codepoint=1, max_codepoint=0xFF), max_size=8)
_unicode = st.text(st.characters(min_codepoint=1, max_codepoint=0xD7FF), max_size=6)
_blob = st.binary(max_size=8)

# Column types and a strategy for their values.
_VALUES = {
    0x0002: _u16,
    0x0003: _u32,
    0x000B: st.booleans(),
    0x0014: _u64,
    0x001E: _ascii,
    0x001F: _unicode,
    0x0040: _u64,
    0x0102: _blob,
}
_TAGS = st.builds(
    lambda pid, t: (pid << 16) | t,
    st.integers(0x0001, 0x7FFF),
    st.sampled_from(sorted(_VALUES)),
)
_columns = st.lists(_TAGS, max_size=4)

_typedStrings = st.one_of(
    st.just(TypedString(STRING_NONE, None)),
    st.just(TypedString(STRING_EMPTY, "")),
    st.builds(TypedString, st.just(STRING_8BIT), _ascii),
    st.builds(TypedString, st.just(STRING_REDUCED_UNICODE), _ascii),
    st.builds(TypedString, st.just(STRING_UNICODE), _unicode),
)
_ltids = st.builds(LongTermId, st.uuids(), st.integers(0, 2**48 - 1), _u16)


@st.composite
def _propertyRows(draw, columns):
    if draw(st.booleans()):
        return PropertyRow(
            ROW_STANDARD, [draw(_VALUES[tag & 0xFFFF]) for tag in columns]
        )
    values = []
    for tag in columns:
        flag = draw(st.sampled_from([FLAG_VALUE, FLAG_NOT_FOUND, FLAG_ERROR]))
        if flag == FLAG_VALUE:
            values.append(FlaggedPropertyValue(flag, draw(_VALUES[tag & 0xFFFF])))
        elif flag == FLAG_ERROR:
            values.append(FlaggedPropertyValue(flag, draw(_u32)))
        else:
            values.append(FlaggedPropertyValue(flag, None))
    return PropertyRow(ROW_FLAGGED, values)


@st.composite
def _recipientRows(draw, columns):
    kind = draw(st.integers(0, 7))
    bits = draw(
        st.sets(
            st.sampled_from(
                [0x8000, 0x0400, 0x0200, 0x0100, 0x80, 0x40, 0x20, 0x10, 0x08]
            )
        )
    )
    flags = kind | sum(bits)
    string = _unicode if flags & 0x0200 else _ascii
    row = RecipientRow(flags)
    if kind == 1:
        row.addressPrefixUsed = draw(_u8)
        row.displayType = draw(_u8)
        row.x500dn = draw(_ascii)
    elif kind in (6, 7):
        row.entryId = draw(_blob)
        row.searchKey = draw(_blob)
    elif kind == 0 and flags & 0x8000:
        row.addressType = draw(_ascii)
    if flags & 0x08:
        row.emailAddress = draw(string)
    if flags & 0x10:
        row.displayName = draw(string)
    if flags & 0x0400:
        row.simpleDisplayName = draw(string)
    if flags & 0x20:
        row.transmittableDisplayName = draw(string)
    count = draw(st.integers(0, len(columns)))
    row.recipientColumnCount = count
    row.recipientProperties = draw(_propertyRows(columns[:count]))
    return row


def _rowOrRaw(columns):
    if columns is None:
        # Unknown columns: the row is kept raw (and must not be empty).
        return st.binary(min_size=1, max_size=12)
    return _recipientRows(columns)


@st.composite
def _messageInfo(draw, cls, handleIndex, extra=None):
    columns = draw(_columns)
    rows = draw(
        st.lists(
            st.builds(OpenRecipientRow, _u8, _u16, _u16, _recipientRows(columns)),
            max_size=3,
        )
    )
    fields = dict(
        handleIndex=handleIndex,
        hasNamedProperties=draw(st.sampled_from([0, 1])),
        subjectPrefix=draw(_typedStrings),
        normalizedSubject=draw(_typedStrings),
        recipientCount=draw(_u16),
        recipientColumns=columns,
        recipientRows=rows,
    )
    fields.update(extra or {})
    return cls(**fields)


@st.composite
def _modifyRecipients(draw, logonId, inputHandleIndex):
    columns = draw(_columns)
    rows = draw(
        st.lists(
            st.builds(
                ModifyRecipientRow,
                _u32,
                _u8,
                st.one_of(st.none(), _recipientRows(columns)),
            ),
            max_size=3,
        )
    )
    return ModifyRecipientsRequest(
        logonId=logonId,
        inputHandleIndex=inputHandleIndex,
        recipientColumns=columns,
        recipientRows=rows,
    )


_taggedValues = st.builds(
    lambda tag, data: TaggedPropertyValue(tag, data.draw(_VALUES[tag & 0xFFFF])),
    _TAGS,
    st.data(),
)


def _requests():
    """
    Random valid requests of every ROP of the module (in a context where
    logon 0 is private and logon 1 public).
    """
    h = dict(logonId=st.just(0), inputHandleIndex=_u8)
    return st.one_of(
        st.builds(
            OpenMessageRequest,
            outputHandleIndex=_u8,
            codePageId=_u16,
            folderId=_u64,
            openModeFlags=_u8,
            messageId=_u64,
            **h
        ),
        st.builds(
            CreateMessageRequest,
            outputHandleIndex=_u8,
            codePageId=_u16,
            folderId=_u64,
            associatedFlag=_u8,
            **h
        ),
        st.builds(
            SaveChangesMessageRequest, messageHandleIndex=_u8, saveFlags=_u8, **h
        ),
        st.builds(RemoveAllRecipientsRequest, reserved=_u32, **h),
        _u8.flatmap(lambda i: _modifyRecipients(0, i)),
        st.builds(ReadRecipientsRequest, rowId=_u32, reserved=_u16, **h),
        st.builds(ReloadCachedInformationRequest, reserved=_u16, **h),
        st.builds(
            SetMessageStatusRequest,
            messageId=_u64,
            messageStatusFlags=_u32,
            messageStatusMask=_u32,
            **h
        ),
        st.builds(GetMessageStatusRequest, messageId=_u64, **h),
        st.builds(
            SetReadFlagsRequest,
            wantAsynchronous=_u8,
            readFlags=_u8,
            messageIds=st.lists(_u64, max_size=4),
            **h
        ),
        st.builds(
            SetMessageReadFlagRequest,
            logonId=st.just(0),
            inputHandleIndex=_u8,
            messageHandleIndex=_u8,
            readFlags=_u8,
        ),
        st.builds(
            SetMessageReadFlagRequest,
            logonId=st.just(1),
            inputHandleIndex=_u8,
            messageHandleIndex=_u8,
            readFlags=_u8,
            clientData=_ltids,
        ),
        st.builds(
            OpenAttachmentRequest,
            outputHandleIndex=_u8,
            openAttachmentFlags=_u8,
            attachmentId=_u32,
            **h
        ),
        st.builds(CreateAttachmentRequest, outputHandleIndex=_u8, **h),
        st.builds(DeleteAttachmentRequest, attachmentId=_u32, **h),
        st.builds(
            SaveChangesAttachmentRequest, attachmentHandleIndex=_u8, saveFlags=_u8, **h
        ),
        st.builds(
            OpenEmbeddedMessageRequest,
            outputHandleIndex=_u8,
            codePageId=_u16,
            openModeFlags=_u8,
            **h
        ),
        st.builds(
            GetAttachmentTableRequest, outputHandleIndex=_u8, tableFlags=_u8, **h
        ),
        st.builds(GetValidAttachmentsRequest, **h),
        st.builds(SubmitMessageRequest, submitFlags=_u8, **h),
        st.builds(AbortSubmitRequest, folderId=_u64, messageId=_u64, **h),
        st.builds(GetAddressTypesRequest, **h),
        st.builds(SetSpoolerRequest, **h),
        st.builds(SpoolerLockMessageRequest, messageId=_u64, lockState=_u8, **h),
        st.builds(TransportSendRequest, **h),
        st.builds(
            TransportNewMailRequest,
            messageId=_u64,
            folderId=_u64,
            messageClass=_ascii,
            messageFlags=_u32,
            **h
        ),
        st.builds(GetTransportFolderRequest, **h),
        st.builds(OptionsDataRequest, addressType=_ascii, wantWin32=_u8, **h),
    )


# Response classes whose body is present only on success, with a strategy
# for their success fields.
_SUCCESS_BODIES = {
    CreateMessageResponse: st.one_of(
        st.fixed_dictionaries({"hasMessageId": st.just(1), "messageId": _u64}),
        st.fixed_dictionaries({"hasMessageId": st.just(0)}),
    ),
    SaveChangesMessageResponse: st.fixed_dictionaries(
        {"inputHandleIndex": _u8, "messageId": _u64}
    ),
    ReadRecipientsResponse: st.fixed_dictionaries(
        {
            "recipientRows": st.lists(
                st.builds(ReadRecipientRow, _u32, _u8, _u16, _u16, _rowOrRaw(None)),
                max_size=3,
            )
        }
    ),
    SetMessageStatusResponse: st.fixed_dictionaries({"messageStatusFlags": _u32}),
    GetMessageStatusResponse: st.fixed_dictionaries({"messageStatusFlags": _u32}),
    SetMessageReadFlagResponse: st.one_of(
        st.fixed_dictionaries({"readStatusChanged": st.just(0)}),
        st.fixed_dictionaries(
            {"readStatusChanged": st.just(1), "logonId": _u8, "clientData": _ltids}
        ),
    ),
    CreateAttachmentResponse: st.fixed_dictionaries({"attachmentId": _u32}),
    GetValidAttachmentsResponse: st.fixed_dictionaries(
        {"attachmentIdArray": st.lists(_u32, max_size=4)}
    ),
    GetAddressTypesResponse: st.fixed_dictionaries(
        {"addressTypes": st.lists(_ascii, max_size=4)}
    ),
    TransportSendResponse: st.one_of(
        st.fixed_dictionaries({"noPropertiesReturned": st.just(1)}),
        st.fixed_dictionaries(
            {
                "noPropertiesReturned": st.just(0),
                "propertyValues": st.lists(_taggedValues, max_size=3),
            }
        ),
    ),
    GetTransportFolderResponse: st.fixed_dictionaries({"folderId": _u64}),
    OptionsDataResponse: st.one_of(
        st.fixed_dictionaries(
            {"reserved": _u8, "optionsInfo": _blob, "helpFile": st.just(b"")}
        ),
        st.fixed_dictionaries(
            {
                "reserved": _u8,
                "optionsInfo": _blob,
                "helpFile": st.binary(min_size=1, max_size=8),
                "helpFileName": _ascii,
            }
        ),
    ),
}

_HEADER_ONLY = [
    RemoveAllRecipientsResponse,
    ModifyRecipientsResponse,
    OpenAttachmentResponse,
    DeleteAttachmentResponse,
    SaveChangesAttachmentResponse,
    GetAttachmentTableResponse,
    SubmitMessageResponse,
    AbortSubmitResponse,
    SetSpoolerResponse,
    SpoolerLockMessageResponse,
    TransportNewMailResponse,
]

_MESSAGE_INFO = [
    OpenMessageResponse,
    ReloadCachedInformationResponse,
    OpenEmbeddedMessageResponse,
]


def _responses():
    """
    Random valid responses of every ROP of the module, success and
    failure forms.
    """
    failures = [
        st.builds(cls, handleIndex=_u8, returnValue=st.integers(1, 0xFFFFFFFF))
        for cls in list(_SUCCESS_BODIES) + _MESSAGE_INFO
    ]
    successes = [
        st.builds(lambda cls, h, d: cls(handleIndex=h, **d), st.just(cls), _u8, fields)
        for cls, fields in _SUCCESS_BODIES.items()
    ]
    infos = [
        _u8.flatmap(lambda h, cls=cls: _messageInfo(cls, h))
        for cls in _MESSAGE_INFO[:2]
    ] + [
        st.tuples(_u8, _u8, _u64).flatmap(
            lambda t: _messageInfo(
                OpenEmbeddedMessageResponse, t[0], {"reserved": t[1], "messageId": t[2]}
            )
        )
    ]
    headers = [
        st.builds(cls, handleIndex=_u8, returnValue=_u32) for cls in _HEADER_ONLY
    ]
    setReadFlags = [
        st.builds(
            SetReadFlagsResponse,
            handleIndex=_u8,
            returnValue=_u32,
            partialCompletion=_u8,
        )
    ]
    return st.one_of(failures + successes + infos + headers + setReadFlags)


_MY_IDS = sorted(
    {
        cls.ROP_ID
        for cls in vars(message).values()
        if isinstance(cls, type)
        and getattr(cls, "__module__", "") == message.__name__
        and getattr(cls, "ROP_ID", 0)
    }
)

# How UnknownRop.error names an exception other than RopError.
_FOREIGN_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning): ")


class PropertyTests(SynchronousTestCase):
    """
    Property-based tests over every ROP of the module.
    """

    def test_everyRopOfTheModuleRegistered(self):
        """
        The module registers a request and a response class for each of
        its 27 ROPs, and those classes are the ones the framework uses.
        """
        loadFamilies()
        ids = [
            0x03,
            0x06,
            0x0C,
            0x0D,
            0x0E,
            0x0F,
            0x10,
            0x11,
            0x1F,
            0x20,
            0x21,
            0x22,
            0x23,
            0x24,
            0x25,
            0x32,
            0x34,
            0x46,
            0x47,
            0x48,
            0x49,
            0x4A,
            0x51,
            0x52,
            0x66,
            0x6D,
            0x6F,
        ]
        self.assertEqual(_MY_IDS, ids)
        for ropId in ids:
            self.assertEqual(base.REQUEST_CLASSES[ropId].__module__, message.__name__)
            self.assertEqual(base.RESPONSE_CLASSES[ropId].__module__, message.__name__)

    @_FAST
    @given(st.lists(_requests(), max_size=6))
    def test_requestsRoundTrip(self, requests):
        """
        Random valid requests, as one mixed buffer, encode and decode back
        to equal objects and the same bytes.
        """
        wire = encodeRequests(requests, _private())
        decoded = decodeRequests(wire, [], _private())
        self.assertEqual(decoded, requests)
        self.assertEqual(encodeRequests(decoded, _private()), wire)

    @_FAST
    @given(st.lists(_responses(), max_size=6))
    def test_responsesRoundTrip(self, responses):
        """
        Random valid responses (success and failure forms), as one mixed
        buffer, encode and decode back to equal objects and the same bytes.
        """
        wire = encodeResponses(responses, None, RopContext())
        decoded = decodeResponses(wire, [], None, RopContext())
        self.assertEqual(decoded, responses)
        self.assertEqual(encodeResponses(decoded, None, RopContext()), wire)

    def _assertOwnErrors(self, items):
        for item in items:
            if isinstance(item, UnknownRop):
                self.assertIsNone(_FOREIGN_ERROR.match(item.error), item.error)

    def _onlyMine(self, items):
        return all(
            isinstance(i, UnknownRop) or type(i).__module__ == message.__name__
            for i in items
        )

    @_FAST
    @given(st.sampled_from(_MY_IDS), st.binary(max_size=80))
    def test_randomRequestBytes(self, ropId, body):
        """
        Random bytes after one of the module's RopIds decode without any
        error but L{RopError} and encode back to the same bytes.
        """
        wire = bytes([ropId]) + body
        items = decodeRequests(wire, [1, 2, 3], _private())
        self._assertOwnErrors(items)
        if self._onlyMine(items):
            self.assertEqual(encodeRequests(items, _private(), [1, 2, 3]), wire)

    @_FAST
    @given(st.sampled_from(_MY_IDS), st.binary(max_size=80))
    def test_randomResponseBytes(self, ropId, body):
        """
        Random bytes after one of the module's RopIds decode as responses
        without any error but L{RopError} and encode back to the same bytes.
        """
        wire = bytes([ropId]) + body
        items = decodeResponses(wire, [], None, RopContext())
        self._assertOwnErrors(items)
        if self._onlyMine(items):
            self.assertEqual(encodeResponses(items, None, RopContext()), wire)

    @_FAST
    @given(st.sampled_from(_MY_IDS), st.booleans(), st.binary(max_size=60))
    def test_readBodyRaisesOnlyRopError(self, ropId, asResponse, body):
        """
        Each class's readBody, fed random bytes, returns or raises
        L{RopError}, nothing else.
        """
        loadFamilies()
        ctx = _private()
        ctx.handleState(RECIPIENT_COLUMNS)[2] = [PidTagDisplayType, PidTagSubject]
        ctx.handles = [1, 2]
        r = Reader(body)
        try:
            if asResponse:
                base.RESPONSE_CLASSES[ropId].readBody(
                    r, ctx, None, {"handleIndex": 1, "returnValue": 0}
                )
            else:
                base.REQUEST_CLASSES[ropId].readBody(
                    r, ctx, {"logonId": body[:1] == b"\x01", "inputHandleIndex": 1}
                )
        except RopError:
            pass
