"""
Tests for L{mapiproxy.server.directory} and L{mapiproxy.server.nspi}: the
address book model, every NSPI call answered in-process, then the lab
Exchange's NSPI over real loopback sockets with NTLM sealing, driven by our
own client and by impacket's real NSPI client.
"""

import struct
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.defer import inlineCallbacks
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from mapiproxy.dcerpc.association import AuthInfo, Call, ContextSession
from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, MapiError
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import nspi as N
from mapiproxy.interfaces import nspi_types as T
from mapiproxy.interfaces.ndr import ContextHandle
from mapiproxy.server import makeServerInterfaces
from mapiproxy.server import directory as D
from mapiproxy.server.directory import ErrorCode, codecForCodePage
from mapiproxy.server.nspi import NspiServer
from mapiproxy.server.store import Organization, Store, User
from tests.server import FQDN, MDB_DN, ORG_DN, SAMPLE_STORE, SERVER_DN, LabServer, copySampleStore, impacketDCE, text

PR_DISPLAY_NAME_A = 0x3001001E
PR_DISPLAY_NAME_W = 0x3001001F
PR_EMAIL_ADDRESS_A = 0x3003001E
PR_SMTP_ADDRESS_W = 0x39FE001F
PR_ACCOUNT_W = 0x3A00001F
PR_TITLE_A = 0x3A17001E
PR_HOME_MDB_A = 0x8006001E
PR_NETWORK_ADDRESS_A = 0x8170101E
PR_ANR_W = 0x360C001F
PR_ANR_A = 0x360C001E
NAMES = ["Administrator", "Alice Anderson", "Bob Brown", "Carol Clark", "Dave Davis"]
ALICE_DN = ORG_DN + "/cn=Recipients/cn=alice"
ALICE = AuthInfo(10, 6, "alice", "LAB")


def values(row):
    """
    A row as a list of C{(tag, value)}.
    """
    return [(p.ulPropTag, p.value) for p in row.lpProps]


def names(rows):
    return [row.lpProps[0].value for row in rows.aRow]


