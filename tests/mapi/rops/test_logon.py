"""
Tests for L{mapiproxy.mapi.rops.logon}: the store, folder, permission and
rule ROPs.

The golden buffers are laid out by hand from the field tables of
[MS-OXCROPS] 2.2.3, 2.2.4, 2.2.10 and 2.2.11 (one hex string per field),
with values chosen so that every optional or flag-dependent field is both
present and absent somewhere. Two buffers are Microsoft's own examples:
the RopMoveFolder request of [MS-OXCFOLD] 4.5.1 and the RopEmptyFolder
request of [MS-OXCPRPT] 4.5. The layouts agree with gromox's independent
implementation (C{exch/emsmdb/rop_ext.cpp}).
"""

import dataclasses
import uuid

from hypothesis import HealthCheck, given, settings, strategies as st

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import RopError
from mapiproxy.mapi.oxcdata import (
    ActionBlock,
    AndRestriction,
    ExistRestriction,
    FlaggedPropertyValue,
    LongTermId,
    OrRestriction,
    PropertyRestriction,
    PropertyRow,
    RuleActions,
    TaggedPropertyValue,
)
from mapiproxy.mapi.rops import (
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
from mapiproxy.mapi.rops import logon
from mapiproxy.mapi.rops.logon import (
    EC_DST_NULL_OBJECT,
    EC_WRONG_SERVER,
    LOGON_PRIVATE,
    RECEIVE_FOLDER_TABLE_COLUMNS,
    CopyFolderRequest,
    CopyFolderResponse,
    CreateFolderRequest,
    CreateFolderResponse,
    DeleteFolderRequest,
    DeleteFolderResponse,
    DeleteMessagesRequest,
    DeleteMessagesResponse,
    EmptyFolderRequest,
    EmptyFolderResponse,
    GetContentsTableRequest,
    GetContentsTableResponse,
    GetHierarchyTableRequest,
    GetHierarchyTableResponse,
    GetOwningServersRequest,
    GetOwningServersResponse,
    GetPermissionsTableRequest,
    GetPermissionsTableResponse,
    GetPerUserGuidRequest,
    GetPerUserGuidResponse,
    GetPerUserLongTermIdsRequest,
    GetPerUserLongTermIdsResponse,
    GetReceiveFolderRequest,
    GetReceiveFolderResponse,
    GetReceiveFolderTableRequest,
    GetReceiveFolderTableResponse,
    GetRulesTableRequest,
    GetRulesTableResponse,
    GetSearchCriteriaRequest,
    GetSearchCriteriaResponse,
    GetStoreStateRequest,
    GetStoreStateResponse,
    HardDeleteMessagesAndSubfoldersRequest,
    HardDeleteMessagesAndSubfoldersResponse,
    HardDeleteMessagesRequest,
    HardDeleteMessagesResponse,
    IdFromLongTermIdRequest,
    IdFromLongTermIdResponse,
    LogonRequest,
    LogonResponse,
    LogonTime,
    LongTermIdFromIdRequest,
    LongTermIdFromIdResponse,
    ModifyPermissionsRequest,
    ModifyPermissionsResponse,
    ModifyRulesRequest,
    ModifyRulesResponse,
    MoveCopyMessagesRequest,
    MoveCopyMessagesResponse,
    MoveFolderRequest,
    MoveFolderResponse,
    OpenFolderRequest,
    OpenFolderResponse,
    PermissionData,
    PublicFolderIsGhostedRequest,
    PublicFolderIsGhostedResponse,
    ReadPerUserInformationRequest,
    ReadPerUserInformationResponse,
    RuleData,
    SetReceiveFolderRequest,
    SetReceiveFolderResponse,
    SetSearchCriteriaRequest,
    SetSearchCriteriaResponse,
    UpdateDeferredActionMessagesRequest,
    UpdateDeferredActionMessagesResponse,
    WritePerUserInformationRequest,
    WritePerUserInformationResponse,
)

#: The RopIds this family owns.
R1_IDS = (
    0xFE, 0x27, 0x26, 0x68, 0x7B, 0x42, 0x45, 0x43, 0x44, 0x60, 0x61, 0x63,
    0x64, 0x02, 0x1C, 0x1D, 0x30, 0x31, 0x33, 0x35, 0x36, 0x58, 0x92, 0x1E,
    0x91, 0x04, 0x05, 0x40, 0x3E, 0x41, 0x3F, 0x57,
)  # fmt: skip

# Three GUIDs and their little-endian wire form ([MS-DTYP] 2.3.4.2).
G1 = uuid.UUID("00112233-4455-6677-8899-aabbccddeeff")
G1_WIRE = "33221100 5544 7766 8899aabbccddeeff"
G2 = uuid.UUID("c0c1c2c3-c4c5-c6c7-c8c9-cacbcccdcecf")
G2_WIRE = "c3c2c1c0 c5c4 c7c6 c8c9cacbcccdcecf"
G3 = uuid.UUID("10203040-5060-7080-90a0-b0c0d0e0f000")
G3_WIRE = "40302010 6050 8070 90a0b0c0d0e0f000"
NIL = uuid.UUID(int=0)
NIL_WIRE = "00" * 16

# A LongTermID ([MS-OXCDATA] 2.2.1.3.1): GUID, 6-byte GlobalCounter
# (big-endian), u16 Pad.
LTID1 = LongTermId(G1, 0x00000000A1B2, 0)
LTID1_WIRE = G1_WIRE + "00000000a1b2" + "0000"
LTID2 = LongTermId(G2, 0x010203040506, 0)
LTID2_WIRE = G2_WIRE + "010203040506" + "0000"

# Thirteen FolderIds 0x0001000000000001 + n (u64 each).
FOLDER_IDS = [0x0001000000000001 + n for n in range(13)]
FOLDER_IDS_WIRE = "".join(
    (0x0001000000000001 + n).to_bytes(8, "little").hex() for n in range(13)
)


def _h(*parts):
    """
    @return: The bytes of hex strings, spaces ignored.
    """
    return bytes.fromhex("".join(parts).replace(" ", ""))


def _asciiz(s):
    return (s.encode("latin-1") + b"\x00").hex()


def _unicodez(s):
    return (s.encode("utf-16-le") + b"\x00\x00").hex()


class _GoldenMixin:
    """
    Golden-buffer assertions: the decoded object equals the expected one
    (every field compared), and both it and a freshly built object encode
    to the same bytes.
    """

    def assertRequestGolden(self, data, expected, ctx=None):
        """
        Decode C{data} as one request and check both directions.

        @return: The decoded request.
        """
        ctx = ctx if ctx is not None else RopContext()
        decoded = decodeRequests(data, [1, 2, 3], ctx)
        self.assertEqual(len(decoded), 1, decoded)
        self.assertEqual(decoded[0], expected)
        self.assertEqual(encodeRequests(decoded, RopContext()), data)
        self.assertEqual(encodeRequests([expected], RopContext()), data)
        return decoded[0]

    def assertResponseGolden(self, data, expected, request=None, ctx=None):
        """
        Decode C{data} as one response to C{request} and check both
        directions.

        @return: The decoded response.
        """
        ctx = ctx if ctx is not None else RopContext()
        requests = [request] if request is not None else None
        decoded = decodeResponses(data, [1, 2, 3], requests, ctx)
        self.assertEqual(len(decoded), 1, decoded)
        self.assertEqual(decoded[0], expected)
        self.assertEqual(encodeResponses(decoded, requests, RopContext()), data)
        self.assertEqual(encodeResponses([expected], requests, RopContext()), data)
        return decoded[0]


class LogonTests(_GoldenMixin, SynchronousTestCase):
    """
    RopLogon ([MS-OXCROPS] 2.2.3.1).
    """

    PRIVATE_REQUEST = _h(
        "fe 00 01",  # RopId, LogonId 0, OutputHandleIndex 1
        "01",  # LogonFlags: Private
        "0c0c0001",  # OpenFlags 0x01000C0C
        "00000000",  # StoreState
        "0c00",  # EssdnSize 12
        _asciiz("/o=Org/cn=u"),  # Essdn
    )

    PRIVATE_RESPONSE = _h(
        "fe 01 00000000",  # RopId, OutputHandleIndex 1, ReturnValue
        "01",  # LogonFlags
        FOLDER_IDS_WIRE,  # FolderIds (13 x u64)
        "07",  # ResponseFlags: Reserved | OwnerRight | SendAsRight
        G1_WIRE,  # MailboxGuid
        "0100",  # ReplId
        G2_WIRE,  # ReplGuid
        "05 1e 0e 02 11 06 e807",  # LogonTime 2024-06-17 (Tue) 14:30:05
        "0000eeffc0da0101",  # GwartTime
        "00000001",  # StoreState 0x01000000
    )

    def _privateRequest(self):
        return LogonRequest(
            logonId=0,
            inputHandleIndex=1,
            logonFlags=LOGON_PRIVATE,
            openFlags=0x01000C0C,
            storeState=0,
            essdn="/o=Org/cn=u",
        )

    def _privateResponse(self):
        return LogonResponse(
            handleIndex=1,
            logonFlags=LOGON_PRIVATE,
            folderIds=list(FOLDER_IDS),
            responseFlags=0x07,
            mailboxGuid=G1,
            replId=1,
            replGuid=G2,
            logonTime=LogonTime(5, 30, 14, 2, 17, 6, 2024),
            gwartTime=0x0101DAC0FFEE0000,
            storeState=0x01000000,
        )

    def test_privateRequest(self):
        """
        A private-mailbox RopLogon request decodes every field, records its
        LogonFlags in C{ctx.logons} and encodes back to the same bytes.
        """
        ctx = RopContext()
        decoded = self.assertRequestGolden(
            self.PRIVATE_REQUEST, self._privateRequest(), ctx
        )
        self.assertEqual(decoded.outputHandleIndex, 1)
        self.assertEqual(decoded.essdn, "/o=Org/cn=u")
        self.assertEqual(ctx.logons, {0: LOGON_PRIVATE})

    def test_publicRequestWithoutEssdn(self):
        """
        A public-folders RopLogon request with EssdnSize 0 decodes with
        C{essdn} None and records flags 0 under its LogonId.
        """
        data = _h(
            "fe 03 00",  # LogonId 3, OutputHandleIndex 0
            "00",  # LogonFlags: public
            "02020000",  # OpenFlags PUBLIC | IGNORE_HOME_MDB
            "00000000",  # StoreState
            "0000",  # EssdnSize 0: no Essdn
        )
        expected = LogonRequest(logonId=3, openFlags=0x202, essdn=None)
        ctx = RopContext()
        self.assertRequestGolden(data, expected, ctx)
        self.assertEqual(ctx.logons, {3: 0})

    def test_emptyEssdnIsNotNone(self):
        """
        An Essdn of only its terminator decodes as the empty string, which
        encodes back with EssdnSize 1.
        """
        data = _h("fe 00 00 01 00000000 00000000 0100 00")
        self.assertRequestGolden(data, LogonRequest(logonFlags=1, essdn=""))

    def test_outputHandleIndexAlias(self):
        """
        Setting C{outputHandleIndex} of a RopLogon request sets the third
        header byte.
        """
        request = LogonRequest(logonFlags=1)
        request.outputHandleIndex = 7
        data = encodeRequests([request], RopContext())
        self.assertEqual(data[:3], b"\xfe\x00\x07")

    def test_unterminatedEssdn(self):
        """
        An Essdn whose last byte is not NUL is refused with L{RopError}.
        """
        data = _h("01 00000000 00000000 0200 4142")
        self.assertRaises(
            RopError,
            LogonRequest.readBody,
            Reader(data),
            RopContext(),
            {"logonId": 0, "inputHandleIndex": 0},
        )
        decoded = decodeRequests(_h("fe 00 00") + data, [], RopContext())
        self.assertIsInstance(decoded[0], UnknownRop)

    def test_privateResponse(self):
        """
        The success response to a private logon has the private-mailbox
        form (ResponseFlags, MailboxGuid, LogonTime, GwartTime, StoreState).
        """
        decoded = self.assertResponseGolden(
            self.PRIVATE_RESPONSE, self._privateResponse(), self._privateRequest()
        )
        self.assertEqual(decoded.logonTime.year, 2024)
        self.assertEqual(decoded.folderIds[4], 0x0001000000000005)
        self.assertEqual(decoded.perUserGuid, NIL)

    def test_privateResponseWithoutRequest(self):
        """
        Without the request, the response's own LogonFlags select the form.
        """
        self.assertResponseGolden(self.PRIVATE_RESPONSE, self._privateResponse())

    def test_publicResponse(self):
        """
        The success response to a public-folders logon has ReplId, ReplGuid
        and PerUserGuid after the folder IDs, and nothing else.
        """
        data = _h(
            "fe 00 00000000",
            "00",  # LogonFlags
            FOLDER_IDS_WIRE,
            "0500",  # ReplId
            G3_WIRE,  # ReplGuid
            G2_WIRE,  # PerUserGuid
        )
        request = LogonRequest(openFlags=2)
        expected = LogonResponse(
            folderIds=list(FOLDER_IDS), replId=5, replGuid=G3, perUserGuid=G2
        )
        decoded = self.assertResponseGolden(data, expected, request)
        self.assertEqual(decoded.mailboxGuid, NIL)
        self.assertEqual(decoded.logonTime, LogonTime())

    def test_responseFormFollowsRequest(self):
        """
        The request's LogonFlags, not the response's, choose the form: the
        same bytes that are a public response to a public request are
        rejected as too short for the private form.
        """
        data = _h("fe 00 00000000", "01", FOLDER_IDS_WIRE, "0500", G3_WIRE, G2_WIRE)
        public = decodeResponses(data, [], [LogonRequest()], RopContext())
        self.assertEqual(public[0].perUserGuid, G2)
        private = decodeResponses(
            data, [], [LogonRequest(logonFlags=LOGON_PRIVATE)], RopContext()
        )
        self.assertIsInstance(private[0], UnknownRop)

    def test_redirectResponse(self):
        """
        ReturnValue ecWrongServer carries LogonFlags, ServerNameSize (with
        the terminator) and the server's name.
        """
        data = _h("fe 01 78040000", "01", "09", _asciiz("mbx2.lab"))
        expected = LogonResponse(
            handleIndex=1,
            returnValue=EC_WRONG_SERVER,
            logonFlags=1,
            serverName="mbx2.lab",
        )
        self.assertResponseGolden(data, expected, self._privateRequest())

    def test_failureResponseHasNoBody(self):
        """
        Any other failure has no body: the next response starts right after
        ReturnValue.
        """
        data = _h("fe 01 11010480", "7b 00 00000000 00000001")
        decoded = decodeResponses(
            data, [], [self._privateRequest(), GetStoreStateRequest()], RopContext()
        )
        self.assertEqual(
            decoded,
            [
                LogonResponse(handleIndex=1, returnValue=0x80040111),
                GetStoreStateResponse(storeState=0x01000000),
            ],
        )

    def test_wrongFolderIdCount(self):
        """
        Encoding a success response without exactly 13 folder IDs raises
        L{RopError}.
        """
        response = self._privateResponse()
        response.folderIds = FOLDER_IDS[:12]
        self.assertRaises(
            RopError,
            encodeResponses,
            [response],
            [self._privateRequest()],
            RopContext(),
        )


class ReceiveFolderTests(_GoldenMixin, SynchronousTestCase):
    """
    RopGetReceiveFolder, RopSetReceiveFolder, RopGetReceiveFolderTable
    ([MS-OXCROPS] 2.2.3.2-2.2.3.4).
    """

    def test_getReceiveFolderRequest(self):
        """
        RopGetReceiveFolder carries an 8-bit message class.
        """
        data = _h("27 00 00", _asciiz("IPM.Note"))
        self.assertRequestGolden(data, GetReceiveFolderRequest(messageClass="IPM.Note"))

    def test_getReceiveFolderResponse(self):
        """
        Its success response carries a FolderId and the explicit class.
        """
        data = _h("27 00 00000000", "0100000000001234", _asciiz("IPM"))
        expected = GetReceiveFolderResponse(
            folderId=0x3412000000000001, explicitMessageClass="IPM"
        )
        self.assertResponseGolden(data, expected, GetReceiveFolderRequest())

    def test_getReceiveFolderFailure(self):
        """
        Its failure response has no body.
        """
        data = _h("27 00 0f010480")
        expected = GetReceiveFolderResponse(returnValue=0x8004010F)
        self.assertResponseGolden(data, expected, GetReceiveFolderRequest())

    def test_setReceiveFolder(self):
        """
        RopSetReceiveFolder carries a FolderId and a class; its response
        has no body.
        """
        data = _h("26 00 00", "0100000000000009", _asciiz("IPM.Note"))
        self.assertRequestGolden(
            data,
            SetReceiveFolderRequest(
                folderId=0x0900000000000001, messageClass="IPM.Note"
            ),
        )
        self.assertResponseGolden(_h("26 00 00000000"), SetReceiveFolderResponse())

    def test_getReceiveFolderTable(self):
        """
        RopGetReceiveFolderTable answers RowCount u32 and PropertyRows of
        FolderId, 8-bit MessageClass and LastModificationTime, standard or
        flagged.
        """
        self.assertRequestGolden(_h("68 00 00"), GetReceiveFolderTableRequest())
        data = _h(
            "68 00 00000000",
            "02000000",  # RowCount
            "00",  # StandardPropertyRow
            "0100000000000002",
            _asciiz("IPM"),
            "00409d5a1c0fd501",
            "01",  # FlaggedPropertyRow
            "00 0100000000000003",
            "01",  # MessageClass not found
            "0a 0f010480",  # LastModificationTime: error ecNotFound
        )
        expected = GetReceiveFolderTableResponse(
            rows=[
                PropertyRow(0, [0x0200000000000001, "IPM", 0x01D50F1C5A9D4000]),
                PropertyRow(
                    1,
                    [
                        FlaggedPropertyValue(0, 0x0300000000000001),
                        FlaggedPropertyValue(1, None),
                        FlaggedPropertyValue(0x0A, 0x8004010F),
                    ],
                ),
            ]
        )
        self.assertEqual(
            RECEIVE_FOLDER_TABLE_COLUMNS, (0x67480014, 0x001A001E, 0x30080040)
        )
        self.assertResponseGolden(data, expected, GetReceiveFolderTableRequest())


class StoreTests(_GoldenMixin, SynchronousTestCase):
    """
    RopGetStoreState, RopGetOwningServers, RopPublicFolderIsGhosted and the
    ID ROPs ([MS-OXCROPS] 2.2.3.5-2.2.3.11).
    """

    def test_getStoreState(self):
        """
        RopGetStoreState has no request body and answers StoreState.
        """
        self.assertRequestGolden(_h("7b 00 00"), GetStoreStateRequest())
        self.assertResponseGolden(
            _h("7b 00 00000000 00000001"), GetStoreStateResponse(storeState=0x01000000)
        )
        self.assertResponseGolden(
            _h("7b 00 05000780"), GetStoreStateResponse(returnValue=0x80070005)
        )

    def test_getOwningServers(self):
        """
        RopGetOwningServers answers the counts and the server names.
        """
        self.assertRequestGolden(
            _h("42 00 01 0100000000000042"),
            GetOwningServersRequest(inputHandleIndex=1, folderId=0x4200000000000001),
        )
        data = _h("42 01 00000000", "0200", "0100", _asciiz("srv1"), _asciiz("srv2"))
        expected = GetOwningServersResponse(
            handleIndex=1, cheapServersCount=1, owningServers=["srv1", "srv2"]
        )
        self.assertResponseGolden(data, expected, GetOwningServersRequest())

    def test_publicFolderIsGhosted(self):
        """
        RopPublicFolderIsGhosted lists servers only when IsGhosted is
        nonzero.
        """
        self.assertRequestGolden(
            _h("45 00 00 0100000000000045"),
            PublicFolderIsGhostedRequest(folderId=0x4500000000000001),
        )
        self.assertResponseGolden(
            _h("45 00 00000000 00"), PublicFolderIsGhostedResponse(isGhosted=0)
        )
        data = _h("45 00 00000000", "02", "0100", "0000", _asciiz("pf1"))
        expected = PublicFolderIsGhostedResponse(
            isGhosted=2, cheapServersCount=0, servers=["pf1"]
        )
        self.assertResponseGolden(data, expected)

    def test_longTermIdFromId(self):
        """
        RopLongTermIdFromId maps a u64 ID to a LongTermID.
        """
        self.assertRequestGolden(
            _h("43 00 00 0001000000a1b200"),
            LongTermIdFromIdRequest(objectId=0x00B2A10000000100),
        )
        self.assertResponseGolden(
            _h("43 00 00000000", LTID1_WIRE), LongTermIdFromIdResponse(longTermId=LTID1)
        )
        self.assertResponseGolden(
            _h("43 00 0f010480"), LongTermIdFromIdResponse(returnValue=0x8004010F)
        )

    def test_idFromLongTermId(self):
        """
        RopIdFromLongTermId maps a LongTermID to a u64 ID.
        """
        self.assertRequestGolden(
            _h("44 00 00", LTID2_WIRE), IdFromLongTermIdRequest(longTermId=LTID2)
        )
        self.assertResponseGolden(
            _h("44 00 00000000 0001010203040506"),
            IdFromLongTermIdResponse(objectId=0x0605040302010100),
        )

    def test_missingLongTermId(self):
        """
        Encoding a request without its LongTermID raises L{RopError}.
        """
        self.assertRaises(
            RopError, encodeRequests, [IdFromLongTermIdRequest()], RopContext()
        )

    def test_getPerUserLongTermIds(self):
        """
        RopGetPerUserLongTermIds sends a DatabaseGuid and answers a
        counted list of LongTermIDs.
        """
        self.assertRequestGolden(
            _h("60 00 00", G3_WIRE), GetPerUserLongTermIdsRequest(databaseGuid=G3)
        )
        self.assertResponseGolden(
            _h("60 00 00000000 0200", LTID1_WIRE, LTID2_WIRE),
            GetPerUserLongTermIdsResponse(longTermIds=[LTID1, LTID2]),
        )

    def test_getPerUserGuid(self):
        """
        RopGetPerUserGuid sends a LongTermID and answers a DatabaseGuid.
        """
        self.assertRequestGolden(
            _h("61 00 00", LTID1_WIRE), GetPerUserGuidRequest(longTermId=LTID1)
        )
        self.assertResponseGolden(
            _h("61 00 00000000", G2_WIRE), GetPerUserGuidResponse(databaseGuid=G2)
        )


class PerUserInformationTests(_GoldenMixin, SynchronousTestCase):
    """
    RopReadPerUserInformation and RopWritePerUserInformation ([MS-OXCROPS]
    2.2.3.12, 2.2.3.13).
    """

    def test_readPerUserInformation(self):
        """
        The request carries a LongTermID, Reserved, DataOffset and
        MaxDataSize; the response HasFinished and a sized chunk.
        """
        data = _h("63 00 00", LTID1_WIRE, "00", "00100000", "0010")
        expected = ReadPerUserInformationRequest(
            folderId=LTID1, reserved=0, dataOffset=0x1000, maxDataSize=0x1000
        )
        self.assertRequestGolden(data, expected)
        self.assertResponseGolden(
            _h("63 00 00000000 01 0300 aabbcc"),
            ReadPerUserInformationResponse(hasFinished=1, data=b"\xaa\xbb\xcc"),
        )

    def _write(self, logonId, offset, replGuid):
        return WritePerUserInformationRequest(
            logonId=logonId,
            folderId=LTID2,
            hasFinished=1,
            dataOffset=offset,
            data=b"\x01\x02",
            replGuid=replGuid,
        )

    def test_writeWithReplGuidOnPrivateLogon(self):
        """
        On a private logon, a write at DataOffset 0 carries ReplGuid.
        """
        ctx = RopContext()
        ctx.logons[0] = LOGON_PRIVATE
        data = _h("64 00 00", LTID2_WIRE, "01", "00000000", "0200 0102", G1_WIRE)
        self.assertRequestGolden(data, self._write(0, 0, G1), ctx)

    def test_writeWithoutReplGuidAtOffset(self):
        """
        On a private logon, a write at a nonzero DataOffset has no
        ReplGuid.
        """
        ctx = RopContext()
        ctx.logons[0] = LOGON_PRIVATE
        data = _h("64 00 00", LTID2_WIRE, "01", "10000000", "0200 0102")
        self.assertRequestGolden(data, self._write(0, 16, None), ctx)

    def test_writeOnPublicLogonLearnedInBuffer(self):
        """
        A public RopLogon earlier in the same buffer makes a write at
        DataOffset 0 on that logon carry no ReplGuid.
        """
        data = _h(
            "fe 02 00 00 02000000 00000000 0000",
            "64 02 00",
            LTID2_WIRE,
            "01 00000000 0200 0102",
        )
        ctx = RopContext()
        decoded = decodeRequests(data, [], ctx)
        self.assertEqual(
            decoded, [LogonRequest(logonId=2, openFlags=2), self._write(2, 0, None)]
        )
        self.assertEqual(encodeRequests(decoded, RopContext()), data)

    def test_writeOnUnknownLogonIsPrivate(self):
        """
        A LogonId whose RopLogon was not seen is taken as private.
        """
        data = _h("64 05 00", LTID2_WIRE, "01 00000000 0200 0102", G3_WIRE)
        self.assertRequestGolden(data, self._write(5, 0, G3))

    def test_writeResponse(self):
        """
        The response has no body.
        """
        self.assertResponseGolden(
            _h("64 00 00000000"), WritePerUserInformationResponse()
        )


class FolderTests(_GoldenMixin, SynchronousTestCase):
    """
    RopOpenFolder, RopCreateFolder, RopDeleteFolder, the search criteria
    and the table-opening ROPs ([MS-OXCROPS] 2.2.4).
    """

    def test_openFolderRequest(self):
        """
        RopOpenFolder carries OutputHandleIndex, FolderId, OpenModeFlags.
        """
        data = _h("02 00 00 01 0100000000000005 04")
        expected = OpenFolderRequest(
            outputHandleIndex=1, folderId=0x0500000000000001, openModeFlags=4
        )
        self.assertRequestGolden(data, expected)

    def test_openFolderResponses(self):
        """
        Its response lists ghost servers only when IsGhosted is nonzero, and
        has no body on failure.
        """
        self.assertResponseGolden(
            _h("02 01 00000000 01 00"), OpenFolderResponse(handleIndex=1, hasRules=1)
        )
        data = _h("02 01 00000000 00 01 0200 0100", _asciiz("a"), _asciiz("b"))
        expected = OpenFolderResponse(
            handleIndex=1, isGhosted=1, cheapServerCount=1, servers=["a", "b"]
        )
        self.assertResponseGolden(data, expected)
        self.assertResponseGolden(
            _h("02 01 0f010480"),
            OpenFolderResponse(handleIndex=1, returnValue=0x8004010F),
        )

    def test_createFolder8Bit(self):
        """
        RopCreateFolder with UseUnicodeStrings 0 carries 8-bit names.
        """
        data = _h("1c 00 00 01 01 00 01 00", _asciiz("Caf\xe9"), _asciiz(""))
        expected = CreateFolderRequest(
            outputHandleIndex=1,
            folderType=1,
            useUnicodeStrings=0,
            openExisting=1,
            displayName="Caf\xe9",
            comment="",
        )
        self.assertRequestGolden(data, expected)

    def test_createFolderUnicode(self):
        """
        RopCreateFolder with UseUnicodeStrings nonzero carries UTF-16LE
        names.
        """
        data = _h("1c 00 02 03 02 01 00 00", _unicodez("Suche \u2603"), _unicodez("c"))
        expected = CreateFolderRequest(
            inputHandleIndex=2,
            outputHandleIndex=3,
            folderType=2,
            useUnicodeStrings=1,
            displayName="Suche \u2603",
            comment="c",
        )
        self.assertRequestGolden(data, expected)

    def test_createFolderResponses(self):
        """
        Its response adds HasRules/IsGhosted only for an existing folder,
        and the servers only when that folder is ghosted.
        """
        self.assertResponseGolden(
            _h("1c 01 00000000 0100000000000010 00"),
            CreateFolderResponse(handleIndex=1, folderId=0x1000000000000001),
        )
        self.assertResponseGolden(
            _h("1c 01 00000000 0100000000000010 01 01 00"),
            CreateFolderResponse(
                handleIndex=1,
                folderId=0x1000000000000001,
                isExistingFolder=1,
                hasRules=1,
            ),
        )
        data = _h("1c 01 00000000 0100000000000010 01 00 01 0100 0100", _asciiz("pf"))
        expected = CreateFolderResponse(
            handleIndex=1,
            folderId=0x1000000000000001,
            isExistingFolder=1,
            isGhosted=1,
            cheapServerCount=1,
            servers=["pf"],
        )
        self.assertResponseGolden(data, expected)
        self.assertResponseGolden(
            _h("1c 01 e9030000"), CreateFolderResponse(handleIndex=1, returnValue=0x3E9)
        )

    def test_deleteFolder(self):
        """
        RopDeleteFolder answers PartialCompletion whatever the ReturnValue.
        """
        self.assertRequestGolden(
            _h("1d 00 00 05 0100000000000011"),
            DeleteFolderRequest(deleteFolderFlags=5, folderId=0x1100000000000001),
        )
        self.assertResponseGolden(_h("1d 00 00000000 00"), DeleteFolderResponse())
        self.assertResponseGolden(
            _h("1d 00 05000780 01"),
            DeleteFolderResponse(returnValue=0x80070005, partialCompletion=1),
        )

    def test_getHierarchyTable(self):
        """
        RopGetHierarchyTable sends OutputHandleIndex and TableFlags and
        answers RowCount on success only.
        """
        self.assertRequestGolden(
            _h("04 00 00 01 44"),
            GetHierarchyTableRequest(outputHandleIndex=1, tableFlags=0x44),
        )
        self.assertResponseGolden(
            _h("04 01 00000000 0a000000"),
            GetHierarchyTableResponse(handleIndex=1, rowCount=10),
        )
        self.assertResponseGolden(
            _h("04 01 02010480"),
            GetHierarchyTableResponse(handleIndex=1, returnValue=0x80040102),
        )

    def test_getContentsTable(self):
        """
        RopGetContentsTable has the same layout as RopGetHierarchyTable.
        """
        self.assertRequestGolden(
            _h("05 00 00 02 02"),
            GetContentsTableRequest(outputHandleIndex=2, tableFlags=0x02),
        )
        self.assertResponseGolden(
            _h("05 02 00000000 00010000"),
            GetContentsTableResponse(handleIndex=2, rowCount=256),
        )


class SearchCriteriaTests(_GoldenMixin, SynchronousTestCase):
    """
    RopSetSearchCriteria and RopGetSearchCriteria ([MS-OXCROPS] 2.2.4.4,
    2.2.4.5).
    """

    # PropertyRestriction ([MS-OXCDATA] 2.12.5): RestrictType 4, RelOp 4
    # (RELOP_EQ), PidTagMessageClass_W, then the TaggedValue.
    RESTRICTION = PropertyRestriction(
        4, 0x001A001F, TaggedPropertyValue(0x001A001F, "IPM")
    )
    RESTRICTION_WIRE = "04 04 1f001a00 1f001a00" + _unicodez("IPM")

    def test_setWithRestriction(self):
        """
        RopSetSearchCriteria sizes its restriction, then lists folders and
        SearchFlags.
        """
        data = _h(
            "30 00 01",
            "1200",  # RestrictionDataSize 18
            self.RESTRICTION_WIRE,
            "0200 0100000000000020 0100000000000021",
            "02000000",  # SearchFlags RESTART_SEARCH
        )
        expected = SetSearchCriteriaRequest(
            inputHandleIndex=1,
            restriction=self.RESTRICTION,
            folderIds=[0x2000000000000001, 0x2100000000000001],
            searchFlags=2,
        )
        self.assertRequestGolden(data, expected)

    def test_setWithoutRestriction(self):
        """
        RestrictionDataSize 0 decodes as restriction None.
        """
        data = _h("30 00 00 0000 0000 00000000")
        self.assertRequestGolden(data, SetSearchCriteriaRequest())

    def test_unparseableRestrictionKeptRaw(self):
        """
        Restriction data that is not exactly one restriction is kept as
        raw bytes and re-encoded verbatim.
        """
        data = _h("30 00 00 0300 ee0102 0000 04000000")
        self.assertRequestGolden(
            data, SetSearchCriteriaRequest(restriction=b"\xee\x01\x02", searchFlags=4)
        )
        trailing = _h("30 00 00 0600 08 1f001a00 ff 0000 00000000")
        decoded = decodeRequests(trailing, [], RopContext())
        self.assertEqual(decoded[0].restriction, _h("08 1f001a00 ff"))
        self.assertEqual(encodeRequests(decoded, RopContext()), trailing)

    def test_get(self):
        """
        RopGetSearchCriteria answers the restriction, a LogonId, the
        folders and SearchFlags on success, nothing on failure.
        """
        self.assertRequestGolden(
            _h("31 00 01 01 01 00"),
            GetSearchCriteriaRequest(
                inputHandleIndex=1, useUnicode=1, includeRestriction=1
            ),
        )
        data = _h(
            "31 01 00000000",
            "1200",
            self.RESTRICTION_WIRE,
            "00",  # LogonId
            "0100 0100000000000020",
            "00100000",  # SearchFlags
        )
        expected = GetSearchCriteriaResponse(
            handleIndex=1,
            restriction=self.RESTRICTION,
            folderIds=[0x2000000000000001],
            searchFlags=0x1000,
        )
        self.assertResponseGolden(data, expected)
        self.assertResponseGolden(
            _h("31 01 05000780"),
            GetSearchCriteriaResponse(handleIndex=1, returnValue=0x80070005),
        )


class MoveCopyTests(_GoldenMixin, SynchronousTestCase):
    """
    RopMoveCopyMessages, RopMoveFolder, RopCopyFolder, RopEmptyFolder and
    the delete ROPs ([MS-OXCROPS] 2.2.4.6-2.2.4.12).
    """

    def test_moveCopyMessagesRequest(self):
        """
        RopMoveCopyMessages carries DestHandleIndex, the message IDs and two
        Booleans.
        """
        data = _h("33 00 01 02 0200 0100000000000030 0100000000000031 00 01")
        expected = MoveCopyMessagesRequest(
            inputHandleIndex=1,
            destHandleIndex=2,
            messageIds=[0x3000000000000001, 0x3100000000000001],
            wantCopy=1,
        )
        self.assertRequestGolden(data, expected)

    def test_moveCopyMessagesResponses(self):
        """
        Success and ordinary failures carry PartialCompletion; ecDstNullObject
        puts DestHandleIndex u32 before it.
        """
        self.assertResponseGolden(
            _h("33 01 00000000 00"), MoveCopyMessagesResponse(handleIndex=1)
        )
        self.assertResponseGolden(
            _h("33 01 0f010480 01"),
            MoveCopyMessagesResponse(
                handleIndex=1, returnValue=0x8004010F, partialCompletion=1
            ),
        )
        decoded = self.assertResponseGolden(
            _h("33 01 03050000 02000000 00"),
            MoveCopyMessagesResponse(
                handleIndex=1, returnValue=EC_DST_NULL_OBJECT, destHandleIndex=2
            ),
        )
        self.assertEqual(decoded.destHandleIndex, 2)

    def test_moveFolderMicrosoftExample(self):
        """
        The RopMoveFolder request of [MS-OXCFOLD] 4.5.1 decodes as its
        annotation says and encodes back to the same 30 bytes.
        """
        data = _h(
            "35 00 01 02 01 01 01 00 00 00 0e 8e df 36 46 00",
            "6f 00 6c 00 64 00 65 00 72 00 31 00 00 00",
        )
        expected = MoveFolderRequest(
            inputHandleIndex=1,
            destHandleIndex=2,
            wantAsynchronous=1,
            useUnicode=1,
            folderId=0x36DF8E0E00000001,
            newFolderName="Folder1",
        )
        self.assertRequestGolden(data, expected)

    def test_moveFolder8Bit(self):
        """
        RopMoveFolder with UseUnicode 0 carries an 8-bit name; its
        ecDstNullObject response carries DestHandleIndex.
        """
        self.assertRequestGolden(
            _h("35 00 01 02 00 00 0100000000000040", _asciiz("F")),
            MoveFolderRequest(
                inputHandleIndex=1,
                destHandleIndex=2,
                folderId=0x4000000000000001,
                newFolderName="F",
            ),
        )
        self.assertResponseGolden(
            _h("35 01 03050000 02000000 01"),
            MoveFolderResponse(
                handleIndex=1,
                returnValue=EC_DST_NULL_OBJECT,
                destHandleIndex=2,
                partialCompletion=1,
            ),
        )
        self.assertResponseGolden(
            _h("35 01 00000000 00"), MoveFolderResponse(handleIndex=1)
        )

    def test_copyFolder(self):
        """
        RopCopyFolder adds WantRecursive before UseUnicode.
        """
        data = _h("36 00 01 03 00 01 01 0100000000000041", _unicodez("Kopie"))
        expected = CopyFolderRequest(
            inputHandleIndex=1,
            destHandleIndex=3,
            wantRecursive=1,
            useUnicode=1,
            folderId=0x4100000000000001,
            newFolderName="Kopie",
        )
        self.assertRequestGolden(data, expected)
        self.assertResponseGolden(
            _h("36 01 03050000 03000000 00"),
            CopyFolderResponse(
                handleIndex=1, returnValue=EC_DST_NULL_OBJECT, destHandleIndex=3
            ),
        )
        self.assertResponseGolden(
            _h("36 01 00000000 01"),
            CopyFolderResponse(handleIndex=1, partialCompletion=1),
        )

    def test_emptyFolderMicrosoftExample(self):
        """
        The RopEmptyFolder request of [MS-OXCPRPT] 4.5 decodes as its
        annotation says; the response always carries PartialCompletion.
        """
        self.assertRequestGolden(
            _h("58 00 00 01 00"), EmptyFolderRequest(wantAsynchronous=1)
        )
        self.assertResponseGolden(_h("58 00 00000000 00"), EmptyFolderResponse())
        self.assertResponseGolden(
            _h("58 00 05000780 01"),
            EmptyFolderResponse(returnValue=0x80070005, partialCompletion=1),
        )

    def test_hardDeleteMessagesAndSubfolders(self):
        """
        RopHardDeleteMessagesAndSubfolders has RopEmptyFolder's layout.
        """
        self.assertRequestGolden(
            _h("92 00 00 00 01"),
            HardDeleteMessagesAndSubfoldersRequest(wantDeleteAssociated=1),
        )
        self.assertResponseGolden(
            _h("92 00 0f010480 01"),
            HardDeleteMessagesAndSubfoldersResponse(
                returnValue=0x8004010F, partialCompletion=1
            ),
        )

    def test_deleteMessages(self):
        """
        RopDeleteMessages carries two Booleans and the message IDs; its
        response always carries PartialCompletion.
        """
        self.assertRequestGolden(
            _h("1e 00 00 00 01 0100 0100000000000050"),
            DeleteMessagesRequest(notifyNonRead=1, messageIds=[0x5000000000000001]),
        )
        self.assertResponseGolden(
            _h("1e 00 0f010480 00"), DeleteMessagesResponse(returnValue=0x8004010F)
        )

    def test_hardDeleteMessages(self):
        """
        RopHardDeleteMessages has RopDeleteMessages' layout.
        """
        self.assertRequestGolden(
            _h("91 00 00 01 00 0000"), HardDeleteMessagesRequest(wantAsynchronous=1)
        )
        self.assertResponseGolden(_h("91 00 00000000 00"), HardDeleteMessagesResponse())


class PermissionRuleTests(_GoldenMixin, SynchronousTestCase):
    """
    RopModifyPermissions, RopGetPermissionsTable, RopModifyRules,
    RopGetRulesTable and RopUpdateDeferredActionMessages ([MS-OXCROPS]
    2.2.10, 2.2.11).
    """

    def test_modifyPermissions(self):
        """
        RopModifyPermissions carries PermissionData entries of tagged
        values.
        """
        data = _h(
            "40 00 01",
            "02",  # ModifyFlags IncludeFreeBusy
            "0200",  # ModifyCount
            "01 0200",  # AddRow, two values
            "0201ff0f 0300 010203",  # PidTagEntryId (binary)
            "03007366 fb040000",  # PidTagMemberRights
            "04 0100",  # RemoveRow, one value
            "14007166 0100000000000000",  # PidTagMemberId
        )
        expected = ModifyPermissionsRequest(
            inputHandleIndex=1,
            modifyFlags=2,
            permissionsData=[
                PermissionData(
                    1,
                    [
                        TaggedPropertyValue(0x0FFF0102, b"\x01\x02\x03"),
                        TaggedPropertyValue(0x66730003, 0x4FB),
                    ],
                ),
                PermissionData(4, [TaggedPropertyValue(0x66710014, 1)]),
            ],
        )
        self.assertRequestGolden(data, expected)
        self.assertResponseGolden(
            _h("40 01 00000000"), ModifyPermissionsResponse(handleIndex=1)
        )

    def test_getPermissionsTable(self):
        """
        RopGetPermissionsTable sends OutputHandleIndex and TableFlags; its
        response has no body.
        """
        self.assertRequestGolden(
            _h("3e 00 01 02 02"),
            GetPermissionsTableRequest(
                inputHandleIndex=1, outputHandleIndex=2, tableFlags=2
            ),
        )
        self.assertResponseGolden(
            _h("3e 02 00000000"), GetPermissionsTableResponse(handleIndex=2)
        )

    def test_modifyRules(self):
        """
        RopModifyRules carries RuleData entries whose values include a
        PtypRestriction condition and PtypRuleAction actions.
        """
        data = _h(
            "41 00 01",
            "00",  # ModifyRulesFlag
            "0100",  # RulesCount
            "01 0300",  # ROW_ADD, three values
            "03007666 0a000000",  # PidTagRuleSequence 10
            "fd007966 08 1f003700",  # PidTagRuleCondition: Exist(Subject)
            "fe008066 0100 0900 0a 00000000 00000000",  # PidTagRuleActions: OP_DELETE
        )
        expected = ModifyRulesRequest(
            inputHandleIndex=1,
            rulesData=[
                RuleData(
                    1,
                    [
                        TaggedPropertyValue(0x66760003, 10),
                        TaggedPropertyValue(0x667900FD, ExistRestriction(0x0037001F)),
                        TaggedPropertyValue(
                            0x668000FE, RuleActions([ActionBlock(0x0A, 0, 0, b"")])
                        ),
                    ],
                )
            ],
        )
        self.assertRequestGolden(data, expected)
        self.assertResponseGolden(
            _h("41 01 05000780"),
            ModifyRulesResponse(handleIndex=1, returnValue=0x80070005),
        )

    def test_getRulesTable(self):
        """
        RopGetRulesTable sends OutputHandleIndex and TableFlags; its
        response has no body.
        """
        self.assertRequestGolden(
            _h("3f 00 00 01 40"),
            GetRulesTableRequest(outputHandleIndex=1, tableFlags=0x40),
        )
        self.assertResponseGolden(
            _h("3f 01 00000000"), GetRulesTableResponse(handleIndex=1)
        )

    def test_updateDeferredActionMessages(self):
        """
        RopUpdateDeferredActionMessages carries two sized entry IDs.
        """
        self.assertRequestGolden(
            _h("57 00 00 0300 aabbcc 0200 ddee"),
            UpdateDeferredActionMessagesRequest(
                serverEntryId=b"\xaa\xbb\xcc", clientEntryId=b"\xdd\xee"
            ),
        )
        self.assertResponseGolden(
            _h("57 00 00000000"), UpdateDeferredActionMessagesResponse()
        )


class RegistryTests(SynchronousTestCase):
    """
    The family registers its classes.
    """

    def test_everyRopRegistered(self):
        """
        Every RopId of this family has a request and a response class from
        L{mapiproxy.mapi.rops.logon}.
        """
        for ropId in R1_IDS:
            self.assertEqual(REQUEST_CLASSES[ropId].__module__, logon.__name__)
            self.assertEqual(RESPONSE_CLASSES[ropId].__module__, logon.__name__)
            self.assertEqual(REQUEST_CLASSES[ropId].ROP_ID, ropId)


# -- Property tests ---------------------------------------------------------

_u8 = st.integers(0, 0xFF)
_u16 = st.integers(0, 0xFFFF)
_u32 = st.integers(0, 0xFFFFFFFF)
_u64 = st.integers(0, 2**64 - 1)
_guid = st.builds(uuid.UUID, int=st.integers(0, 2**128 - 1))
_ltid = st.builds(LongTermId, _guid, st.integers(0, 2**48 - 1), _u16)
_text8 = st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=12)
_text16 = st.text(
    st.characters(min_codepoint=1, max_codepoint=0x10FFFF, exclude_categories=("Cs",)),
    max_size=12,
)
_ids = st.lists(_u64, max_size=4)
_servers = st.lists(_text8, min_size=1, max_size=3)
_failure = _u32.filter(lambda v: v not in (0, EC_WRONG_SERVER, EC_DST_NULL_OBJECT))

