"""
Tests for L{mapiproxy.server.emsmdb}, L{mapiproxy.server.asyncemsmdb} and
L{mapiproxy.server.mailbox}: the lab Exchange's EMSMDB and AsyncEMSMDB
served over real loopback sockets with NTLM packet privacy, driven by our
client role building stubs with the interface codecs and ROP buffers with
the ROP classes.
"""

import hashlib
import json
import os
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from mapiproxy.auth.credentials import Credentials, ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthType, Status
from mapiproxy.errors import DCERPCFault, MapiBufferError
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import asyncemsmdb as A
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces.ndr import ContextHandle
from mapiproxy.interfaces.registry import lookupByName
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.mapi import extbuf
from mapiproxy.mapi import oxcdata as D
from mapiproxy.mapi.rops import base as R
from mapiproxy.mapi.rops import logon as L
from mapiproxy.mapi.rops import message as M
from mapiproxy.mapi.rops import notify as N
from mapiproxy.mapi.rops import property as P
from mapiproxy.mapi.rops import table as T
from mapiproxy.server import mailbox as MB
from mapiproxy.server.asyncemsmdb import AsyncEmsmdbInterface
from mapiproxy.server.emsmdb import EmsmdbInterface
from mapiproxy.server.store import Store
from tests.server import LAB_DOMAIN, LAB_HOST, ORG_DN, PASSWORD, SERVER_DN, USER, copySampleStore

ALICE_DN = ORG_DN + "/cn=Recipients/cn=alice"
BOB_DN = ORG_DN + "/cn=Recipients/cn=bob"
NONE = 0xFFFFFFFF
CLIENT_VERSION = (0x000C, 0x183E, 0x03E8)
PT = MB.PropertyTags
#: The sample Inbox's subjects, in file order.
SUBJECTS = [
    "Welcome to the lab Exchange",
    "Q3 sales figures",
    "Scheduled maintenance on Saturday",
    "Partner newsletter - March",
    "Sensor capture from the demo rig",
]
#: The SHA-256 the sample store declares for the 5 MB attachment.
CAPTURE_SHA256 = "4532791efd4e8b3c555398f4c7a600b2428ec19631307a2c50015d235f110ebc"


class LabEmsmdb:
    """
    EMSMDB and AsyncEMSMDB of a private copy of the sample store on one
    loopback listener; alice and bob in the passdb.
    """

    def __init__(self, testCase, pollInterval=0.05, asyncTimeout=300):
        self.path = copySampleStore(testCase)
        self.store = Store.open(self.path)
        passdb = testCase.mktemp()
        addUser(passdb, USER, PASSWORD)
        addUser(passdb, "bob", "Bob.Pass1")
        identity = ServerIdentity("LAB", LAB_DOMAIN, "lab.example", "lab.example")
        self.emsmdb = EmsmdbInterface(self.store, reactor, identity, pollInterval=pollInterval)
        self.async_ = AsyncEmsmdbInterface(self.emsmdb, reactor, timeout=asyncTimeout)
        factory = RPCServerFactory([self.emsmdb, self.async_], passdb=PassDB.fromFile(passdb, identity), identity=identity)
        self.listener = reactor.listenTCP(0, factory, interface=LAB_HOST)
        testCase.addCleanup(self.listener.stopListening)
        testCase.addCleanup(self.emsmdb.stop)
        self.port = self.listener.getHost().port

    def connect(self, testCase, name="exchange_emsmdb", user=USER, password=PASSWORD):
        security = makeInitiator(AuthType.NTLM, Credentials(user, password, LAB_DOMAIN))
        d = connectRPC(reactor, LAB_HOST, self.port, [lookupByName(name).syntaxId], security=security, timeout=10)

        def connected(proto):
            testCase.addCleanup(proto.disconnect)
            return proto

        return d.addCallback(connected)

    def inbox(self):
        return self.store.mailbox(USER).folderByRole("inbox")


class RopClient:
    """
    Our client role: ROP requests in, ROP responses out, through
    EcDoRpcExt2 (or EcDoRpc with C{old=True}).
    """

    def __init__(self, proto, handle, old=False):
        self.proto = proto
        self.handle = handle
        self.ctx = R.RopContext()
        self.old = old
        self.lastResponse = None
        self.lastChain = None

    @inlineCallbacks
    def run(self, requests, handles, flags=0, pcbOut=E.BIG_RANGE, compressed=True, obfuscated=True):
        """
        @return: C{(responses, response handle table)}.
        """
        rops = R.encodeRequests(requests, self.ctx, handles=handles)
        payload = extbuf.RopBuffer(rops, list(handles))
        if self.old:
            request = E.EcDoRpcRequest(self.handle, 0xFFF0, 0, extbuf.encodeEcDoRpcBlob(payload), payload.ropSize, 0x8000)
            stub = yield self.proto.call(2, E.EMSMDB.encodeRequest(2, request))
            response = self.lastResponse = E.EMSMDB.decodeResponse(2, stub)
            if response.result:
                return response.result, []
            out = extbuf.decodeEcDoRpcBlob(response.mapi_response)
        else:
            rgbIn = extbuf.encodeChain([extbuf.ExtendedBuffer.make(payload.encode(), compressed, obfuscated)])
            request = E.EcDoRpcExt2Request(self.handle, flags, rgbIn, pcbOut, b"", E.SMALL_RANGE)
            stub = yield self.proto.call(11, E.EMSMDB.encodeRequest(11, request))
            response = self.lastResponse = E.EMSMDB.decodeResponse(11, stub)
            if response.result:
                return response.result, []
            self.lastChain = extbuf.decodeChain(response.rgbOut)
            out = extbuf.RopBuffer.decode(self.lastChain[0].payload)
        items = R.decodeResponses(out.rops, out.handles, requests, self.ctx, requestHandles=list(handles))
        return items, out.handles