class DirectoryTests(SynchronousTestCase):
    """
    The address book model of the sample organisation.
    """

    def setUp(self):
        self.store = Store.open(SAMPLE_STORE)
        self.directory = D.Directory.fromStore(self.store)
        self.alice = self.directory.userEntry("alice")

    def test_galSortedByDisplayName(self):
        """
        The GAL lists every user by display name; the server objects are
        not in it.
        """
        self.assertEqual([e.displayName for e in self.directory.gal.members], NAMES)
        self.assertEqual([c.mid for c in self.directory.containers], [0, D.ALL_USERS_MID])

    def test_midsStable(self):
        """
        Two directories of the same store give the same MIds, none in the
        reserved range.
        """
        other = D.Directory.fromStore(Store.open(copySampleStore(self)))
        mids = [(e.legacyDN, e.mid) for e in self.directory.gal.members]
        self.assertEqual(mids, [(e.legacyDN, e.mid) for e in other.gal.members])
        self.assertTrue(all(mid > D.MID_RESERVED_MAX for _, mid in mids))
        self.assertEqual(self.directory.serverGuid, other.serverGuid)

    def test_lookupDN(self):
        """
        Legacy DNs resolve whatever their case; the server and its database
        are objects too.
        """
        self.assertIs(self.directory.lookupDN(ALICE_DN.upper()), self.alice)
        self.assertEqual(self.directory.lookupDN(SERVER_DN).mid, D.SERVER_MID)
        self.assertEqual(self.directory.lookupDN(MDB_DN).mid, D.MDB_MID)
        self.assertIsNone(self.directory.lookupDN("/o=Other/cn=Recipients/cn=alice"))
        self.assertIsNone(self.directory.lookupDN(None))

    def test_hiddenUser(self):
        """
        A hidden user is in no container and not resolved by name, but its
        DN still maps to it.
        """
        org = Organization("Org", "/o=Org", "S", "s.example", "example.org")
        users = [
            User("ann", "Ann Archer", "ann@example.org", "/o=Org/cn=Recipients/cn=ann"),
            User("amy", "Amy Admin", "amy@example.org", "/o=Org/cn=Recipients/cn=amy", hidden=True),
        ]
        directory = D.Directory(org, users, "s.example")
        self.assertEqual([e.displayName for e in directory.gal.members], ["Ann Archer"])
        self.assertEqual([e.displayName for e in directory.containers[1].members], ["Ann Archer"])
        self.assertEqual([e.displayName for e in directory.resolve("a")], ["Ann Archer"])
        self.assertEqual(directory.lookupDN("/o=Org/cn=Recipients/cn=amy").displayName, "Amy Admin")

    def test_permanentEntryIDMatchesImpacket(self):
        """
        A PermanentEntryID has impacket's PermanentEntryID layout, GUID_NSPI
        included.
        """
        from impacket.dcerpc.v5 import nspi

        theirs = nspi.PermanentEntryID()
        theirs["ProviderUID"] = theirs.default_guid
        theirs["DisplayType"] = D.DT_MAILUSER
        theirs["DistinguishedName"] = ALICE_DN.encode()
        self.assertEqual(self.directory.permanentEntryID(self.alice), theirs.getData())
        self.assertEqual(D.GUID_NSPI, nspi.GUID_NSPI)

    def test_ephemeralEntryIDMatchesImpacket(self):
        """
        An EphemeralEntryID has impacket's layout, with the server GUID and
        the MId.
        """
        from impacket.dcerpc.v5 import nspi

        theirs = nspi.EphemeralEntryID()
        theirs["ProviderUID"] = self.directory.serverGuid
        theirs["DisplayType"] = D.DT_MAILUSER
        theirs["MId"] = self.alice.mid
        self.assertEqual(self.directory.ephemeralEntryID(self.alice), theirs.getData())

    def test_stringTypes(self):
        """
        A string comes as the tag's type asks: Unicode, 8-bit in the code
        page, or the native Unicode for PtypUnspecified.
        """
        org = Organization("Org", "/o=Org", "S", "s.example", "example.org")
        user = User("zoe", "Zo\u00eb \u0141ukasz", "zoe@example.org", "/o=Org/cn=Recipients/cn=zoe")
        directory = D.Directory(org, [user], "s.example")
        entry = directory.userEntry("zoe")
        self.assertEqual(directory.value(entry, PR_DISPLAY_NAME_W, "cp1252").value, "Zo\u00eb \u0141ukasz")
        self.assertEqual(directory.value(entry, PR_DISPLAY_NAME_A, "cp1252").value, "Zo\xeb ?ukasz")
        self.assertEqual(directory.value(entry, PR_DISPLAY_NAME_A, "cp1250").value.encode("latin-1"), b"Zo\xeb \xa3ukasz")
        unspecified = directory.value(entry, 0x30010000, "cp1252")
        self.assertEqual((unspecified.ulPropTag, unspecified.value), (PR_DISPLAY_NAME_W, "Zo\u00eb \u0141ukasz"))
        self.assertEqual(directory.value(entry, 0x39FF001F, None).value, "Zoe ukasz")
        e = self.assertRaises(MapiError, directory.value, entry, PR_DISPLAY_NAME_A, None)
        self.assertEqual(e.code, ErrorCode.NotSupported)

    def test_missingAndMistypedProperties(self):
        """
        A property the object lacks, or asked with a type it cannot have,
        is PtypErrorCode NotFound.
        """
        server = self.directory.entry(D.SERVER_MID)
        for entry, tag in [(server, PR_TITLE_A), (self.alice, 0x30010003), (self.alice, 0x12340102)]:
            value = self.directory.value(entry, tag, "cp1252")
            self.assertEqual((value.ulPropTag, value.value), ((tag & 0xFFFF0000) | 0x000A, 0x8004010F))

    def test_userProperties(self):
        """
        A user has its account, addresses, home MDB, details and keys.
        """
        row = dict(
            values(
                self.directory.row(
                    self.alice,
                    [0x3A00001F, 0x39FE001F, 0x800F101F, 0x8006001F, 0x3A08001F, 0x0FF60102, 0x300B0102, 0x3002001F, 0x0FFE0003, 0x3A40000B],
                    "cp1252",
                )
            )
        )
        self.assertEqual(row[0x3A00001F], "alice")
        self.assertEqual(row[0x800F101F], ["SMTP:alice@lab.example", "smtp:a.anderson@lab.example"])
        self.assertEqual(row[0x8006001F], MDB_DN)
        self.assertEqual(row[0x3A08001F], "+1 555 0101")
        self.assertEqual(row[0x0FF60102], struct.pack("<I", self.alice.mid))
        self.assertEqual(row[0x300B0102], b"EX:" + ALICE_DN.upper().encode() + b"\x00")
        self.assertEqual((row[0x3002001F], row[0x0FFE0003], row[0x3A40000B]), ("EX", 6, 1))

    def test_codePages(self):
        """
        Code pages map to codecs; CP_WINUNICODE has no 8-bit form; an
        unknown one is InvalidCodepage.
        """
        self.assertEqual(codecForCodePage(0), "cp1252")
        self.assertEqual(codecForCodePage(1252), "cp1252")
        self.assertEqual(codecForCodePage(65001), "utf-8")
        self.assertEqual(codecForCodePage(D.CP_TELETEX), "latin-1")
        self.assertIsNone(codecForCodePage(D.CP_WINUNICODE))
        e = self.assertRaises(MapiError, codecForCodePage, 4242)
        self.assertEqual(e.code, ErrorCode.InvalidCodepage)

    def test_ambiguousNameResolution(self):
        """
        ANR matches prefixes of names, words, accounts and addresses, and
        the exact forms.
        """
        resolve = lambda text: [e.displayName for e in self.directory.resolve(text)]
        self.assertEqual(resolve("ali"), ["Alice Anderson"])
        self.assertEqual(resolve("A"), ["Administrator", "Alice Anderson"])
        self.assertEqual(resolve("anders"), ["Alice Anderson"])
        self.assertEqual(resolve("bob@lab"), ["Bob Brown"])
        self.assertEqual(resolve("a.anderson@"), ["Alice Anderson"])
        self.assertEqual(resolve("SMTP:carol@lab.example"), ["Carol Clark"])
        self.assertEqual(resolve("=dave"), ["Dave Davis"])
        self.assertEqual(resolve("=dav"), [])
        self.assertEqual(resolve("EX:" + ALICE_DN), ["Alice Anderson"])
        self.assertEqual(resolve(ALICE_DN.upper()), ["Alice Anderson"])
        self.assertEqual(resolve("zzz"), [])
        self.assertEqual(resolve("  "), [])

    def _restriction(self, rt, res):
        return T.Restriction_r(rt, res)

    def _matching(self, restriction):
        return [e.displayName for e in self.directory.gal.members if self.directory.matches(e, restriction, "cp1252")]

    def test_contentRestrictions(self):
        """
        Content restrictions: full string, substring and prefix, ignoring
        case, 8-bit or Unicode.
        """
        content = lambda level, tag, value: self._restriction(
            T.RestrictionType.CONTENT, T.ContentRestriction_r(level, tag, T.PropertyValue_r(tag, value))
        )
        self.assertEqual(self._matching(content(D.FL_PREFIX, PR_DISPLAY_NAME_W, "c")), ["Carol Clark"])
        self.assertEqual(self._matching(content(D.FL_SUBSTRING, PR_DISPLAY_NAME_A, "RO")), ["Bob Brown", "Carol Clark"])
        self.assertEqual(self._matching(content(D.FL_FULLSTRING, PR_SMTP_ADDRESS_W, "DAVE@lab.example")), ["Dave Davis"])
        self.assertEqual(self._matching(content(D.FL_PREFIX, 0x800F101F, "smtp:a.and")), ["Alice Anderson"])
        self.assertEqual(self._matching(content(D.FL_SUBSTRING, PR_ANR_W, "ali")), ["Alice Anderson"])

    def test_propertyAndLogicalRestrictions(self):
        """
        Property comparisons, AND/OR/NOT, exist and bitmask restrictions.
        """
        prop = lambda relop, tag, value: self._restriction(
            T.RestrictionType.PROPERTY, T.PropertyRestriction_r(relop, tag, T.PropertyValue_r(tag, value))
        )
        isBob = prop(D.RELOP_EQ, PR_ACCOUNT_W, "BOB")
        self.assertEqual(self._matching(isBob), ["Bob Brown"])
        self.assertEqual(self._matching(prop(D.RELOP_GE, PR_DISPLAY_NAME_W, "c")), ["Carol Clark", "Dave Davis"])
        self.assertEqual(self._matching(prop(D.RELOP_EQ, PR_ANR_A, "car")), ["Carol Clark"])
        either = self._restriction(T.RestrictionType.OR, T.OrRestriction_r([isBob, prop(D.RELOP_EQ, PR_ACCOUNT_W, "dave")]))
        self.assertEqual(self._matching(either), ["Bob Brown", "Dave Davis"])
        notBob = self._restriction(T.RestrictionType.NOT, T.NotRestriction_r(isBob))
        both = self._restriction(T.RestrictionType.AND, T.AndRestriction_r([notBob, prop(D.RELOP_LT, PR_DISPLAY_NAME_W, "c")]))
        self.assertEqual(self._matching(both), ["Administrator", "Alice Anderson"])
        exists = self._restriction(T.RestrictionType.EXIST, T.ExistRestriction_r(0, 0x3A1C001F, 0))
        self.assertEqual(self._matching(exists), ["Alice Anderson", "Carol Clark"])
        bitmask = self._restriction(T.RestrictionType.BITMASK, T.BitMaskRestriction_r(D.BMR_NEZ, 0x0FFE0003, 0x2))
        self.assertEqual(self._matching(bitmask), NAMES)

    def test_unsupportedRestriction(self):
        """
        A size restriction is TooComplex.
        """
        size = self._restriction(T.RestrictionType.SIZE, T.SizeRestriction_r(D.RELOP_GT, PR_DISPLAY_NAME_W, 3))
        e = self.assertRaises(MapiError, self.directory.matches, self.alice, size, "cp1252")
        self.assertEqual(e.code, ErrorCode.TooComplex)


class _Association:
    """
    What an NSPI call needs of its association.
    """

    def __init__(self, group=0x1234):
        self.assocGroupId = group
        self.peer = None
        self.authInfo = None


