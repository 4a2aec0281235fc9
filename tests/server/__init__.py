"""
Tests for L{mapiproxy.server}, and what they share: a private copy of the
sample store, the lab Exchange's NSPI and RFR served by the engine on a
loopback listener, and connections to it by our client and by impacket.
"""

import os
import shutil

from twisted.internet import reactor

from mapiproxy.auth.credentials import Credentials, ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.interfaces.registry import lookupByName

#: The sample store shipped in etc/.
SAMPLE_STORE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "etc", "sample-store")
#: Where the generated attachments of the sample store live.
GENERATED = ("Q3-sales-report.pdf", "sensor-capture.bin")
LAB_HOST = "127.0.0.1"
LAB_DOMAIN = "LAB"
USER = "alice"
PASSWORD = "Alice.Pass1"
ORG_DN = "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
SERVER_DN = ORG_DN + "/cn=Configuration/cn=Servers/cn=LAB"
MDB_DN = SERVER_DN + "/cn=Microsoft Private MDB"
FQDN = "lab.example"


def copySampleStore(testCase):
    """
    A private copy of the sample store (without generated attachments a
    checkout may hold), removed with the test's temporary directory.

    @return: its path.
    """
    path = os.path.abspath(testCase.mktemp())
    shutil.copytree(SAMPLE_STORE, path, ignore=shutil.ignore_patterns(*GENERATED))
    return path


class LabServer:
    """
    NSPI and RFR of a store on one listener of 127.0.0.1, users from a
    passdb holding alice.

    @ivar interfaces: the L{mapiproxy.server.makeServerInterfaces} list.
    @ivar port: the listening port.
    """

    def __init__(self, testCase, store):
        from mapiproxy.server import makeServerInterfaces

        path = testCase.mktemp()
        addUser(path, USER, PASSWORD)
        identity = ServerIdentity("LAB", LAB_DOMAIN, "lab.example", FQDN)
        self.interfaces = makeServerInterfaces(store, identity)
        self.nspi, self.rfr = self.interfaces
        self.factory = RPCServerFactory(self.interfaces, passdb=PassDB.fromFile(path, identity), identity=identity)
        self.listener = reactor.listenTCP(0, self.factory, interface=LAB_HOST)
        testCase.addCleanup(self.listener.stopListening)
        self.port = self.listener.getHost().port

    def connect(self, testCase, name, authenticated=True):
        """
        Our client, bound (NTLM, packet privacy) to one interface.

        @return: a L{Deferred} firing with the L{RPCClientProtocol}.
        """
        security = None
        if authenticated:
            security = makeInitiator(AuthType.NTLM, Credentials(USER, PASSWORD, LAB_DOMAIN))
        d = connectRPC(reactor, LAB_HOST, self.port, [lookupByName(name).syntaxId], security=security, timeout=10)

        def connected(proto):
            testCase.addCleanup(proto.disconnect)
            return proto

        return d.addCallback(connected)


def impacketDCE(port, uuid):
    """
    impacket's blocking DCE/RPC client, authenticated (NTLM, packet
    privacy) and bound to C{uuid}; run it in a thread.

    @return: the bound C{DCERPC_v5}.
    """
    from impacket.dcerpc.v5 import transport
    from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_AUTHN_WINNT

    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (LAB_HOST, port))
    rpctransport.set_credentials(USER, PASSWORD, LAB_DOMAIN)
    dce = rpctransport.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    dce.connect()
    dce.bind(uuid)
    return dce


def text(value):
    """
    An impacket string value as text (its C{[string]} values keep their
    NUL).
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value.rstrip("\x00")