@inlineCallbacks
def connectEx(proto, userDN=ALICE_DN):
    request = E.EcDoConnectExRequest(
        szUserDN=userDN, ulFlags=0, ulConMod=0x12345678, ulCpid=1252, ulLcidString=1033, ulLcidSort=1033,
        rgwClientVersion=CLIENT_VERSION, pulTimeStamp=7, pcbAuxOut=E.SMALL_RANGE,
    )
    stub = yield proto.call(10, E.EMSMDB.encodeRequest(10, request))
    return E.EMSMDB.decodeResponse(10, stub)


def logonRequest(essdn=ALICE_DN, flags=L.LOGON_PRIVATE):
    return L.LogonRequest(logonId=0, inputHandleIndex=0, logonFlags=flags, openFlags=0x01000000, storeState=0, essdn=essdn)


@inlineCallbacks
def logon(client):
    (response,), handles = yield client.run([logonRequest()], [NONE])
    return response, handles


def rowValues(row):
    """
    The plain values of a row (flagged cells: the value or None).
    """
    out = []
    for value in row.values:
        if isinstance(value, D.FlaggedPropertyValue):
            out.append(value.value if value.flag == D.FLAG_VALUE else None)
        else:
            out.append(value)
    return out


class InterfaceTests(SynchronousTestCase):
    """
    The interfaces themselves.
    """

    def test_provides(self):
        """
        Both servers provide L{IRPCInterface} with the names OpenChange uses.
        """
        store = Store.open(copySampleStore(self))
        emsmdb = EmsmdbInterface(store, reactor)
        async_ = AsyncEmsmdbInterface(emsmdb, reactor)
        self.assertTrue(verifyObject(IRPCInterface, emsmdb))
        self.assertTrue(verifyObject(IRPCInterface, async_))
        self.assertEqual((emsmdb.name, async_.name), ("exchange_emsmdb", "exchange_async_emsmdb"))
        self.assertEqual(emsmdb.syntax, lookupByName("exchange_emsmdb").syntaxId)