_int32Tag = st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x0003)
_restriction = st.recursive(
    st.one_of(
        st.builds(ExistRestriction, _u32),
        st.builds(
            lambda op, tag, v: PropertyRestriction(
                op, tag, TaggedPropertyValue(tag, v)
            ),
            _u8,
            _int32Tag,
            _u32,
        ),
    ),
    lambda inner: st.one_of(
        st.builds(AndRestriction, st.lists(inner, max_size=3)),
        st.builds(OrRestriction, st.lists(inner, max_size=3)),
    ),
    max_leaves=4,
)
_restrictionField = st.one_of(
    st.none(),
    _restriction,
    st.binary(max_size=6).map(lambda b: b"\xee" + b),
)

_taggedValue = st.one_of(
    st.builds(TaggedPropertyValue, _int32Tag, _u32),
    st.builds(
        TaggedPropertyValue,
        st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x0102),
        st.binary(max_size=8),
    ),
    st.builds(
        TaggedPropertyValue,
        st.integers(0, 0xFFFF).map(lambda i: (i << 16) | 0x001F),
        _text16,
    ),
    st.builds(TaggedPropertyValue, st.just(0x667900FD), _restriction),
    st.builds(
        TaggedPropertyValue,
        st.just(0x668000FE),
        st.builds(
            RuleActions,
            st.lists(
                st.builds(ActionBlock, _u8, _u32, _u32, st.binary(max_size=6)),
                max_size=2,
            ),
        ),
    ),
)
_taggedValues = st.lists(_taggedValue, max_size=3)