class NspiCallTests(SynchronousTestCase):
    """
    Each NSPI call answered in-process, through L{NspiServer.handleCall}.
    """

    def setUp(self):
        self.server = makeServerInterfaces(Store.open(SAMPLE_STORE))[0]
        self.directory = self.server.directory
        self.session = ContextSession(0, self.server, _Association(), None)
        self.mids = {e.user.account: e.mid for e in self.directory.gal.members}
        self.handle = self.call(N.NspiBindRequest(pStat=T.STAT(CodePage=1252))).contextHandle

    def call(self, request, session=None, auth=ALICE, raw=None):
        stub = raw if raw is not None else request.encode()
        answer = self.server.handleCall(Call(1, 0, request.opnum, stub, session or self.session, auth=auth))
        return N.CODEC.decodeResponse(request.opnum, answer)

    def queryRows(self, stat, count, tags=(PR_DISPLAY_NAME_W,), **kwargs):
        return self.call(
            N.NspiQueryRowsRequest(hRpc=self.handle, pStat=stat, Count=count, pPropTags=T.PropertyTagArray_r(list(tags)), **kwargs)
        )

    def test_interface(self):
        """
        The server provides IRPCInterface for exchange_nsp 56.0 and needs
        authentication.
        """
        verifyObject(IRPCInterface, self.server)
        self.assertEqual((self.server.name, str(self.server.syntax.uuid), self.server.syntax.version), ("exchange_nsp", "f5cc5a18-4264-101a-8c59-08002b2f8426", 56))
        self.assertTrue(self.server.requireAuthentication)

    # -- bind ------------------------------------------------------------

    def test_bind(self):
        """
        NspiBind hands out a fresh handle, returns the server GUID when the
        client sends one, and records who bound.
        """
        response = self.call(N.NspiBindRequest(pStat=T.STAT(CodePage=1252), pServerGuid=b"\x00" * 16))
        self.assertEqual((response.result, response.pServerGuid), (0, self.directory.serverGuid))
        self.assertEqual(response.contextHandle.attributes, 0)
        self.assertNotEqual(response.contextHandle, self.handle)
        session = self.server.sessions[response.contextHandle.uuid]
        self.assertEqual((session.username, session.entry.mid, session.codePage), ("alice", self.mids["alice"], 1252))
        self.assertIsNone(self.call(N.NspiBindRequest(pStat=T.STAT(CodePage=1252))).pServerGuid)

    def test_bindRefusals(self):
        """
        Anonymous binds, unauthenticated calls, CP_WINUNICODE and unknown
        code pages are refused with a zero handle.
        """
        for request, auth, code in [
            (N.NspiBindRequest(dwFlags=N.fAnonymousLogin, pStat=T.STAT(CodePage=1252)), ALICE, ErrorCode.LogonFailed),
            (N.NspiBindRequest(pStat=T.STAT(CodePage=1252)), None, ErrorCode.LogonFailed),
            (N.NspiBindRequest(pStat=T.STAT(CodePage=1200)), ALICE, ErrorCode.InvalidCodepage),
            (N.NspiBindRequest(pStat=T.STAT(CodePage=4242)), ALICE, ErrorCode.InvalidCodepage),
        ]:
            response = self.call(request, auth=auth)
            self.assertEqual((response.result, response.contextHandle), (code, ContextHandle()))
        self.assertEqual(len(self.server.sessions), 1)

    def test_anonymousWhenAllowed(self):
        """
        With allowAnonymous, an unauthenticated fAnonymousLogin bind gets a
        handle, and authentication is no longer required.
        """
        server = NspiServer(self.directory, allowAnonymous=True)
        self.assertFalse(server.requireAuthentication)
        session = ContextSession(0, server, _Association(), None)
        request = N.NspiBindRequest(dwFlags=N.fAnonymousLogin, pStat=T.STAT(CodePage=1252))
        answer = N.NspiBindResponse.decode(server.handleCall(Call(1, 0, 0, request.encode(), session)))
        self.assertEqual(answer.result, 0)
        self.assertIsNone(server.sessions[answer.contextHandle.uuid].username)

    def test_unbind(self):
        """
        NspiUnbind answers UnbindSuccess with a zeroed handle; the handle is
        dead afterwards.
        """
        response = self.call(N.NspiUnbindRequest(contextHandle=self.handle))
        self.assertEqual((response.result, response.contextHandle), (ErrorCode.UnbindSuccess, ContextHandle()))
        e = self.assertRaises(DCERPCFault, self.call, N.NspiUnbindRequest(contextHandle=self.handle))
        self.assertEqual(e.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)

    def test_unknownHandle(self):
        """
        A handle this server did not hand out is a context mismatch fault,
        for every call that takes one.
        """
        stranger = ContextHandle(0, uuid.uuid4())
        for request in [
            N.NspiQueryRowsRequest(hRpc=stranger, pStat=T.STAT(), Count=1),
            N.NspiDNToMIdRequest(hRpc=stranger),
            N.NspiModPropsRequest(hRpc=stranger),
            N.NspiGetPropsRequest(hRpc=ContextHandle(), pStat=T.STAT()),
            N.NspiQueryColumnsRequest(hRpc=ContextHandle(1, self.handle.uuid)),
        ]:
            e = self.assertRaises(DCERPCFault, self.call, request)
            self.assertEqual(e.status, 0x1C00001A)

    def test_handleScopedToAssociationGroup(self):
        """
        A handle works on another association of the same group, not on one
        of another group; it dies with the connection that made it.
        """
        sameGroup = ContextSession(0, self.server, _Association(0x1234), None)
        otherGroup = ContextSession(0, self.server, _Association(0x9999), None)
        request = N.NspiQueryColumnsRequest(hRpc=self.handle)
        self.assertEqual(self.call(request, session=sameGroup).result, 0)
        e = self.assertRaises(DCERPCFault, self.call, request, session=otherGroup)
        self.assertEqual(e.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)
        self.server.contextReleased(sameGroup)
        self.assertEqual(len(self.server.sessions), 1)
        self.server.contextReleased(self.session)
        self.assertEqual(self.server.sessions, {})

    # -- positions and rows ----------------------------------------------

    def test_queryRowsPaging(self):
        """
        QueryRows pages through the GAL: each answer's STAT names the row
        after the last one returned, END_OF_TABLE at the end.
        """
        stat = T.STAT(CodePage=1252)
        pages = []
        for _ in range(4):
            response = self.queryRows(stat, 2)
            self.assertEqual(response.result, 0)
            pages.append(names(response.ppRows))
            stat = response.pStat
            if stat.CurrentRec == D.MID_END_OF_TABLE:
                break
        self.assertEqual(pages, [NAMES[0:2], NAMES[2:4], NAMES[4:5]])
        self.assertEqual((stat.NumPos, stat.TotalRecs, stat.Delta), (5, 5, 0))
        self.assertEqual(names(self.queryRows(stat, 2).ppRows), [])

    def test_queryRowsPositions(self):
        """
        CurrentRec as a MId, with a Delta, fractional (MID_CURRENT) and past
        the end.
        """
        fromBob = self.queryRows(T.STAT(CurrentRec=self.mids["bob"]), 10)
        self.assertEqual(names(fromBob.ppRows), NAMES[2:])
        back = self.queryRows(T.STAT(CurrentRec=self.mids["carol"], Delta=-2), 1)
        self.assertEqual((names(back.ppRows), back.pStat.CurrentRec, back.pStat.NumPos), (["Alice Anderson"], self.mids["bob"], 2))
        half = self.queryRows(T.STAT(CurrentRec=D.MID_CURRENT, NumPos=1, TotalRecs=2), 1)
        self.assertEqual(names(half.ppRows), ["Bob Brown"])
        far = self.queryRows(T.STAT(Delta=99), 3)
        self.assertEqual((names(far.ppRows), far.pStat.CurrentRec), ([], D.MID_END_OF_TABLE))
        self.assertEqual(names(self.queryRows(T.STAT(CurrentRec=D.MID_END_OF_TABLE, Delta=-1), 3).ppRows), ["Dave Davis"])

    def test_queryRowsErrors(self):
        """
        Count 0 is InvalidParameter, an unknown container InvalidBookmark,
        a CurrentRec outside the table NotFound; rows are then NULL.
        """
        for stat, count, code in [
            (T.STAT(), 0, ErrorCode.InvalidParameter),
            (T.STAT(ContainerID=0x777), 1, ErrorCode.InvalidBookmark),
            (T.STAT(CurrentRec=D.SERVER_MID), 1, ErrorCode.NotFound),
            (T.STAT(CodePage=4242), 1, ErrorCode.InvalidCodepage),
        ]:
            response = self.queryRows(stat, count)
            self.assertEqual((response.result, response.ppRows), (code, None))
        tooMany = self.queryRows(T.STAT(), 1, tags=[PR_DISPLAY_NAME_W] * 101)
        self.assertEqual(tooMany.result, ErrorCode.TableTooBig)

    def test_queryRowsExplicitTable(self):
        """
        With lpETable the rows are those of the MIds given, a PtypErrorCode
        row for an unknown one, and the STAT is left alone.
        """
        response = self.queryRows(T.STAT(CurrentRec=7), 1, tags=[PR_DISPLAY_NAME_A, PR_HOME_MDB_A], lpETable=[self.mids["dave"], 0x4242, D.MDB_MID])
        rows = [values(r) for r in response.ppRows.aRow]
        self.assertEqual(rows[0], [(PR_DISPLAY_NAME_A, "Dave Davis"), (PR_HOME_MDB_A, MDB_DN)])
        self.assertEqual(rows[1], [(0x3001000A, 0x8004010F), (0x8006000A, 0x8004010F)])
        self.assertEqual(rows[2], [(PR_DISPLAY_NAME_A, "Microsoft Private MDB"), (0x8006000A, 0x8004010F)])
        self.assertEqual(response.pStat.CurrentRec, 7)

    def test_queryRowsDefaultColumnsAndEntryIds(self):
        """
        Without columns the default seven come back (8-bit strings); fEphID
        gives EphemeralEntryIDs, else PermanentEntryIDs.
        """
        response = self.call(N.NspiQueryRowsRequest(hRpc=self.handle, pStat=T.STAT(), Count=1))
        self.assertEqual(
            values(response.ppRows.aRow[0]),
            [(0xFFFD0003, 0), (0x0FFE0003, 6), (0x39000003, 0), (PR_DISPLAY_NAME_A, "Administrator"), (0x3A1A000A, 0x8004010F), (0x3A18001E, "IT"), (0x3A19000A, 0x8004010F)],
        )
        permanent = self.queryRows(T.STAT(), 1, tags=[0x0FFF0102]).ppRows.aRow[0].lpProps[0].value
        ephemeral = self.queryRows(T.STAT(), 1, tags=[0x0FFF0102], dwFlags=N.fEphID).ppRows.aRow[0].lpProps[0].value
        administrator = self.directory.entry(self.mids["administrator"])
        self.assertEqual(permanent, self.directory.permanentEntryID(administrator))
        self.assertEqual(ephemeral, self.directory.ephemeralEntryID(administrator))
        self.assertEqual((len(ephemeral), ephemeral[0]), (32, 0x87))

    def test_allUsersContainer(self):
        """
        The All Users list answers QueryRows by its ContainerID.
        """
        response = self.queryRows(T.STAT(ContainerID=D.ALL_USERS_MID), 10)
        self.assertEqual((names(response.ppRows), response.pStat.TotalRecs), (NAMES, 5))

    def test_updateStat(self):
        """
        UpdateStat moves by Delta, clamped to the table, and says how far
        in plDelta.
        """
        response = self.call(N.NspiUpdateStatRequest(hRpc=self.handle, pStat=T.STAT(Delta=3), plDelta=0))
        self.assertEqual((response.result, response.pStat.CurrentRec, response.pStat.NumPos, response.plDelta), (0, self.mids["carol"], 3, 3))
        response = self.call(N.NspiUpdateStatRequest(hRpc=self.handle, pStat=T.STAT(CurrentRec=self.mids["carol"], Delta=10), plDelta=0))
        self.assertEqual((response.pStat.CurrentRec, response.pStat.NumPos, response.pStat.TotalRecs, response.plDelta), (D.MID_END_OF_TABLE, 5, 5, 2))
        response = self.call(N.NspiUpdateStatRequest(hRpc=self.handle, pStat=T.STAT(CurrentRec=D.MID_END_OF_TABLE, Delta=-9)))
        self.assertEqual((response.pStat.CurrentRec, response.plDelta), (self.mids["administrator"], None))
        response = self.call(N.NspiUpdateStatRequest(hRpc=self.handle, pStat=T.STAT(ContainerID=5)))
        self.assertEqual(response.result, ErrorCode.InvalidBookmark)

    def test_seekEntries(self):
        """
        SeekEntries moves to the first display name at or after the target
        and returns its row; past the last one is NotFound.
        """
        target = T.PropertyValue_r(PR_DISPLAY_NAME_W, "c")
        response = self.call(N.NspiSeekEntriesRequest(hRpc=self.handle, pStat=T.STAT(), pTarget=target, pPropTags=T.PropertyTagArray_r([PR_ACCOUNT_W])))
        self.assertEqual((response.result, response.pStat.CurrentRec, response.pStat.NumPos), (0, self.mids["carol"], 3))
        self.assertEqual(names(response.ppRows), ["carol"])
        eightBit = T.PropertyValue_r(PR_DISPLAY_NAME_A, "Bob")
        response = self.call(N.NspiSeekEntriesRequest(hRpc=self.handle, pStat=T.STAT(), pTarget=eightBit))
        self.assertEqual((response.pStat.CurrentRec, response.ppRows), (self.mids["bob"], None))
        self.assertEqual(self.call(N.NspiSeekEntriesRequest(hRpc=self.handle, pStat=T.STAT(), pTarget=T.PropertyValue_r(PR_DISPLAY_NAME_W, "zz"))).result, ErrorCode.NotFound)
        self.assertEqual(self.call(N.NspiSeekEntriesRequest(hRpc=self.handle, pStat=T.STAT(), pTarget=T.PropertyValue_r(PR_ACCOUNT_W, "b"))).result, ErrorCode.GeneralFailure)
        self.assertEqual(self.call(N.NspiSeekEntriesRequest(hRpc=self.handle, pStat=T.STAT(SortType=3), pTarget=target)).result, ErrorCode.GeneralFailure)

    def test_seekEntriesExplicitTable(self):
        """
        SeekEntries over an explicit table sorts it and returns the rows
        from the target on.
        """
        table = T.PropertyTagArray_r([self.mids["dave"], self.mids["alice"], self.mids["carol"]])
        response = self.call(
            N.NspiSeekEntriesRequest(
                hRpc=self.handle, pStat=T.STAT(), pTarget=T.PropertyValue_r(PR_DISPLAY_NAME_W, "b"), lpETable=table, pPropTags=T.PropertyTagArray_r([PR_DISPLAY_NAME_W])
            )
        )
        self.assertEqual((names(response.ppRows), response.pStat.NumPos, response.pStat.TotalRecs), (["Carol Clark", "Dave Davis"], 1, 3))

    # -- explicit tables ---------------------------------------------------

    def getMatches(self, restriction, requested=10, tags=None, **stat):
        return self.call(
            N.NspiGetMatchesRequest(
                hRpc=self.handle,
                pStat=T.STAT(CodePage=1252, **stat),
                Filter=restriction,
                ulRequested=requested,
                pPropTags=T.PropertyTagArray_r(tags) if tags else None,
            )
        )

    def test_getMatches(self):
        """
        GetMatches returns the MIds (and rows) of the objects a restriction
        selects; an ANR property restriction is Outlook's way of resolving.
        """
        anr = T.Restriction_r(T.RestrictionType.PROPERTY, T.PropertyRestriction_r(D.RELOP_EQ, PR_ANR_A, T.PropertyValue_r(PR_ANR_A, "bo")))
        response = self.getMatches(anr, tags=[PR_DISPLAY_NAME_W, 0x0FFF0102])
        self.assertEqual((response.result, response.ppOutMIds.aulPropTag), (0, [self.mids["bob"]]))
        self.assertEqual(names(response.ppRows), ["Bob Brown"])
        self.assertEqual(response.ppRows.aRow[0].lpProps[1].value[0], 0x87)
        prefix = T.Restriction_r(T.RestrictionType.CONTENT, T.ContentRestriction_r(D.FL_PREFIX, PR_DISPLAY_NAME_W, T.PropertyValue_r(PR_DISPLAY_NAME_W, "a")))
        response = self.getMatches(prefix)
        self.assertEqual((response.ppOutMIds.aulPropTag, response.ppRows), ([self.mids["administrator"], self.mids["alice"]], None))

    def test_getMatchesErrors(self):
        """
        More matches than requested is TableTooBig, an unsupported
        restriction TooComplex, a named-property search NotSupported; no
        filter gives an empty table.
        """
        everyone = T.Restriction_r(T.RestrictionType.EXIST, T.ExistRestriction_r(0, PR_DISPLAY_NAME_W, 0))
        self.assertEqual(self.getMatches(everyone, requested=4).result, ErrorCode.TableTooBig)
        self.assertEqual(self.getMatches(everyone, requested=5).ppOutMIds.cValues, 5)
        size = T.Restriction_r(T.RestrictionType.SIZE, T.SizeRestriction_r(0, PR_DISPLAY_NAME_W, 1))
        response = self.getMatches(size)
        self.assertEqual((response.result, response.ppOutMIds, response.ppRows), (ErrorCode.TooComplex, None, None))
        self.assertEqual(self.getMatches(None).ppOutMIds.aulPropTag, [])
        named = N.NspiGetMatchesRequest(hRpc=self.handle, pStat=T.STAT(), Filter=everyone, lpPropName=T.PropertyName_r(b"\x01" * 16, 0, 5), ulRequested=9)
        self.assertEqual(self.call(named).result, ErrorCode.NotSupported)

    def test_resortRestriction(self):
        """
        ResortRestriction sorts MIds by display name and drops unknown ones.
        """
        request = N.NspiResortRestrictionRequest(
            hRpc=self.handle,
            pStat=T.STAT(CurrentRec=self.mids["dave"]),
            pInMIds=T.PropertyTagArray_r([self.mids["dave"], 0x4242, self.mids["alice"], self.mids["bob"]]),
        )
        response = self.call(request)
        self.assertEqual(response.ppOutMIds.aulPropTag, [self.mids["alice"], self.mids["bob"], self.mids["dave"]])
        self.assertEqual((response.pStat.NumPos, response.pStat.TotalRecs), (2, 3))

    # -- objects -----------------------------------------------------------

    def test_dnToMId(self):
        """
        DNToMId maps DNs (any case) to MIds, 0 for unknown, empty or NULL.
        """
        request = N.NspiDNToMIdRequest(hRpc=self.handle, pNames=T.StringsArray_r([ALICE_DN.upper(), SERVER_DN, MDB_DN, "/o=Elsewhere/cn=x", "", None]))
        self.assertEqual(self.call(request).ppOutMIds.aulPropTag, [self.mids["alice"], D.SERVER_MID, D.MDB_MID, 0, 0, 0])

    def test_getProps(self):
        """
        GetProps of the server gives the network address; of a user, the
        home MDB; a missing property makes the answer ErrorsReturned.
        """
        server = self.call(N.NspiGetPropsRequest(hRpc=self.handle, pStat=T.STAT(CurrentRec=D.SERVER_MID, CodePage=1252), pPropTags=T.PropertyTagArray_r([PR_NETWORK_ADDRESS_A, PR_DISPLAY_NAME_A])))
        self.assertEqual(server.result, 0)
        self.assertEqual(values(server.ppRows), [(PR_NETWORK_ADDRESS_A, ["ncacn_ip_tcp:" + FQDN, "ncacn_http:" + FQDN]), (PR_DISPLAY_NAME_A, "LAB")])
        alice = self.call(N.NspiGetPropsRequest(hRpc=self.handle, pStat=T.STAT(CurrentRec=self.mids["alice"]), pPropTags=T.PropertyTagArray_r([PR_HOME_MDB_A, PR_EMAIL_ADDRESS_A, 0x3A09001F])))
        self.assertEqual(alice.result, ErrorCode.ErrorsReturned)
        self.assertEqual(values(alice.ppRows), [(PR_HOME_MDB_A, MDB_DN), (PR_EMAIL_ADDRESS_A, ALICE_DN), (0x3A09000A, 0x8004010F)])

    def test_getPropsPositionsAndDefaults(self):
        """
        Without a MId the STAT's position picks the object; without columns
        every property the object has comes back, without errors; an
        unknown MId gives a row of errors.
        """
        first = self.call(N.NspiGetPropsRequest(hRpc=self.handle, pStat=T.STAT(Delta=1), pPropTags=T.PropertyTagArray_r([PR_ACCOUNT_W])))
        self.assertEqual(values(first.ppRows), [(PR_ACCOUNT_W, "alice")])
        everything = self.call(N.NspiGetPropsRequest(hRpc=self.handle, pStat=T.STAT(CurrentRec=self.mids["bob"], CodePage=1200)))
        self.assertEqual(everything.result, 0)
        tags = [p.ulPropTag for p in everything.ppRows.lpProps]
        self.assertEqual(tags, self.directory.propertyTags(self.directory.entry(self.mids["bob"]), unicode=True))
        self.assertIn(PR_SMTP_ADDRESS_W, tags)
        self.assertFalse(any(t & 0xFFFF == 0x000A for t in tags))
        unknown = self.call(N.NspiGetPropsRequest(hRpc=self.handle, pStat=T.STAT(CurrentRec=0x4242), pPropTags=T.PropertyTagArray_r([PR_ACCOUNT_W])))
        self.assertEqual((unknown.result, values(unknown.ppRows)), (ErrorCode.ErrorsReturned, [(0x3A00000A, 0x8004010F)]))
        unicodeOnly = self.call(N.NspiGetPropsRequest(hRpc=self.handle, pStat=T.STAT(CurrentRec=self.mids["bob"], CodePage=1200), pPropTags=T.PropertyTagArray_r([PR_DISPLAY_NAME_A])))
        self.assertEqual((unicodeOnly.result, unicodeOnly.ppRows), (ErrorCode.NotSupported, None))

    def test_getPropList(self):
        """
        GetPropList lists a user's properties, 8-bit or Unicode; an unknown
        MId is InvalidObject.
        """
        bob = self.mids["bob"]
        unicode = self.call(N.NspiGetPropListRequest(hRpc=self.handle, dwMId=bob, CodePage=1200)).ppPropTags.aulPropTag
        eightBit = self.call(N.NspiGetPropListRequest(hRpc=self.handle, dwMId=bob, CodePage=1252)).ppPropTags.aulPropTag
        self.assertIn(PR_SMTP_ADDRESS_W, unicode)
        self.assertIn(0x39FE001E, eightBit)
        self.assertIn(0x800F101E, eightBit)
        self.assertNotIn(0x3A1C001E, eightBit)
        self.assertEqual(len(unicode), len(eightBit))
        response = self.call(N.NspiGetPropListRequest(hRpc=self.handle, dwMId=0x4242))
        self.assertEqual((response.result, response.ppPropTags), (ErrorCode.InvalidObject, None))

    def test_compareMIds(self):
        """
        CompareMIds orders by position in the table.
        """
        compare = lambda a, b: self.call(N.NspiCompareMIdsRequest(hRpc=self.handle, pStat=T.STAT(), MId1=a, MId2=b))
        self.assertEqual(compare(self.mids["alice"], self.mids["dave"]).plResult, -1)
        self.assertEqual(compare(self.mids["dave"], self.mids["alice"]).plResult, 1)
        self.assertEqual(compare(self.mids["bob"], self.mids["bob"]).plResult, 0)
        self.assertEqual(compare(self.mids["bob"], D.SERVER_MID).result, ErrorCode.GeneralFailure)

    # -- tables of the server -----------------------------------------------

    def test_specialTable(self):
        """
        The hierarchy table has the GAL (ContainerID 0, DN "/") and All
        Users, 8-bit or Unicode names as asked.
        """
        response = self.call(N.NspiGetSpecialTableRequest(hRpc=self.handle, dwFlags=N.NspiUnicodeStrings, pStat=T.STAT(CodePage=1252)))
        self.assertEqual((response.result, response.lpVersion), (0, 1))
        gal = dict(values(response.ppRows.aRow[0]))
        self.assertEqual(gal[PR_DISPLAY_NAME_W], "Global Address List")
        self.assertEqual((gal[0xFFFD0003], gal[0x36000003], gal[0x30050003], gal[0xFFFB000B]), (0, 9, 0, 0))
        self.assertEqual(gal[0x0FFF0102], b"\x00" * 4 + D.GUID_NSPI + struct.pack("<II", 1, 0x100) + b"/\x00")
        allUsers = dict(values(response.ppRows.aRow[1]))
        self.assertEqual((allUsers[PR_DISPLAY_NAME_W], allUsers[0xFFFD0003]), ("All Users", D.ALL_USERS_MID))
        eightBit = self.call(N.NspiGetSpecialTableRequest(hRpc=self.handle, pStat=T.STAT(CodePage=1252)))
        self.assertEqual(dict(values(eightBit.ppRows.aRow[0]))[PR_DISPLAY_NAME_A], "Global Address List")
        creation = self.call(N.NspiGetSpecialTableRequest(hRpc=self.handle, dwFlags=N.NspiAddressCreationTemplates, pStat=T.STAT()))
        self.assertEqual((creation.result, creation.ppRows.aRow), (0, []))

    def test_specialTableImpacketForm(self):
        """
        impacket's GetSpecialTable (pStat and lpVersion as unique pointers)
        is understood like the IDL form.
        """
        from impacket.dcerpc.v5 import nspi
        from impacket.dcerpc.v5.dtypes import NULL

        request = nspi.NspiGetSpecialTable()
        request["hRpc"]["context_handle_attributes"] = 0
        request["hRpc"]["context_handle_uuid"] = self.handle.uuid.bytes_le
        request["dwFlags"] = N.NspiUnicodeStrings
        request["pStat"] = nspi.STAT()
        request["lpVersion"] = NULL
        stub = request.getData()
        self.assertEqual(len(stub), 68)
        response = self.call(N.NspiGetSpecialTableRequest(), raw=stub)
        self.assertEqual([dict(values(r))[PR_DISPLAY_NAME_W] for r in response.ppRows.aRow], ["Global Address List", "All Users"])

    def test_queryColumns(self):
        """
        QueryColumns lists the known columns, Unicode-typed with
        NspiUnicodeProptypes.
        """
        unicode = self.call(N.NspiQueryColumnsRequest(hRpc=self.handle, dwFlags=N.NspiUnicodeProptypes)).ppColumns.aulPropTag
        eightBit = self.call(N.NspiQueryColumnsRequest(hRpc=self.handle)).ppColumns.aulPropTag
        self.assertIn(PR_DISPLAY_NAME_W, unicode)
        self.assertIn(PR_DISPLAY_NAME_A, eightBit)
        self.assertIn(PR_NETWORK_ADDRESS_A, eightBit)
        self.assertEqual([t >> 16 for t in unicode], [t >> 16 for t in eightBit])

    # -- name resolution ------------------------------------------------------

    def test_resolveNamesW(self):
        """
        ResolveNamesW: the MId of a unique match, MID_AMBIGUOUS (1),
        MID_UNRESOLVED (0); rows for the resolved names.
        """
        request = N.NspiResolveNamesWRequest(
            hRpc=self.handle,
            pStat=T.STAT(CodePage=1252),
            pPropTags=T.PropertyTagArray_r([PR_DISPLAY_NAME_W, PR_SMTP_ADDRESS_W]),
            paWStr=T.StringsArrayW_r(["ali", "a", "nobody", "bob@lab.example", None]),
        )
        response = self.call(request)
        self.assertEqual(response.ppMIds.aulPropTag, [self.mids["alice"], D.MID_AMBIGUOUS, D.MID_UNRESOLVED, self.mids["bob"], 0])
        self.assertEqual([values(r) for r in response.ppRows.aRow], [[(PR_DISPLAY_NAME_W, "Alice Anderson"), (PR_SMTP_ADDRESS_W, "alice@lab.example")], [(PR_DISPLAY_NAME_W, "Bob Brown"), (PR_SMTP_ADDRESS_W, "bob@lab.example")]])

    def test_resolveNames8Bit(self):
        """
        ResolveNames decodes its strings in the STAT's code page and returns
        the default columns when none are asked.
        """
        org = Organization("Org", "/o=Org", "S", "s.example", "example.org")
        server = NspiServer(D.Directory(org, [User("zoe", "Zo\u00eb Zimmer", "zoe@example.org", "/o=Org/cn=Recipients/cn=zoe")], "s.example"))
        session = ContextSession(0, server, _Association(), None)
        bind = N.NspiBindRequest(pStat=T.STAT(CodePage=1252))
        handle = N.NspiBindResponse.decode(server.handleCall(Call(1, 0, 0, bind.encode(), session, auth=ALICE))).contextHandle
        request = N.NspiResolveNamesRequest(hRpc=handle, pStat=T.STAT(CodePage=850), paStr=T.StringsArray_r(["Zo\x89"]))
        response = N.NspiResolveNamesResponse.decode(server.handleCall(Call(2, 0, 19, request.encode(), session, auth=ALICE)))
        self.assertEqual(response.ppMIds.aulPropTag, [D.USER_MID_BASE])
        self.assertEqual(dict(values(response.ppRows.aRow[0]))[PR_DISPLAY_NAME_A], "Zo\x89 Zimmer")

    def test_resolveNamesUnknownContainer(self):
        """
        ResolveNames in a container that does not exist is InvalidBookmark.
        """
        request = N.NspiResolveNamesWRequest(hRpc=self.handle, pStat=T.STAT(ContainerID=0x31), paWStr=T.StringsArrayW_r(["ali"]))
        response = self.call(request)
        self.assertEqual((response.result, response.ppMIds, response.ppRows), (ErrorCode.InvalidBookmark, None, None))

    # -- what is not supported, and bad input ---------------------------------

    def test_unsupportedCalls(self):
        """
        The calls a read-only lab directory does not serve answer
        NotSupported, with NULL outputs.
        """
        for request in [
            N.NspiModPropsRequest(hRpc=self.handle, pRow=T.PropertyRow_r([T.PropertyValue_r(PR_TITLE_A, "Boss")])),
            N.NspiGetTemplateInfoRequest(hRpc=self.handle, ulType=0, pDN=None),
            N.NspiModLinkAttRequest(hRpc=self.handle, ulPropTag=0x8015101E, dwMId=5),
            N.NspiDeleteEntriesRequest(hRpc=self.handle),
            N.NspiGetNamesFromIDsRequest(hRpc=self.handle),
            N.NspiGetIDsFromNamesRequest(hRpc=self.handle, pNames=[T.PropertyName_r(b"\x02" * 16, 0, 1)]),
        ]:
            response = self.call(request)
            self.assertEqual(response.result, ErrorCode.NotSupported, request)
            for name, value in vars(response).items():
                if name not in ("result", "wire"):
                    self.assertIsNone(value)

    def test_faults(self):
        """
        An opnum past 20 is nca_op_rng_error, a stub that does not decode
        nca_s_fault_ndr.
        """
        e = self.assertRaises(DCERPCFault, self.server.handleCall, Call(1, 0, 21, b"", self.session, auth=ALICE))
        self.assertEqual(e.status, Status.NCA_S_OP_RNG_ERROR)
        for opnum in range(21):
            e = self.assertRaises(DCERPCFault, self.server.handleCall, Call(1, 0, opnum, b"\x01\x02\x03", self.session, auth=ALICE))
            self.assertEqual(e.status, Status.FAULT_NDR)

    @settings(max_examples=200, deadline=None)
    @given(st.data())
    def test_damagedStubs(self, data):
        """
        Valid requests truncated or with a byte changed get an answer or a
        fault, never another exception.
        """
        handle = self.handle
        requests = [
            N.NspiQueryRowsRequest(hRpc=handle, pStat=T.STAT(), Count=3, lpETable=[self.mids["bob"]], pPropTags=T.PropertyTagArray_r([PR_DISPLAY_NAME_A])),
            N.NspiResolveNamesWRequest(hRpc=handle, pStat=T.STAT(), paWStr=T.StringsArrayW_r(["ali", "b"])),
            N.NspiDNToMIdRequest(hRpc=handle, pNames=T.StringsArray_r([ALICE_DN])),
            N.NspiGetMatchesRequest(
                hRpc=handle, pStat=T.STAT(), ulRequested=5,
                Filter=T.Restriction_r(T.RestrictionType.CONTENT, T.ContentRestriction_r(1, PR_DISPLAY_NAME_W, T.PropertyValue_r(PR_DISPLAY_NAME_W, "o"))),
            ),
            N.NspiGetPropsRequest(hRpc=handle, pStat=T.STAT(CurrentRec=D.SERVER_MID), pPropTags=T.PropertyTagArray_r([PR_NETWORK_ADDRESS_A])),
            N.NspiSeekEntriesRequest(hRpc=handle, pStat=T.STAT(), pTarget=T.PropertyValue_r(PR_DISPLAY_NAME_W, "c")),
            N.NspiUpdateStatRequest(hRpc=handle, pStat=T.STAT(Delta=2), plDelta=0),
        ]
        request = data.draw(st.sampled_from(requests))
        stub = bytearray(request.encode())
        if data.draw(st.booleans()):
            del stub[data.draw(st.integers(0, len(stub) - 1)) :]
        else:
            stub[data.draw(st.integers(0, len(stub) - 1))] = data.draw(st.integers(0, 255))
        try:
            answer = self.server.handleCall(Call(1, 0, request.opnum, bytes(stub), self.session, auth=ALICE))
        except DCERPCFault:
            return
        N.CODEC.decodeResponse(request.opnum, answer)