class MailboxSessionTests(SynchronousTestCase):
    """
    L{MB.MailboxSession} without the network.
    """

    def setUp(self):
        self.store = Store.open(copySampleStore(self))
        self.session = MB.MailboxSession(self.store, "alice")
        self.ctx = R.RopContext()

    def rops(self, requests, handles, maxSize=0x8000):
        rops = R.encodeRequests(requests, self.ctx, handles=handles)
        out = extbuf.RopBuffer.decode(self.session.execute(extbuf.RopBuffer(rops, list(handles)).encode(), maxSize))
        return R.decodeResponses(out.rops, out.handles, requests, self.ctx, requestHandles=list(handles)), out.handles

    def logon(self):
        (response,), handles = self.rops([logonRequest()], [NONE])
        return response, handles

    def test_logonFolderIds(self):
        """
        RopLogon answers the 13 special folders of the private store in
        [MS-OXCSTOR] order, and a handle for the logon.
        """
        response, handles = self.logon()
        mailbox = self.store.mailbox("alice")
        roles = ["root", "deferredAction", "spoolerQueue", "ipmSubtree", "inbox", "outbox", "sentItems",
                 "deletedItems", "commonViews", "schedule", "finder", "views", "shortcuts"]
        self.assertEqual(response.returnValue, 0)
        self.assertEqual(response.folderIds, [mailbox.folderByRole(r).id for r in roles])
        self.assertEqual(response.mailboxGuid, MB.mailboxGuid("alice"))
        self.assertEqual(response.replId, 1)
        self.assertNotEqual(handles[0], NONE)

    def test_logonOtherMailbox(self):
        """
        RopLogon to another user's mailbox fails with ecLoginPerm, an
        unknown DN with ecUnknownUser, a public folders logon with
        ecLoginFailure.
        """
        for essdn, flags, code in (
            (BOB_DN, L.LOGON_PRIVATE, MB.EC_LOGIN_PERM),
            (ORG_DN + "/cn=Recipients/cn=nobody", L.LOGON_PRIVATE, MB.EC_UNKNOWN_USER),
            (None, 0, MB.EC_LOGIN_FAILURE),
        ):
            (response,), handles = self.rops([logonRequest(essdn, flags)], [NONE])
            self.assertEqual((response.returnValue, handles), (code, [NONE]))

    def test_hierarchyTable(self):
        """
        The IPM subtree's hierarchy table lists its folders with display
        name, content count, unread count and subfolder flag.
        """
        response, handles = self.logon()
        subtree = response.folderIds[3]
        columns = [PT.DISPLAY_NAME, PT.CONTENT_COUNT, PT.CONTENT_UNREAD, PT.SUBFOLDERS, PT.FID]
        responses, _ = self.rops(
            [
                L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=subtree),
                L.GetHierarchyTableRequest(inputHandleIndex=1, outputHandleIndex=2, tableFlags=0x40),
                T.SetColumnsRequest(inputHandleIndex=2, propertyTags=columns),
                T.QueryRowsRequest(inputHandleIndex=2, forwardRead=1, rowCount=100),
            ],
            [handles[0], NONE, NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0, 0, 0, 0])
        self.assertEqual(responses[1].rowCount, 7)
        rows = {v[0]: v[1:] for v in map(rowValues, responses[3].rows)}
        inbox = self.store.mailbox("alice").folderByRole("inbox")
        self.assertEqual(rows["Inbox"], [5, 3, False, inbox.id])
        self.assertEqual(sorted(rows), ["Calendar", "Contacts", "Deleted Items", "Drafts", "Inbox", "Outbox", "Sent Items"])
        self.assertEqual(responses[3].origin, T.BOOKMARK_END)

    def test_unsupportedRop(self):
        """
        A ROP the lab store does not implement gets ecNotSupported, a ROP
        on a handle that names nothing ecNullObject; the buffer goes on.
        """
        response, handles = self.logon()
        responses, _ = self.rops(
            [
                L.CreateFolderRequest(inputHandleIndex=0, outputHandleIndex=1, displayName="x", comment=""),
                P.GetPropertiesSpecificRequest(inputHandleIndex=2, propertyTags=[PT.DISPLAY_NAME]),
                L.GetStoreStateRequest(inputHandleIndex=0),
            ],
            [handles[0], NONE, 0x7777],
        )
        self.assertEqual([type(r).__name__ for r in responses], ["CreateFolderResponse", "GetPropertiesSpecificResponse", "GetStoreStateResponse"])
        self.assertEqual([r.returnValue for r in responses], [MB.EC_NOT_SUPPORTED, MB.EC_NULL_OBJECT, 0])

    def test_undecodableBuffer(self):
        """
        A ROP buffer with an undecodable ROP raises L{RopError} before
        anything runs.
        """
        from mapiproxy.errors import RopError

        bad = extbuf.RopBuffer(bytes([0xFE, 0, 0, 1]), [NONE]).encode()
        self.assertRaises(RopError, self.session.execute, bad, 0x8000)
        self.assertEqual(self.session.openHandles, 0)

    def test_bufferTooSmall(self):
        """
        When a response does not fit, RopBufferTooSmall carries the size
        needed and the requests not executed, which decode to the same
        ROPs.
        """
        response, handles = self.logon()
        requests = [
            P.GetPropertiesSpecificRequest(inputHandleIndex=0, propertyTags=[PT.MAILBOX_OWNER_NAME]),
            L.GetStoreStateRequest(inputHandleIndex=0),
        ]
        responses, _ = self.rops(requests, [handles[0]], maxSize=20)
        self.assertEqual(len(responses), 1)
        tooSmall = responses[0]
        self.assertIsInstance(tooSmall, N.BufferTooSmallResponse)
        self.assertGreater(tooSmall.sizeNeeded, 20)
        again = tooSmall.decodeRequestBuffers([handles[0]])
        self.assertEqual([type(r) for r in again], [type(r) for r in requests])
        self.assertEqual(again[0].propertyTags, [PT.MAILBOX_OWNER_NAME])

    def test_namedProperties(self):
        """
        RopGetPropertyIdsFromNames creates ids from 0x8000 when asked, gives
        the same id again, 0 (with a warning) for an unknown name without
        create; RopGetNamesFromPropertyIds maps them back.
        """
        response, handles = self.logon()
        guid = uuid.UUID("00020329-0000-0000-c000-000000000046")
        names = [D.PropertyName(D.MNID_STRING, guid, name="Keywords"), D.PropertyName(D.MNID_ID, guid, lid=0x8501)]
        (created,), _ = self.rops([P.GetPropertyIdsFromNamesRequest(inputHandleIndex=0, flags=0x02, propertyNames=names)], [handles[0]])
        (again,), _ = self.rops([P.GetPropertyIdsFromNamesRequest(inputHandleIndex=0, flags=0x00, propertyNames=names[::-1])], [handles[0]])
        other = D.PropertyName(D.MNID_ID, guid, lid=0x9999)
        (missing,), _ = self.rops([P.GetPropertyIdsFromNamesRequest(inputHandleIndex=0, flags=0, propertyNames=[other])], [handles[0]])
        (back,), _ = self.rops([P.GetNamesFromPropertyIdsRequest(inputHandleIndex=0, propertyIds=[0x8001, 0x8000])], [handles[0]])
        self.assertEqual((created.returnValue, created.propertyIds), (0, [0x8000, 0x8001]))
        self.assertEqual(again.propertyIds, [0x8001, 0x8000])
        self.assertEqual((missing.returnValue, missing.propertyIds), (MB.EC_WARN_WITH_ERRORS, [0]))
        self.assertEqual([(n.kind, n.lid, n.name) for n in back.propertyNames], [(0, 0x8501, None), (1, None, "Keywords")])

    def test_longTermIds(self):
        """
        RopLongTermIdFromId and RopIdFromLongTermId are inverses over the
        mailbox's replica GUID.
        """
        response, handles = self.logon()
        inboxId = response.folderIds[4]
        (ltid,), _ = self.rops([L.LongTermIdFromIdRequest(inputHandleIndex=0, objectId=inboxId)], [handles[0]])
        (back,), _ = self.rops([L.IdFromLongTermIdRequest(inputHandleIndex=0, longTermId=ltid.longTermId)], [handles[0]])
        self.assertEqual(ltid.longTermId.databaseGuid, response.replGuid)
        self.assertEqual(back.objectId, inboxId)

    def test_releaseFreesHandles(self):
        """
        RopRelease frees an object: it has no response and its handle
        names nothing afterwards.
        """
        response, handles = self.logon()
        (opened,), after = self.rops([L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=response.folderIds[4])], [handles[0], NONE])
        self.assertEqual(self.session.openHandles, 2)
        responses, _ = self.rops([N.ReleaseRequest(inputHandleIndex=1)], after)
        self.assertEqual((responses, self.session.openHandles), ([], 1))
        (gone,), _ = self.rops([L.GetContentsTableRequest(inputHandleIndex=1, outputHandleIndex=2)], [after[0], after[1], NONE])
        self.assertEqual(gone.returnValue, MB.EC_NULL_OBJECT)

    def test_sortAndRestrict(self):
        """
        RopSortTable orders the contents table, RopRestrict filters it (a
        bit mask on PR_MESSAGE_FLAGS: the unread ones).
        """
        response, handles = self.logon()
        unread = D.BitMaskRestriction(bitmapRelOp=0, propTag=PT.MESSAGE_FLAGS, mask=MB.MSGFLAG_READ)
        order = D.SortOrder(D.PtypString, PT.SUBJECT >> 16, 0)
        responses, _ = self.rops(
            [
                L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=response.folderIds[4]),
                L.GetContentsTableRequest(inputHandleIndex=1, outputHandleIndex=2),
                T.SetColumnsRequest(inputHandleIndex=2, propertyTags=[PT.SUBJECT]),
                T.SortTableRequest(inputHandleIndex=2, sortOrders=[order]),
                T.RestrictRequest(inputHandleIndex=2, restriction=unread),
                T.QueryRowsRequest(inputHandleIndex=2, forwardRead=1, rowCount=50),
            ],
            [handles[0], NONE, NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0] * 6)
        self.assertEqual([rowValues(r)[0] for r in responses[5].rows], sorted(SUBJECTS[i] for i in (1, 2, 4)))


    def test_readRecipientsAndPropertyLists(self):
        """
        RopReadRecipients lists a message's recipients from a row id;
        RopGetPropertiesList and RopGetPropertiesAll agree on its tags.
        """
        response, handles = self.logon()
        message = self.store.mailbox("alice").folderByRole("inbox").messages[2]
        responses, _ = self.rops(
            [
                M.OpenMessageRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=message.folder.id, messageId=message.id),
                M.ReadRecipientsRequest(inputHandleIndex=1, rowId=1),
                P.GetPropertiesListRequest(inputHandleIndex=1),
                P.GetPropertiesAllRequest(inputHandleIndex=1, propertySizeLimit=0, wantUnicode=1),
                M.ReadRecipientsRequest(inputHandleIndex=1, rowId=3),
            ],
            [handles[0], NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0, 0, 0, 0, MB.EC_NOT_FOUND])
        self.assertEqual(responses[0].recipientCount, 3)
        rows = responses[1].recipientRows
        self.assertEqual([r.rowId for r in rows], [1, 2])
        self.assertEqual([r.recipientRow.displayName for r in rows], ["Bob Brown", "Carol Clark"])
        self.assertEqual([r.recipientRow.recipientProperties.values[0] for r in rows], ["bob@lab.example", "carol@lab.example"])
        listed = responses[2].propertyTags
        self.assertEqual(listed, [v.tag for v in responses[3].propertyValues])
        values = {v.tag: v.value for v in responses[3].propertyValues}
        self.assertEqual(values[PT.SUBJECT], "Scheduled maintenance on Saturday")
        self.assertEqual(values[PT.DISPLAY_TO], "Alice Anderson; Bob Brown; Carol Clark")
        self.assertEqual(values[PT.MID], message.id)

    def test_unsupportedRestriction(self):
        """
        RopRestrict with a kind of restriction the lab store cannot
        evaluate (a size restriction) answers MAPI_E_NO_SUPPORT.
        """
        response, handles = self.logon()
        responses, _ = self.rops(
            [
                L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=response.folderIds[4]),
                L.GetContentsTableRequest(inputHandleIndex=1, outputHandleIndex=2),
                T.RestrictRequest(inputHandleIndex=2, restriction=D.SizeRestriction(relOp=0, propTag=PT.BODY, size=10)),
            ],
            [handles[0], NONE, NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0, 0, MB.EC_NOT_SUPPORTED])

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=64), st.lists(st.integers(0, 0xFFFFFFFF), max_size=4))
    def test_arbitraryBuffersRaiseTypedErrors(self, rops, handles):
        """
        Arbitrary ROP lists either run or raise L{MapiBufferError}; nothing
        else escapes and every answer fits the size allowed.
        """
        session = MB.MailboxSession(self.store, "alice")
        payload = extbuf.RopBuffer(rops, handles).encode()
        try:
            out = session.execute(payload, 0x200)
        except MapiBufferError:
            return
        self.assertLessEqual(len(out), 0x200)
        extbuf.RopBuffer.decode(out)