def _fail(cls):
    """
    A response of C{cls} with an ordinary failure and no body.
    """
    return st.builds(cls, handleIndex=_u8, returnValue=_failure)


def _partial(cls):
    """
    A response of C{cls} that carries PartialCompletion whatever its
    ReturnValue.
    """
    return st.builds(cls, handleIndex=_u8, returnValue=_u32, partialCompletion=_u8)


def _nullDestination(cls):
    """
    A move or copy response: ordinary, or ecDstNullObject with
    DestHandleIndex.
    """
    return st.one_of(
        st.builds(
            cls,
            handleIndex=_u8,
            returnValue=_u32.filter(lambda v: v != EC_DST_NULL_OBJECT),
            partialCompletion=_u8,
        ),
        st.builds(
            cls,
            handleIndex=_u8,
            returnValue=st.just(EC_DST_NULL_OBJECT),
            destHandleIndex=_u32,
            partialCompletion=_u8,
        ),
    )


def _bare(cls):
    """
    A response without a body, success or failure.
    """
    return st.builds(cls, handleIndex=_u8, returnValue=_u32)


def _withFailure(cls, **fields):
    """
    A response of C{cls}: success with C{fields}, or an ordinary failure.
    """
    return st.one_of(
        st.builds(cls, handleIndex=_u8, returnValue=st.just(0), **fields), _fail(cls)
    )