class NspiOverNetworkTests(TestCase):
    """
    The lab Exchange's NSPI over loopback TCP, NTLM with packet privacy,
    driven by our client.
    """

    timeout = 60

    def setUp(self):
        self.lab = LabServer(self, Store.open(SAMPLE_STORE))
        self.mids = {e.user.account: e.mid for e in self.lab.nspi.directory.gal.members}

    @inlineCallbacks
    def _bind(self):
        nspi = yield self.lab.connect(self, "exchange_nsp")
        answer = yield nspi.call(0, N.NspiBindRequest(pStat=T.STAT(CodePage=1252), pServerGuid=b"\x00" * 16).encode())
        response = N.NspiBindResponse.decode(answer)
        self.assertEqual((response.result, response.pServerGuid), (0, self.lab.nspi.directory.serverGuid))
        return nspi, response.contextHandle

    @inlineCallbacks
    def test_profileFlow(self):
        """
        Outlook's profile creation: Bind, DNToMId of the server and the
        user, GetProps for the network address, QueryRows of the user for
        the home MDB, Unbind.
        """
        nspi, handle = yield self._bind()
        answer = yield nspi.call(7, N.NspiDNToMIdRequest(hRpc=handle, pNames=T.StringsArray_r([SERVER_DN, ALICE_DN, "/o=Other/cn=x"])).encode())
        serverMid, aliceMid, other = N.NspiDNToMIdResponse.decode(answer).ppOutMIds.aulPropTag
        self.assertEqual((serverMid, aliceMid, other), (D.SERVER_MID, self.mids["alice"], 0))
        answer = yield nspi.call(
            9, N.NspiGetPropsRequest(hRpc=handle, pStat=T.STAT(CurrentRec=serverMid, CodePage=1252), pPropTags=T.PropertyTagArray_r([PR_NETWORK_ADDRESS_A])).encode()
        )
        row = N.NspiGetPropsResponse.decode(answer).ppRows
        self.assertEqual(values(row), [(PR_NETWORK_ADDRESS_A, ["ncacn_ip_tcp:lab.example", "ncacn_http:lab.example"])])
        answer = yield nspi.call(
            3,
            N.NspiQueryRowsRequest(
                hRpc=handle, pStat=T.STAT(CodePage=1252), lpETable=[aliceMid], Count=1, pPropTags=T.PropertyTagArray_r([PR_DISPLAY_NAME_A, PR_HOME_MDB_A, PR_EMAIL_ADDRESS_A])
            ).encode(),
        )
        rows = N.NspiQueryRowsResponse.decode(answer).ppRows
        self.assertEqual(values(rows.aRow[0]), [(PR_DISPLAY_NAME_A, "Alice Anderson"), (PR_HOME_MDB_A, MDB_DN), (PR_EMAIL_ADDRESS_A, ALICE_DN)])
        answer = yield nspi.call(1, N.NspiUnbindRequest(contextHandle=handle).encode())
        self.assertEqual(N.NspiUnbindResponse.decode(answer).result, ErrorCode.UnbindSuccess)

    @inlineCallbacks
    def test_addressBookWalk(self):
        """
        The address book: the hierarchy table, the GAL paged two rows at a
        time, ResolveNamesW of "ali", a GetMatches ANR search.
        """
        nspi, handle = yield self._bind()
        answer = yield nspi.call(12, N.NspiGetSpecialTableRequest(hRpc=handle, dwFlags=N.NspiUnicodeStrings, pStat=T.STAT(CodePage=1252)).encode())
        table = N.NspiGetSpecialTableResponse.decode(answer).ppRows
        self.assertEqual([dict(values(r))[PR_DISPLAY_NAME_W] for r in table.aRow], ["Global Address List", "All Users"])
        stat, seen, calls = T.STAT(CodePage=1252), [], 0
        while stat.CurrentRec != D.MID_END_OF_TABLE:
            answer = yield nspi.call(3, N.NspiQueryRowsRequest(hRpc=handle, pStat=stat, Count=2, pPropTags=T.PropertyTagArray_r([PR_DISPLAY_NAME_W, PR_SMTP_ADDRESS_W])).encode())
            response = N.NspiQueryRowsResponse.decode(answer)
            seen.extend(values(r) for r in response.ppRows.aRow)
            stat, calls = response.pStat, calls + 1
        self.assertEqual([row[0][1] for row in seen], NAMES)
        self.assertEqual(seen[1][1], (PR_SMTP_ADDRESS_W, "alice@lab.example"))
        self.assertEqual((calls, stat.TotalRecs), (3, 5))
        answer = yield nspi.call(20, N.NspiResolveNamesWRequest(hRpc=handle, pStat=T.STAT(CodePage=1252), pPropTags=T.PropertyTagArray_r([PR_DISPLAY_NAME_W]), paWStr=T.StringsArrayW_r(["ali"])).encode())
        resolved = N.NspiResolveNamesWResponse.decode(answer)
        self.assertEqual((resolved.ppMIds.aulPropTag, names(resolved.ppRows)), ([self.mids["alice"]], ["Alice Anderson"]))
        anr = T.Restriction_r(T.RestrictionType.PROPERTY, T.PropertyRestriction_r(D.RELOP_EQ, PR_ANR_W, T.PropertyValue_r(PR_ANR_W, "carol")))
        answer = yield nspi.call(5, N.NspiGetMatchesRequest(hRpc=handle, pStat=T.STAT(CodePage=1252), Filter=anr, ulRequested=50).encode())
        self.assertEqual(N.NspiGetMatchesResponse.decode(answer).ppOutMIds.aulPropTag, [self.mids["carol"]])

    @inlineCallbacks
    def test_errorsOverTheWire(self):
        """
        An unsupported call answers NotSupported, a strange handle faults
        context mismatch, an unknown opnum faults op_rng_error, and the
        association stays usable.
        """
        nspi, handle = yield self._bind()
        answer = yield nspi.call(11, N.NspiModPropsRequest(hRpc=handle, pRow=T.PropertyRow_r([])).encode())
        self.assertEqual(N.NspiModPropsResponse.decode(answer).result, ErrorCode.NotSupported)
        failure = yield self.assertFailure(nspi.call(16, N.NspiQueryColumnsRequest(hRpc=ContextHandle(0, uuid.uuid4())).encode()), DCERPCFault)
        self.assertEqual(failure.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)
        failure = yield self.assertFailure(nspi.call(33, b""), DCERPCFault)
        self.assertEqual(failure.status, Status.NCA_S_OP_RNG_ERROR)
        answer = yield nspi.call(16, N.NspiQueryColumnsRequest(hRpc=handle).encode())
        self.assertEqual(N.NspiQueryColumnsResponse.decode(answer).result, 0)

    @inlineCallbacks
    def test_unauthenticatedRefused(self):
        """
        A client that did not authenticate is refused before NSPI sees the
        call.
        """
        nspi = yield self.lab.connect(self, "exchange_nsp", authenticated=False)
        failure = yield self.assertFailure(nspi.call(0, N.NspiBindRequest(pStat=T.STAT(CodePage=1252)).encode()), DCERPCFault)
        self.assertEqual(failure.status, Status.ACCESS_DENIED)
        self.assertEqual(self.lab.nspi.sessions, {})