class EmsmdbTests(TestCase):
    """
    The lab Exchange's EMSMDB over sealed loopback connections.
    """

    timeout = 60

    def setUp(self):
        self.lab = LabEmsmdb(self)

    @inlineCallbacks
    def session(self, old=False, userDN=ALICE_DN):
        proto = yield self.lab.connect(self)
        response = yield connectEx(proto, userDN)
        self.assertEqual(response.result, 0)
        return RopClient(proto, response.handle, old=old), response

    @inlineCallbacks
    def test_connectEx(self):
        """
        EcDoConnectEx gives a session handle, the server's DN prefix, the
        user's display name and Exchange 2010's version.
        """
        client, response = yield self.session()
        self.assertNotEqual(response.handle, ContextHandle())
        self.assertEqual(response.szDNPrefix, SERVER_DN)
        self.assertEqual(response.szDisplayName, "Alice Anderson")
        self.assertEqual(response.rgwServerVersion[0], 0x000E)
        self.assertEqual((response.rgwBestVersion, response.pulTimeStamp), (CLIENT_VERSION, 7))
        self.assertEqual(response.pcmsPollsMax, 60000)

    @inlineCallbacks
    def test_connectExOthersMailbox(self):
        """
        EcDoConnectEx for another user's DN is refused with ecAccessDenied,
        an unknown DN with ecUnknownUser; no handle is given.
        """
        proto = yield self.lab.connect(self)
        other = yield connectEx(proto, BOB_DN)
        unknown = yield connectEx(proto, ORG_DN + "/cn=Recipients/cn=mallory")
        self.assertEqual((other.result, other.handle), (MB.EC_ACCESS_DENIED, ContextHandle()))
        self.assertEqual(unknown.result, MB.EC_UNKNOWN_USER)
        self.assertEqual(self.lab.emsmdb.sessions, {})

    @inlineCallbacks
    def test_fullFlow(self):
        """
        Logon, the Inbox's contents table with subjects, a message's
        properties, its attachment table, and the ~5 MB attachment read
        through a stream in chunks whose SHA-256 is the file's; every
        rgbOut compressed (when smaller) and obfuscated.
        """
        client, _ = yield self.session()
        response, handles = yield logon(client)
        self.assertEqual(response.returnValue, 0)
        inboxId = response.folderIds[4]
        self.assertEqual(inboxId, self.lab.inbox().id)
        columns = [PT.MID, PT.SUBJECT, PT.MESSAGE_FLAGS, PT.HASATTACH, PT.SENDER_NAME, PT.MESSAGE_DELIVERY_TIME]
        responses, tableHandles = yield client.run(
            [
                L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=inboxId),
                L.GetContentsTableRequest(inputHandleIndex=1, outputHandleIndex=2, tableFlags=0x40),
                T.SetColumnsRequest(inputHandleIndex=2, propertyTags=columns),
                T.QueryRowsRequest(inputHandleIndex=2, forwardRead=1, rowCount=50),
            ],
            [handles[0], NONE, NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0, 0, 0, 0])
        self.assertEqual(responses[1].rowCount, 5)
        rows = [rowValues(r) for r in responses[3].rows]
        self.assertEqual([r[1] for r in rows], SUBJECTS)
        self.assertEqual([bool(r[2] & MB.MSGFLAG_READ) for r in rows], [True, False, False, True, False])
        self.assertEqual([r[3] for r in rows], [False, True, False, False, True])
        self.assertEqual(rows[4][4], "Bob Brown")
        chain = client.lastChain[0]
        self.assertEqual((chain.compressed, chain.obfuscated), (True, True))

        captureId = rows[4][0]
        responses, messageHandles = yield client.run(
            [
                M.OpenMessageRequest(inputHandleIndex=1, outputHandleIndex=3, codePageId=0xFFF, folderId=inboxId, messageId=captureId),
                P.GetPropertiesSpecificRequest(inputHandleIndex=3, propertyTags=[PT.SUBJECT, PT.BODY, PT.HASATTACH, PT.DISPLAY_TO, 0x00370000]),
                M.GetAttachmentTableRequest(inputHandleIndex=3, outputHandleIndex=4),
                T.SetColumnsRequest(inputHandleIndex=4, propertyTags=[PT.ATTACH_NUM, PT.ATTACH_LONG_FILENAME, PT.ATTACH_SIZE]),
                T.QueryRowsRequest(inputHandleIndex=4, forwardRead=1, rowCount=10),
                M.OpenAttachmentRequest(inputHandleIndex=3, outputHandleIndex=5, attachmentId=0),
                P.OpenStreamRequest(inputHandleIndex=5, outputHandleIndex=6, propertyTag=PT.ATTACH_DATA_BIN, openModeFlags=0),
            ],
            [tableHandles[0], tableHandles[1], tableHandles[2], NONE, NONE, NONE, NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0] * 7)
        opened = responses[0]
        self.assertEqual(opened.normalizedSubject.value, SUBJECTS[4])
        self.assertEqual(opened.recipientCount, 1)
        self.assertEqual(opened.recipientRows[0].recipientRow.displayName, "Alice Anderson")
        props = responses[1].rowData.values
        self.assertEqual(props[0], SUBJECTS[4])
        self.assertIn("about 5 MB", props[1])
        self.assertEqual(props[2:4], [True, "Alice Anderson"])
        self.assertEqual((props[4].propertyType, props[4].value), (D.PtypString, SUBJECTS[4]))
        attachments = [rowValues(r) for r in responses[4].rows]
        self.assertEqual([a[:2] for a in attachments], [[0, "sensor-capture.bin"], [1, "meeting-notes.txt"]])
        self.assertEqual(attachments[0][2], 5242880)
        self.assertEqual(responses[6].streamSize, 5242880)

        streamHandles = [0] * 6 + [messageHandles[6]]
        digest = hashlib.sha256()
        total = 0
        chunks = 0
        while True:
            (read,), _ = yield client.run([P.ReadStreamRequest(inputHandleIndex=6, byteCount=0xBABE, maximumByteCount=0x100000)], streamHandles)
            self.assertEqual(read.returnValue, 0)
            if not read.data:
                break
            self.assertLessEqual(len(read.data), 0x8000)
            digest.update(read.data)
            total += len(read.data)
            chunks += 1
        self.assertEqual(total, 5242880)
        self.assertGreater(chunks, 150)
        self.assertEqual(digest.hexdigest(), CAPTURE_SHA256)
        path = self.lab.inbox().messages[4].attachments[0].path
        with open(path, "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), CAPTURE_SHA256)

        (size,), _ = yield client.run([P.GetStreamSizeRequest(inputHandleIndex=6)], streamHandles)
        (seek,), _ = yield client.run([P.SeekStreamRequest(inputHandleIndex=6, origin=P.SEEK_BEGINNING, offset=5242870)], streamHandles)
        (tail,), _ = yield client.run([P.ReadStreamRequest(inputHandleIndex=6, byteCount=100)], streamHandles)
        self.assertEqual((size.streamSize, seek.newPosition), (5242880, 5242870))
        with open(path, "rb") as f:
            f.seek(5242870)
            self.assertEqual(tail.data, f.read())

    @inlineCallbacks
    def test_setMessageReadFlag(self):
        """
        RopSetMessageReadFlag marks a message read in the message file; a
        fresh store and a later PR_MESSAGE_FLAGS both see it.
        """
        client, _ = yield self.session()
        response, handles = yield logon(client)
        message = self.lab.inbox().messages[1]
        self.assertFalse(message.read)
        responses, after = yield client.run(
            [
                M.OpenMessageRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=message.folder.id, messageId=message.id),
                M.SetMessageReadFlagRequest(inputHandleIndex=0, messageHandleIndex=1, readFlags=0),
                P.GetPropertiesSpecificRequest(inputHandleIndex=1, propertyTags=[PT.MESSAGE_FLAGS]),
            ],
            [handles[0], NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0, 0, 0])
        self.assertTrue(responses[2].rowData.values[0] & MB.MSGFLAG_READ)
        with open(message.path) as f:
            self.assertIs(json.load(f)["read"], True)
        reopened = Store.open(self.lab.path).mailbox("alice").message(message.id)
        self.assertTrue(reopened.read)
        (unread,), _ = yield client.run([M.SetReadFlagsRequest(inputHandleIndex=0, readFlags=0x04, messageIds=[message.id])], [after[0], after[1]])
        self.assertEqual(unread.returnValue, MB.EC_NULL_OBJECT)
        responses, _ = yield client.run(
            [
                L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=2, folderId=message.folder.id),
                M.SetReadFlagsRequest(inputHandleIndex=2, readFlags=0x04, messageIds=[message.id]),
            ],
            [after[0], after[1], NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0, 0])
        self.assertEqual(responses[1].partialCompletion, 0)
        self.assertFalse(Store.open(self.lab.path).mailbox("alice").message(message.id).read)

    @inlineCallbacks
    def test_oldPath(self):
        """
        EcDoConnect and EcDoRpc (XOR only, no RPC_HEADER_EXT) log on and
        list the IPM subtree's folders.
        """
        proto = yield self.lab.connect(self)
        request = E.EcDoConnectRequest(szUserDN=ALICE_DN, ulCpid=1252, rgwClientVersion=(0x000B, 0x0000, 0x0000), pullTimeStamp=3)
        response = E.EMSMDB.decodeResponse(0, (yield proto.call(0, E.EMSMDB.encodeRequest(0, request))))
        self.assertEqual((response.result, response.szDisplayName, response.szDNPrefix), (0, "Alice Anderson", SERVER_DN))
        client = RopClient(proto, response.handle, old=True)
        logonResponse, handles = yield logon(client)
        self.assertEqual(logonResponse.returnValue, 0)
        responses, _ = yield client.run(
            [
                L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=logonResponse.folderIds[3]),
                L.GetHierarchyTableRequest(inputHandleIndex=1, outputHandleIndex=2),
                T.SetColumnsRequest(inputHandleIndex=2, propertyTags=[PT.DISPLAY_NAME & 0xFFFF0000 | D.PtypString8]),
                T.QueryRowsRequest(inputHandleIndex=2, forwardRead=1, rowCount=20),
            ],
            [handles[0], NONE, NONE],
        )
        self.assertEqual([r.returnValue for r in responses], [0, 0, 0, 0])
        self.assertEqual(sorted(rowValues(r)[0] for r in responses[3].rows), ["Calendar", "Contacts", "Deleted Items", "Drafts", "Inbox", "Outbox", "Sent Items"])
        self.assertEqual(client.lastResponse.length, len(client.lastResponse.mapi_response))
        stub = yield proto.call(1, E.EMSMDB.encodeRequest(1, E.EcDoDisconnectRequest(response.handle)))
        self.assertEqual(E.EMSMDB.decodeResponse(1, stub), E.EcDoDisconnectResponse(ContextHandle(), 0))
        self.assertEqual(self.lab.emsmdb.sessions, {})

    @inlineCallbacks
    def test_noCompressionNoXor(self):
        """
        With pulFlags NoCompression | NoXorMagic, rgbOut is plain; a
        plain rgbIn is accepted.
        """
        client, _ = yield self.session()
        yield client.run([logonRequest()], [NONE], flags=E.NO_COMPRESSION | E.NO_XOR_MAGIC, compressed=False, obfuscated=False)
        header = client.lastChain[0]
        self.assertEqual((header.compressed, header.obfuscated, header.flags), (False, False, extbuf.LAST))

    @inlineCallbacks
    def test_corruptRgbIn(self):
        """
        An rgbIn that is not an RPC_HEADER_EXT chain, or holds a ROP that
        does not decode, gets ecRpcFormat and an empty rgbOut, not a fault.
        """
        client, _ = yield self.session()
        for rgbIn in (b"\x00\x00\x07\x00\x10\x00\x40\x00" + b"\xa5" * 16, extbuf.encodeChain([extbuf.ExtendedBuffer.make(b"\x05\x00\xfe\x00\x00")])):
            request = E.EcDoRpcExt2Request(client.handle, 0, rgbIn, E.BIG_RANGE, b"", 0)
            response = E.EMSMDB.decodeResponse(11, (yield client.proto.call(11, E.EMSMDB.encodeRequest(11, request))))
            self.assertEqual((response.result, response.rgbOut), (MB.EC_RPC_FORMAT, b""))
        (again,), _ = yield client.run([logonRequest()], [NONE])
        self.assertEqual(again.returnValue, 0)

    @inlineCallbacks
    def test_unsupportedRopsOverTheWire(self):
        """
        Unsupported ROPs (RopCreateMessage, RopSubmitMessage) get
        ecNotSupported in their ReturnValue; the call succeeds.
        """
        client, _ = yield self.session()
        response, handles = yield logon(client)
        responses, _ = yield client.run(
            [
                M.CreateMessageRequest(inputHandleIndex=0, outputHandleIndex=1, codePageId=0xFFF, folderId=response.folderIds[5]),
                M.SubmitMessageRequest(inputHandleIndex=1),
            ],
            [handles[0], NONE],
        )
        self.assertEqual(client.lastResponse.result, 0)
        self.assertEqual([r.returnValue for r in responses], [MB.EC_NOT_SUPPORTED, MB.EC_NULL_OBJECT])

    @inlineCallbacks
    def test_pcbOutHonoured(self):
        """
        rgbOut never exceeds pcbOut: a small pcbOut cuts RopQueryRows
        short; a row that cannot fit at all gives RopBufferTooSmall with
        the unexecuted requests; a tiny pcbOut gets ecBufferTooSmall.
        """
        client, _ = yield self.session()
        response, handles = yield logon(client)
        responses, after = yield client.run(
            [
                L.OpenFolderRequest(inputHandleIndex=0, outputHandleIndex=1, folderId=response.folderIds[4]),
                L.GetContentsTableRequest(inputHandleIndex=1, outputHandleIndex=2),
                T.SetColumnsRequest(inputHandleIndex=2, propertyTags=[PT.SUBJECT, PT.MESSAGE_FLAGS]),
                T.QueryRowsRequest(inputHandleIndex=2, forwardRead=1, rowCount=50),
            ],
            [handles[0], NONE, NONE],
            pcbOut=200,
            flags=E.NO_COMPRESSION,
        )
        self.assertLessEqual(len(client.lastResponse.rgbOut), 200)
        self.assertEqual(responses[3].returnValue, 0)
        self.assertIn(len(responses[3].rows), (1, 2, 3, 4))
        self.assertEqual(responses[3].origin, T.BOOKMARK_CURRENT)
        rows = list(responses[3].rows)
        while len(rows) < 5:
            (more,), _ = yield client.run([T.QueryRowsRequest(inputHandleIndex=2, forwardRead=1, rowCount=50)], after, pcbOut=200)
            self.assertGreater(len(more.rows), 0)
            rows.extend(more.rows)
        self.assertEqual([rowValues(r)[0] for r in rows], SUBJECTS)
        requests = [
            T.SeekRowRequest(inputHandleIndex=2, origin=T.BOOKMARK_BEGINNING, rowCount=0),
            T.SetColumnsRequest(inputHandleIndex=2, propertyTags=[PT.BODY]),
            T.QueryRowsRequest(inputHandleIndex=2, forwardRead=1, rowCount=1),
            L.GetStoreStateRequest(inputHandleIndex=0),
        ]
        responses, _ = yield client.run(requests, after, pcbOut=120, flags=E.NO_COMPRESSION)
        self.assertEqual([type(r).__name__ for r in responses], ["SeekRowResponse", "SetColumnsResponse", "BufferTooSmallResponse"])
        self.assertGreater(responses[2].sizeNeeded, 120)
        self.assertEqual([type(r) for r in responses[2].decodeRequestBuffers(after)], [T.QueryRowsRequest, L.GetStoreStateRequest])
        result, _ = yield client.run([L.GetStoreStateRequest(inputHandleIndex=0)], [handles[0]], pcbOut=4)
        self.assertEqual(result, 0x47D)

    @inlineCallbacks
    def test_unknownContextHandle(self):
        """
        EcDoRpcExt2 on a handle the server never gave faults with
        nca_s_fault_context_mismatch; reserved opnums with op_rng_error.
        """
        proto = yield self.lab.connect(self)
        client = RopClient(proto, ContextHandle(0, uuid.uuid4()))
        yield self.assertFailure(client.run([logonRequest()], [NONE]), DCERPCFault).addCallback(
            lambda e: self.assertEqual(e.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)
        )
        yield self.assertFailure(proto.call(3, b""), DCERPCFault).addCallback(
            lambda e: self.assertEqual(e.status, Status.NCA_S_OP_RNG_ERROR)
        )
        stub = yield proto.call(6, b"")
        self.assertEqual(E.EMSMDB.decodeResponse(6, stub).result, 0)