def _header(**fields):
    return dict(logonId=_u8, inputHandleIndex=_u8, **fields)


@st.composite
def _logonPair(draw):
    request = draw(
        st.builds(
            LogonRequest,
            logonId=_u8,
            inputHandleIndex=_u8,
            logonFlags=_u8,
            openFlags=_u32,
            storeState=_u32,
            essdn=st.one_of(st.none(), _text8),
        )
    )
    folderIds = st.lists(_u64, min_size=13, max_size=13)
    if request.logonFlags & LOGON_PRIVATE:
        success = st.builds(
            LogonResponse,
            handleIndex=_u8,
            logonFlags=_u8,
            folderIds=folderIds,
            responseFlags=_u8,
            mailboxGuid=_guid,
            replId=_u16,
            replGuid=_guid,
            logonTime=st.builds(LogonTime, _u8, _u8, _u8, _u8, _u8, _u8, _u16),
            gwartTime=_u64,
            storeState=_u32,
        )
    else:
        success = st.builds(
            LogonResponse,
            handleIndex=_u8,
            logonFlags=_u8,
            folderIds=folderIds,
            replId=_u16,
            replGuid=_guid,
            perUserGuid=_guid,
        )
    redirect = st.builds(
        LogonResponse,
        handleIndex=_u8,
        returnValue=st.just(EC_WRONG_SERVER),
        logonFlags=_u8,
        serverName=st.one_of(st.none(), _text8),
    )
    response = draw(st.one_of(success, redirect, _fail(LogonResponse)))
    return request, response