def impacketAddressBook(port, aliceDN, aliceMid):
    """
    impacket's NSPI helpers against the lab Exchange, in exchanger.py's
    order (Bind, UpdateStat, GetSpecialTable, QueryColumns, QueryRows,
    ResolveNamesW) plus DNToMId, GetPropList, QueryRows paged with the
    returned STAT, and a GetProps in impacket's own encoding.

    @return: a L{dict} of what came back.
    """
    from impacket.dcerpc.v5 import nspi
    from impacket.dcerpc.v5.rpcrt import DCERPCException

    dce = impacketDCE(port, nspi.MSRPC_UUID_NSPI)
    found = {}
    try:
        handle = nspi.hNspiBind(dce)["contextHandle"]
        stat = nspi.STAT()
        stat["CodePage"] = nspi.CP_TELETEX
        updated = nspi.hNspiUpdateStat(dce, handle, stat)
        found["total"] = updated["pStat"]["TotalRecs"]
        special = nspi.hNspiGetSpecialTable(dce, handle)
        found["containers"] = [row[0x3001001F] for row in nspi.simplifyPropertyRowSet(special["ppRows"])]
        columns = nspi.hNspiQueryColumns(dce, handle)["ppColumns"]["aulPropTag"]
        found["columns"] = [c["Data"] for c in columns]
        rows = nspi.hNspiQueryRows(dce, handle, Count=50, pPropTags=[PR_DISPLAY_NAME_A, 0x39FE001F, PR_HOME_MDB_A])["ppRows"]
        found["users"] = [(text(r[PR_DISPLAY_NAME_A]), r[0x39FE001F], text(r[PR_HOME_MDB_A])) for r in nspi.simplifyPropertyRowSet(rows)]
        paged, pStat = [], updated["pStat"]
        pStat["CurrentRec"] = 0
        while pStat["CurrentRec"] != nspi.MID_END_OF_TABLE:
            response = nspi.hNspiQueryRows(dce, handle, pStat=pStat, Count=2, pPropTags=[PR_DISPLAY_NAME_A])
            paged.append([text(r[PR_DISPLAY_NAME_A]) for r in nspi.simplifyPropertyRowSet(response["ppRows"])])
            pStat = response["pStat"]
        found["pages"] = paged
        resolved = nspi.hNspiResolveNamesW(dce, handle, pPropTags=[PR_DISPLAY_NAME_W, 0x3A00001F], paStr=["ali", "a", "nobody"])
        found["resolvedMids"] = [m["Data"] for m in resolved["ppMIds"]["aulPropTag"]]
        found["resolvedRows"] = [(r[PR_DISPLAY_NAME_W], r[0x3A00001F]) for r in nspi.simplifyPropertyRowSet(resolved["ppRows"])]
        mids = nspi.hNspiDNToMId(dce, handle, [aliceDN, SERVER_DN, "/o=Nowhere"])["ppOutMIds"]["aulPropTag"]
        found["dnMids"] = [m["Data"] for m in mids]
        props = nspi.hNspiGetPropList(dce, handle, dwMId=aliceMid, CodePage=nspi.CP_WINUNICODE)["ppOutMIds"]["aulPropTag"]
        found["propList"] = [p["Data"] for p in props]
        try:
            nspi.hNspiGetProps(dce, handle, CurrentRec=D.SERVER_MID, pPropTags=[PR_NETWORK_ADDRESS_A])
            found["getProps"] = "answered"
        except DCERPCException as e:
            found["getProps"] = str(e)
        found["unbind"] = nspi.hNspiUnbind(dce, handle)["ErrorCode"]
    finally:
        dce.disconnect()
    return found