class AsyncEmsmdbTests(TestCase):
    """
    EcDoAsyncWaitEx parks and wakes.
    """

    timeout = 60

    def setUp(self):
        self.lab = LabEmsmdb(self, pollInterval=0.05, asyncTimeout=30)

    @inlineCallbacks
    def prepare(self, wholeStore=False):
        proto = yield self.lab.connect(self)
        connected = yield connectEx(proto)
        client = RopClient(proto, connected.handle)
        response, handles = yield logon(client)
        inboxId = response.folderIds[4]
        register = N.RegisterNotificationRequest(
            inputHandleIndex=0, outputHandleIndex=1, notificationTypes=N.NOTIFY_NEW_MAIL | N.NOTIFY_OBJECT_CREATED,
            wantWholeStore=int(wholeStore), folderId=None if wholeStore else inboxId, messageId=None if wholeStore else 0,
        )
        (registered,), after = yield client.run([register], [handles[0], NONE])
        self.assertEqual(registered.returnValue, 0)
        stub = yield proto.call(14, E.EMSMDB.encodeRequest(14, E.EcDoAsyncConnectExRequest(connected.handle)))
        acxh = E.EMSMDB.decodeResponse(14, stub)
        self.assertEqual(acxh.result, 0)
        asyncProto = yield self.lab.connect(self, "exchange_async_emsmdb")
        return client, after, inboxId, asyncProto, acxh.async_handle

    def dropMessage(self, subject):
        directory = os.path.join(self.lab.inbox().path, "messages")
        with open(os.path.join(directory, ".tmp"), "w") as f:
            json.dump({"subject": subject, "from": "bob", "to": ["alice"], "body": "hi"}, f)
        os.rename(os.path.join(directory, ".tmp"), os.path.join(directory, "0099.json"))

    @inlineCallbacks
    def test_waitWakesOnNewMail(self):
        """
        EcDoAsyncWaitEx stays pending (the reactor keeps serving other
        calls) until a message file is dropped into the Inbox, then answers
        NotificationPending; the next EcDoRpcExt2 carries RopNotify
        (NewMail, ObjectCreated) for the subscription.
        """
        client, handles, inboxId, asyncProto, acxh = yield self.prepare()
        waiting = asyncProto.call(0, A.ASYNC_EMSMDB.encodeRequest(0, A.EcDoAsyncWaitExRequest(acxh, 0)))
        fired = []
        waiting.addCallback(lambda stub: fired.append(A.ASYNC_EMSMDB.decodeResponse(0, stub)) or stub)
        yield deferLater(reactor, 0.3, lambda: None)
        self.assertEqual(fired, [])
        (state,), _ = yield client.run([L.GetStoreStateRequest(inputHandleIndex=0)], handles)
        self.assertEqual(state.returnValue, 0)
        self.assertEqual(fired, [])
        self.dropMessage("Fresh off the press")
        yield waiting
        self.assertEqual(fired, [A.EcDoAsyncWaitExResponse(pulFlagsOut=A.NOTIFICATION_PENDING, result=0)])
        responses, _ = yield client.run([], handles)
        self.assertEqual([type(r).__name__ for r in responses], ["NotifyResponse", "NotifyResponse"])
        newMail, created = (r.notificationData for r in responses)
        message = [m for m in self.lab.store.mailbox("alice").folderByRole("inbox").messages if m.subject == "Fresh off the press"][0]
        self.assertEqual(responses[0].notificationHandle, handles[1])
        self.assertEqual((newMail.notificationType, newMail.folderId, newMail.messageId, newMail.messageClass), (N.NOTIFY_NEW_MAIL, inboxId, message.id, "IPM.Note"))
        self.assertEqual((created.notificationType, created.messageId), (N.NOTIFY_OBJECT_CREATED, message.id))
        responses, _ = yield client.run([], handles)
        self.assertEqual(responses, [])

    @inlineCallbacks
    def test_waitTimesOut(self):
        """
        Without a notification, EcDoAsyncWaitEx answers pulFlagsOut 0 after
        the timeout.
        """
        self.lab.async_.timeout = 0.2
        client, handles, inboxId, asyncProto, acxh = yield self.prepare()
        stub = yield asyncProto.call(0, A.ASYNC_EMSMDB.encodeRequest(0, A.EcDoAsyncWaitExRequest(acxh, 0)))
        self.assertEqual(A.ASYNC_EMSMDB.decodeResponse(0, stub), A.EcDoAsyncWaitExResponse(0, 0))

    @inlineCallbacks
    def test_pendingAnswersAtOnce(self):
        """
        When a notification is already queued, EcDoAsyncWaitEx answers at
        once; an unknown ACXH is rejected.
        """
        client, handles, inboxId, asyncProto, acxh = yield self.prepare(wholeStore=True)
        self.dropMessage("Queued")
        self.assertEqual(self.lab.emsmdb.pollNow(), 1)
        stub = yield asyncProto.call(0, A.ASYNC_EMSMDB.encodeRequest(0, A.EcDoAsyncWaitExRequest(acxh, 0)))
        self.assertEqual(A.ASYNC_EMSMDB.decodeResponse(0, stub).pulFlagsOut, A.NOTIFICATION_PENDING)
        stub = yield asyncProto.call(0, A.ASYNC_EMSMDB.encodeRequest(0, A.EcDoAsyncWaitExRequest(ContextHandle(0, uuid.uuid4()), 0)))
        self.assertEqual(A.ASYNC_EMSMDB.decodeResponse(0, stub).result, 0x7EE)