def _pair(request, response):
    return st.tuples(request, response)


_PAIRS = st.one_of(
    _logonPair(),
    _pair(
        st.builds(GetReceiveFolderRequest, **_header(messageClass=_text8)),
        _withFailure(
            GetReceiveFolderResponse, folderId=_u64, explicitMessageClass=_text8
        ),
    ),
    _pair(
        st.builds(
            SetReceiveFolderRequest, **_header(folderId=_u64, messageClass=_text8)
        ),
        _bare(SetReceiveFolderResponse),
    ),
    _pair(
        st.builds(GetReceiveFolderTableRequest, **_header()),
        _withFailure(
            GetReceiveFolderTableResponse,
            rows=st.lists(
                st.builds(
                    lambda fid, cls, t: PropertyRow(0, [fid, cls, t]),
                    _u64,
                    _text8,
                    _u64,
                ),
                max_size=3,
            ),
        ),
    ),
    _pair(
        st.builds(GetStoreStateRequest, **_header()),
        _withFailure(GetStoreStateResponse, storeState=_u32),
    ),
    _pair(
        st.builds(GetOwningServersRequest, **_header(folderId=_u64)),
        _withFailure(
            GetOwningServersResponse,
            cheapServersCount=_u16,
            owningServers=st.lists(_text8, max_size=3),
        ),
    ),
    _pair(
        st.builds(PublicFolderIsGhostedRequest, **_header(folderId=_u64)),
        st.one_of(
            _withFailure(PublicFolderIsGhostedResponse, isGhosted=st.just(0)),
            _withFailure(
                PublicFolderIsGhostedResponse,
                isGhosted=st.integers(1, 255),
                cheapServersCount=_u16,
                servers=_servers,
            ),
        ),
    ),
    _pair(
        st.builds(LongTermIdFromIdRequest, **_header(objectId=_u64)),
        _withFailure(LongTermIdFromIdResponse, longTermId=_ltid),
    ),
    _pair(
        st.builds(IdFromLongTermIdRequest, **_header(longTermId=_ltid)),
        _withFailure(IdFromLongTermIdResponse, objectId=_u64),
    ),
    _pair(
        st.builds(GetPerUserLongTermIdsRequest, **_header(databaseGuid=_guid)),
        _withFailure(
            GetPerUserLongTermIdsResponse, longTermIds=st.lists(_ltid, max_size=3)
        ),
    ),
    _pair(
        st.builds(GetPerUserGuidRequest, **_header(longTermId=_ltid)),
        _withFailure(GetPerUserGuidResponse, databaseGuid=_guid),
    ),
    _pair(
        st.builds(
            ReadPerUserInformationRequest,
            **_header(folderId=_ltid, reserved=_u8, dataOffset=_u32, maxDataSize=_u16),
        ),
        _withFailure(
            ReadPerUserInformationResponse, hasFinished=_u8, data=st.binary(max_size=8)
        ),
    ),
    _pair(
        st.builds(
            WritePerUserInformationRequest,
            **_header(
                folderId=_ltid,
                hasFinished=_u8,
                dataOffset=st.sampled_from([0, 1, 0xFFFFFFFF]),
                data=st.binary(max_size=8),
                replGuid=_guid,
            ),
        ),
        _bare(WritePerUserInformationResponse),
    ),
    _pair(
        st.builds(
            OpenFolderRequest,
            **_header(outputHandleIndex=_u8, folderId=_u64, openModeFlags=_u8),
        ),
        st.one_of(
            _withFailure(OpenFolderResponse, hasRules=_u8, isGhosted=st.just(0)),
            _withFailure(
                OpenFolderResponse,
                hasRules=_u8,
                isGhosted=st.integers(1, 255),
                cheapServerCount=_u16,
                servers=_servers,
            ),
        ),
    ),
    _pair(
        st.one_of(
            st.builds(
                CreateFolderRequest,
                **_header(
                    outputHandleIndex=_u8,
                    folderType=_u8,
                    useUnicodeStrings=st.just(0),
                    openExisting=_u8,
                    reserved=_u8,
                    displayName=_text8,
                    comment=_text8,
                ),
            ),
            st.builds(
                CreateFolderRequest,
                **_header(
                    outputHandleIndex=_u8,
                    folderType=_u8,
                    useUnicodeStrings=st.integers(1, 255),
                    openExisting=_u8,
                    reserved=_u8,
                    displayName=_text16,
                    comment=_text16,
                ),
            ),
        ),
        st.one_of(
            _withFailure(CreateFolderResponse, folderId=_u64),
            _withFailure(
                CreateFolderResponse,
                folderId=_u64,
                isExistingFolder=st.integers(1, 255),
                hasRules=_u8,
            ),
            _withFailure(
                CreateFolderResponse,
                folderId=_u64,
                isExistingFolder=st.integers(1, 255),
                hasRules=_u8,
                isGhosted=st.integers(1, 255),
                cheapServerCount=_u16,
                servers=_servers,
            ),
        ),
    ),
    _pair(
        st.builds(DeleteFolderRequest, **_header(deleteFolderFlags=_u8, folderId=_u64)),
        _partial(DeleteFolderResponse),
    ),
    _pair(
        st.builds(
            SetSearchCriteriaRequest,
            **_header(restriction=_restrictionField, folderIds=_ids, searchFlags=_u32),
        ),
        _bare(SetSearchCriteriaResponse),
    ),
    _pair(
        st.builds(
            GetSearchCriteriaRequest,
            **_header(useUnicode=_u8, includeRestriction=_u8, includeFolders=_u8),
        ),
        _withFailure(
            GetSearchCriteriaResponse,
            restriction=_restrictionField,
            logonId=_u8,
            folderIds=_ids,
            searchFlags=_u32,
        ),
    ),
    _pair(
        st.builds(
            MoveCopyMessagesRequest,
            **_header(
                destHandleIndex=_u8, messageIds=_ids, wantAsynchronous=_u8, wantCopy=_u8
            ),
        ),
        _nullDestination(MoveCopyMessagesResponse),
    ),
    _pair(
        st.one_of(
            st.builds(
                MoveFolderRequest,
                **_header(
                    destHandleIndex=_u8,
                    wantAsynchronous=_u8,
                    useUnicode=st.just(0),
                    folderId=_u64,
                    newFolderName=_text8,
                ),
            ),
            st.builds(
                MoveFolderRequest,
                **_header(
                    destHandleIndex=_u8,
                    wantAsynchronous=_u8,
                    useUnicode=st.integers(1, 255),
                    folderId=_u64,
                    newFolderName=_text16,
                ),
            ),
        ),
        _nullDestination(MoveFolderResponse),
    ),
    _pair(
        st.builds(
            CopyFolderRequest,
            **_header(
                destHandleIndex=_u8,
                wantAsynchronous=_u8,
                wantRecursive=_u8,
                useUnicode=st.integers(1, 255),
                folderId=_u64,
                newFolderName=_text16,
            ),
        ),
        _nullDestination(CopyFolderResponse),
    ),
    _pair(
        st.builds(
            EmptyFolderRequest,
            **_header(wantAsynchronous=_u8, wantDeleteAssociated=_u8),
        ),
        _partial(EmptyFolderResponse),
    ),
    _pair(
        st.builds(
            HardDeleteMessagesAndSubfoldersRequest,
            **_header(wantAsynchronous=_u8, wantDeleteAssociated=_u8),
        ),
        _partial(HardDeleteMessagesAndSubfoldersResponse),
    ),
    _pair(
        st.builds(
            DeleteMessagesRequest,
            **_header(wantAsynchronous=_u8, notifyNonRead=_u8, messageIds=_ids),
        ),
        _partial(DeleteMessagesResponse),
    ),
    _pair(
        st.builds(
            HardDeleteMessagesRequest,
            **_header(wantAsynchronous=_u8, notifyNonRead=_u8, messageIds=_ids),
        ),
        _partial(HardDeleteMessagesResponse),
    ),
    _pair(
        st.builds(
            GetHierarchyTableRequest, **_header(outputHandleIndex=_u8, tableFlags=_u8)
        ),
        _withFailure(GetHierarchyTableResponse, rowCount=_u32),
    ),
    _pair(
        st.builds(
            GetContentsTableRequest, **_header(outputHandleIndex=_u8, tableFlags=_u8)
        ),
        _withFailure(GetContentsTableResponse, rowCount=_u32),
    ),
    _pair(
        st.builds(
            ModifyPermissionsRequest,
            **_header(
                modifyFlags=_u8,
                permissionsData=st.lists(
                    st.builds(PermissionData, _u8, _taggedValues), max_size=3
                ),
            ),
        ),
        _bare(ModifyPermissionsResponse),
    ),
    _pair(
        st.builds(
            GetPermissionsTableRequest, **_header(outputHandleIndex=_u8, tableFlags=_u8)
        ),
        _bare(GetPermissionsTableResponse),
    ),
    _pair(
        st.builds(
            ModifyRulesRequest,
            **_header(
                modifyRulesFlag=_u8,
                rulesData=st.lists(st.builds(RuleData, _u8, _taggedValues), max_size=3),
            ),
        ),
        _bare(ModifyRulesResponse),
    ),
    _pair(
        st.builds(
            GetRulesTableRequest, **_header(outputHandleIndex=_u8, tableFlags=_u8)
        ),
        _bare(GetRulesTableResponse),
    ),
    _pair(
        st.builds(
            UpdateDeferredActionMessagesRequest,
            **_header(
                serverEntryId=st.binary(max_size=8), clientEntryId=st.binary(max_size=8)
            ),
        ),
        _bare(UpdateDeferredActionMessagesResponse),
    ),
)


