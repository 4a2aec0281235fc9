"""
Tests for L{mapiproxy.server.rfr}: both RFR calls in-process, over loopback
with our client, and with impacket's real C{oxabref} client.
"""

from twisted.internet.defer import inlineCallbacks
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import SynchronousTestCase, TestCase
from zope.interface.verify import verifyObject

from mapiproxy.dcerpc.association import AuthInfo, Call, ContextSession
from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import rfr as R
from mapiproxy.server import makeServerInterfaces
from mapiproxy.server.directory import ErrorCode
from mapiproxy.server.rfr import RfrServer
from mapiproxy.server.store import Store
from tests.server import FQDN, MDB_DN, ORG_DN, SAMPLE_STORE, SERVER_DN, LabServer, copySampleStore, impacketDCE

USER_DN = ORG_DN + "/cn=Recipients/cn=alice"
OTHER_SERVER_DN = "/o=Other Org/ou=First Administrative Group/cn=Configuration/cn=Servers/cn=EXCH01"


class RfrCallTests(SynchronousTestCase):
    """
    RfrGetNewDSA and RfrGetFQDNFromServerDN answered in-process.
    """

    def setUp(self):
        self.server = makeServerInterfaces(Store.open(SAMPLE_STORE))[1]
        self.session = ContextSession(0, self.server, object(), None)

    def call(self, opnum, request):
        stub = request.encode() if not isinstance(request, bytes) else request
        answer = self.server.handleCall(Call(1, 0, opnum, stub, self.session, auth=AuthInfo(10, 6, "alice", "LAB")))
        return R.RFR.decodeResponse(opnum, answer)

    def test_interface(self):
        """
        The server provides IRPCInterface for exchange_ds_rfr 1.0, with
        authentication required.
        """
        verifyObject(IRPCInterface, self.server)
        self.assertEqual((self.server.name, str(self.server.syntax.uuid), self.server.syntax.version), ("exchange_ds_rfr", "1544f5e0-613c-11d1-93df-00c04fd7bd09", 1))
        self.assertTrue(self.server.requireAuthentication)

    def test_getNewDSA(self):
        """
        RfrGetNewDSA names this server, leaves ppszUnused NULL and keeps
        the presence of both pointers.
        """
        response = self.call(0, R.RfrGetNewDSARequest(pUserDN=USER_DN, ppszServer=None, ppszServerPresent=True))
        self.assertEqual((response.result, response.ppszServer, response.ppszServerPresent), (0, FQDN, True))
        self.assertEqual((response.ppszUnused, response.ppszUnusedPresent), (None, False))
        response = self.call(
            0, R.RfrGetNewDSARequest(pUserDN=USER_DN, ppszUnused=None, ppszUnusedPresent=True, ppszServer="old.example", ppszServerPresent=True)
        )
        self.assertEqual((response.ppszServer, response.ppszUnused, response.ppszUnusedPresent), (FQDN, None, True))

    def test_getNewDSAWithoutServerPointer(self):
        """
        Without a ppszServer to fill in, RfrGetNewDSA is InvalidParameter.
        """
        response = self.call(0, R.RfrGetNewDSARequest(pUserDN=USER_DN, ppszServer=None, ppszServerPresent=False))
        self.assertEqual((response.result, response.ppszServer, response.ppszServerPresent), (ErrorCode.InvalidParameter, None, False))

    def test_getFQDNFromServerDN(self):
        """
        The DN of this server (any case) or of its database gives the
        FQDN; another server's DN is NotFound with a NULL name.
        """
        for dn in (SERVER_DN, SERVER_DN.upper(), MDB_DN, SERVER_DN + "/"):
            response = self.call(1, R.RfrGetFQDNFromServerDNRequest(szMailboxServerDN=dn))
            self.assertEqual((response.result, response.ppszServerFQDN), (0, FQDN), dn)
        for dn in (OTHER_SERVER_DN, SERVER_DN + "X", ORG_DN + "/cn=Configuration/cn=Servers"):
            response = self.call(1, R.RfrGetFQDNFromServerDNRequest(szMailboxServerDN=dn))
            self.assertEqual((response.result, response.ppszServerFQDN), (ErrorCode.NotFound, None), dn)

    def test_storeWithoutFQDN(self):
        """
        A store without serverFQDN announces the identity's DNS name, else
        the server name in lower case.
        """
        import json
        import os

        from mapiproxy.auth.credentials import ServerIdentity

        path = copySampleStore(self)
        with open(os.path.join(path, "organization.json")) as f:
            org = json.load(f)
        del org["serverFQDN"]
        with open(os.path.join(path, "organization.json"), "w") as f:
            json.dump(org, f)
        store = Store.open(path)
        identity = ServerIdentity("LAB", "LAB", "corp.example", "lab01.corp.example")
        self.assertEqual(makeServerInterfaces(store, identity)[1].serverFQDN, "lab01.corp.example")
        self.assertEqual(makeServerInterfaces(store)[1].serverFQDN, "lab")
        nspi = makeServerInterfaces(store, identity)[0]
        self.assertEqual(nspi.directory.serverFQDN, "lab01.corp.example")

    def test_faults(self):
        """
        An unknown opnum faults op_rng_error; a stub that does not decode
        faults nca_s_fault_ndr (cbMailboxServerDN out of its range here).
        """
        e = self.assertRaises(DCERPCFault, self.call, 2, b"")
        self.assertEqual(e.status, Status.NCA_S_OP_RNG_ERROR)
        e = self.assertRaises(DCERPCFault, self.call, 0, b"\x00\x00")
        self.assertEqual(e.status, Status.FAULT_NDR)
        tooShort = b"\x00\x00\x00\x00" + (3).to_bytes(4, "little") + (3).to_bytes(4, "little") + b"\x00" * 4 + (3).to_bytes(4, "little") + b"ab\x00"
        e = self.assertRaises(DCERPCFault, self.call, 1, tooShort)
        self.assertEqual(e.status, Status.FAULT_NDR)