class ImpacketNspiTests(TestCase):
    """
    impacket's real NSPI client against the lab Exchange.
    """

    timeout = 60

    @inlineCallbacks
    def test_impacketGetsTheSampleUsers(self):
        """
        impacket binds, reads the hierarchy table, the columns and the GAL
        (whole and paged), resolves "ali", maps DNs and lists Alice's
        properties; its GetProps, encoded against the IDL, gets a clean
        fault.
        """
        lab = LabServer(self, Store.open(SAMPLE_STORE))
        directory = lab.nspi.directory
        alice = directory.userEntry("alice")
        found = yield deferToThread(impacketAddressBook, lab.port, ALICE_DN, alice.mid)
        self.assertEqual(found["total"], 5)
        self.assertEqual(found["containers"], ["Global Address List", "All Users"])
        self.assertEqual(found["columns"], directory.columns(unicode=True))
        self.assertEqual(found["users"], [(name, "%s@lab.example" % account, MDB_DN) for name, account in zip(NAMES, ["administrator", "alice", "bob", "carol", "dave"])])
        self.assertEqual(found["pages"], [NAMES[0:2], NAMES[2:4], NAMES[4:]])
        self.assertEqual(found["resolvedMids"], [alice.mid, D.MID_AMBIGUOUS, D.MID_UNRESOLVED])
        self.assertEqual(found["resolvedRows"], [("Alice Anderson", "alice")])
        self.assertEqual(found["dnMids"], [alice.mid, D.SERVER_MID, 0])
        self.assertEqual(found["propList"], directory.propertyTags(alice, unicode=True))
        self.assertIn("rpc_x_bad_stub_data", found["getProps"])
        self.assertEqual(found["unbind"], ErrorCode.UnbindSuccess)
        self.assertEqual(lab.nspi.sessions, {})