def _consistent(pairs):
    """
    Make the ReplGuid of each RopWritePerUserInformation request agree with
    the logons of the stream before it ([MS-OXCROPS] 2.2.3.13.1).
    """
    logons = {}
    requests, responses = [], []
    for request, response in pairs:
        if isinstance(request, LogonRequest):
            logons[request.logonId] = request.logonFlags
        elif isinstance(request, WritePerUserInformationRequest):
            flags = logons.get(request.logonId, LOGON_PRIVATE)
            if not (request.dataOffset == 0 and flags & LOGON_PRIVATE):
                request = dataclasses.replace(request, replGuid=None)
        requests.append(request)
        responses.append(response)
    return requests, responses


_streams = st.lists(_PAIRS, min_size=1, max_size=8).map(_consistent)


class RoundTripPropertyTests(SynchronousTestCase):
    """
    Random valid streams of this family's ROPs survive encoding and
    decoding.
    """

    @settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(_streams)
    def test_roundTrip(self, stream):
        """
        A mixed list of requests and the matching list of responses encode
        to buffers that decode back to equal objects and re-encode to the
        same bytes.
        """
        requests, responses = stream
        requestBytes = encodeRequests(requests, RopContext())
        decodedRequests = decodeRequests(requestBytes, [], RopContext())
        self.assertEqual(decodedRequests, requests)
        self.assertEqual(encodeRequests(decodedRequests, RopContext()), requestBytes)

        responseBytes = encodeResponses(responses, requests, RopContext())
        decodedResponses = decodeResponses(
            responseBytes, [], decodedRequests, RopContext()
        )
        self.assertEqual(decodedResponses, responses)
        self.assertEqual(
            encodeResponses(decodedResponses, decodedRequests, RopContext()),
            responseBytes,
        )