class RfrOverNetworkTests(TestCase):
    """
    The lab Exchange's RFR over loopback, NTLM with packet privacy.
    """

    timeout = 60

    @inlineCallbacks
    def test_ourClient(self):
        """
        Both opnums with our client over a sealed association.
        """
        lab = LabServer(self, Store.open(SAMPLE_STORE))
        rfr = yield lab.connect(self, "exchange_ds_rfr")
        answer = yield rfr.call(0, R.RfrGetNewDSARequest(pUserDN=USER_DN, ppszServer=None, ppszServerPresent=True).encode())
        self.assertEqual(R.RfrGetNewDSAResponse.decode(answer).ppszServer, FQDN)
        answer = yield rfr.call(1, R.RfrGetFQDNFromServerDNRequest(szMailboxServerDN=MDB_DN).encode())
        self.assertEqual(R.RfrGetFQDNFromServerDNResponse.decode(answer), R.RfrGetFQDNFromServerDNResponse(FQDN, 0))
        answer = yield rfr.call(1, R.RfrGetFQDNFromServerDNRequest(szMailboxServerDN=OTHER_SERVER_DN).encode())
        self.assertEqual(R.RfrGetFQDNFromServerDNResponse.decode(answer), R.RfrGetFQDNFromServerDNResponse(None, ErrorCode.NotFound))

    @inlineCallbacks
    def test_impacket(self):
        """
        impacket's hRfrGetNewDSA and hRfrGetFQDNFromServerDN get the lab's
        FQDN; for another organisation's server impacket reports the
        NotFound error code.
        """
        lab = LabServer(self, Store.open(SAMPLE_STORE))

        def run():
            from impacket.dcerpc.v5 import oxabref

            dce = impacketDCE(lab.port, oxabref.MSRPC_UUID_OXABREF)
            try:
                dsa = oxabref.hRfrGetNewDSA(dce, USER_DN)["ppszServer"]
                fqdn = oxabref.hRfrGetFQDNFromServerDN(dce, SERVER_DN)["ppszServerFQDN"]
                try:
                    oxabref.hRfrGetFQDNFromServerDN(dce, OTHER_SERVER_DN)
                    error = None
                except oxabref.DCERPCSessionError as e:
                    error = e.get_error_code()
                return dsa, fqdn, error
            finally:
                dce.disconnect()

        dsa, fqdn, error = yield deferToThread(run)
        self.assertEqual((dsa, fqdn, error), (FQDN, FQDN, ErrorCode.NotFound))


class RfrServerTests(SynchronousTestCase):
    """
    L{RfrServer} on its own.
    """

    def test_fromArguments(self):
        """
        An RfrServer answers the names it was given.
        """
        server = RfrServer("/o=X/ou=Y/cn=Configuration/cn=Servers/cn=MB1", "mb1.x.example")
        session = ContextSession(0, server, object(), None)
        request = R.RfrGetFQDNFromServerDNRequest(szMailboxServerDN="/o=X/ou=Y/cn=Configuration/cn=Servers/cn=mb1")
        answer = server.handleCall(Call(1, 0, 1, request.encode(), session))
        self.assertEqual(R.RfrGetFQDNFromServerDNResponse.decode(answer).ppszServerFQDN, "mb1.x.example")