_REQUEST_TYPES = [REQUEST_CLASSES[i] for i in R1_IDS]
_RESPONSE_TYPES = [RESPONSE_CLASSES[i] for i in R1_IDS]


class FuzzTests(SynchronousTestCase):
    """
    Arbitrary bytes never raise anything but L{RopError}.
    """

    @settings(max_examples=300, deadline=None)
    @given(
        st.sampled_from(_REQUEST_TYPES),
        st.binary(max_size=64),
        st.dictionaries(_u8, _u8, max_size=2),
    )
    def test_requestBodies(self, cls, data, logons):
        """
        A request body of random bytes decodes or raises L{RopError}, and
        what decodes encodes back to a prefix of the input.
        """
        ctx = RopContext()
        ctx.logons.update(logons)
        r = Reader(data)
        try:
            request = cls.readBody(r, ctx, {"logonId": 0, "inputHandleIndex": 0})
        except RopError:
            return
        encoded = encodeRequests([request], RopContext())
        self.assertEqual(encoded[3:], data[: r.offset])

    @settings(max_examples=300, deadline=None)
    @given(
        st.sampled_from(_RESPONSE_TYPES),
        st.binary(max_size=64),
        st.sampled_from([0, EC_WRONG_SERVER, EC_DST_NULL_OBJECT, 0x80004005]),
        st.booleans(),
    )
    def test_responseBodies(self, cls, data, returnValue, withRequest):
        """
        A response body of random bytes, for any ReturnValue form, decodes
        or raises L{RopError}.
        """
        request = None
        if withRequest:
            request = REQUEST_CLASSES[cls.ROP_ID]()
        try:
            cls.readBody(
                Reader(data),
                RopContext(),
                request,
                {"handleIndex": 0, "returnValue": returnValue},
            )
        except RopError:
            pass

    @settings(max_examples=300, deadline=None)
    @given(st.sampled_from(R1_IDS), st.binary(max_size=64))
    def test_buffers(self, ropId, data):
        """
        A buffer of random bytes starting with one of this family's RopIds
        decodes into ROPs and possibly a final L{UnknownRop}, as requests
        and as responses, which encode back to the same bytes.
        """
        buf = bytes([ropId]) + data
        requests = decodeRequests(buf, [], RopContext())
        self.assertEqual(encodeRequests(requests, RopContext()), buf)
        responses = decodeResponses(buf, [], None, RopContext())
        self.assertEqual(encodeResponses(responses, None, RopContext()), buf)
        for items in (requests, responses):
            self.assertGreater(len(items), 0)
            for item in items[:-1]:
                self.assertNotIsInstance(item, UnknownRop)
