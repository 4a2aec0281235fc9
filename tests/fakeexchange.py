"""
A scripted Exchange upstream for proxy tests: NSPI, RFR and EMSMDB served
by the engine, answering with stubs built by our codecs, and recording what
reached it. (The full lab Exchange is a later piece of work.)
"""

import uuid

from twisted.internet import reactor
from zope.interface import implementer

from mapiproxy.auth.credentials import ServerIdentity
from mapiproxy.auth.passdb import PassDB, addUser
from mapiproxy.dcerpc.constants import Status
from mapiproxy.dcerpc.server import RPCServerFactory
from mapiproxy.errors import DCERPCFault
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces import nspi as N
from mapiproxy.interfaces import nspi_types as T
from mapiproxy.interfaces import registry
from mapiproxy.interfaces import rfr as R
from mapiproxy.interfaces.codecs import codecFor
from mapiproxy.interfaces.ndr import ContextHandle
from mapiproxy.mapi import extbuf
from tests.relaysupport import UPSTREAM_DOMAIN, UPSTREAM_HOST, UPSTREAM_PASSWORD, UPSTREAM_USER

EXCHANGE = "EXCH01"
EXCHANGE_FQDN = "exch01.corp.example"
ORG = "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
HOME_MDB = ORG + "/cn=Configuration/cn=Servers/cn=%s/cn=Microsoft Private MDB" % (EXCHANGE,)
PR_DISPLAY_NAME = 0x3001001E
PR_EMAIL_ADDRESS = 0x3003001E
PR_EMS_AB_NETWORK_ADDRESS = 0x8170101E
PR_EMS_AB_NETWORK_ADDRESS_W = 0x8170101F
PR_EMS_AB_HOME_MDB = 0x8006001E
PR_EMS_AB_HOME_MDB_W = 0x8006001F
PT_ERROR = 0x000A


def prop(tag, value):
    return T.PropertyValue_r(ulPropTag=tag, value=value)


def userRow(name, homeMdbTag=PR_EMS_AB_HOME_MDB, homeFirst=False, missingHome=False):
    """
    An address book row for a user, with the home MDB at either end (or a
    PT_ERROR in its place).
    """
    props = [prop(PR_DISPLAY_NAME, name), prop(PR_EMAIL_ADDRESS, "/cn=Recipients/cn=" + name.lower())]
    if missingHome:
        home = prop((homeMdbTag & 0xFFFF0000) | PT_ERROR, 0x8004010F)
    else:
        home = prop(homeMdbTag, HOME_MDB)
    return T.PropertyRow_r(lpProps=[home] + props if homeFirst else props + [home])


class _Interface:
    requireAuthentication = True

    def __init__(self, name):
        self.info = registry.lookupByName(name)
        self.name = name
        self.syntax = self.info.syntaxId
        self.codec = codecFor(name)
        self.requests = []

    def contextBound(self, session):
        return None

    def contextReleased(self, session):
        return None

    def handleCall(self, call):
        request = self.codec.decodeRequest(call.opnum, call.stub)
        self.requests.append((call.opnum, request))
        handler = getattr(self, "op_%d" % (call.opnum,), None)
        if handler is None:
            raise DCERPCFault(Status.NCA_S_OP_RNG_ERROR)
        return handler(request).encode()


@implementer(IRPCInterface)
class FakeNspi(_Interface):
    """
    NspiBind, NspiGetProps (network address among other properties),
    NspiQueryRows (several users, home MDB at varying positions, a PT_ERROR
    and a Unicode one), NspiDNToMId (records the names).
    """

    def __init__(self):
        super().__init__("exchange_nsp")
        self.handle = ContextHandle(0, uuid.uuid4())

    def op_0(self, request):
        return N.NspiBindResponse(pServerGuid=request.pServerGuid, contextHandle=self.handle, result=0)

    def op_9(self, request):
        row = T.PropertyRow_r(
            lpProps=[
                prop(PR_DISPLAY_NAME, EXCHANGE),
                prop(PR_EMS_AB_NETWORK_ADDRESS, ["ncacn_ip_tcp:" + EXCHANGE_FQDN, "ncacn_http:" + EXCHANGE_FQDN]),
                prop(PR_EMAIL_ADDRESS, "/cn=Servers/cn=" + EXCHANGE),
            ]
        )
        return N.NspiGetPropsResponse(ppRows=row, result=0)

    def op_3(self, request):
        rows = T.PropertyRowSet_r(
            aRow=[
                userRow("Alice"),
                userRow("Bob", homeFirst=True),
                userRow("Carol", missingHome=True),
                userRow("Dave", homeMdbTag=PR_EMS_AB_HOME_MDB_W),
            ]
        )
        return N.NspiQueryRowsResponse(pStat=request.pStat, ppRows=rows, result=0)

    def op_7(self, request):
        mids = T.PropertyTagArray_r(aulPropTag=[1000 + i for i, _ in enumerate(request.pNames.Strings)])
        return N.NspiDNToMIdResponse(ppOutMIds=mids, result=0)


@implementer(IRPCInterface)
class FakeRfr(_Interface):
    """
    RfrGetNewDSA and RfrGetFQDNFromServerDN answering the real server.
    """

    def __init__(self):
        super().__init__("exchange_ds_rfr")

    def op_0(self, request):
        return R.RfrGetNewDSAResponse(ppszUnused=None, ppszServer=EXCHANGE_FQDN, result=0)

    def op_1(self, request):
        return R.RfrGetFQDNFromServerDNResponse(ppszServerFQDN=EXCHANGE_FQDN, result=0)


@implementer(IRPCInterface)
class FakeEmsmdb(_Interface):
    """
    EcDoConnectEx and EcDoRpcExt2, the latter answering a compressed and
    obfuscated ROP buffer (or, when asked, a corrupt one).
    """

    def __init__(self):
        super().__init__("exchange_emsmdb")
        self.handle = ContextHandle(0, uuid.uuid4())
        self.corrupt = False

    def op_0(self, request):
        return E.EcDoConnectResponse(
            handle=self.handle,
            pcmsPollsMax=60000,
            pcRetry=6,
            pcmsRetryDelay=10000,
            szDNPrefix=ORG + "/cn=Configuration/cn=Servers/cn=" + EXCHANGE,
            szDisplayName=EXCHANGE,
            rgwServerVersion=(0x000E, 0x0000, 0x0308),
            rgwClientVersion=request.rgwClientVersion,
            pullTimeStamp=0,
            result=0,
        )

    def op_10(self, request):
        return E.EcDoConnectExResponse(
            handle=self.handle,
            pcmsPollsMax=60000,
            pcRetry=6,
            pcmsRetryDelay=10000,
            szDNPrefix=ORG + "/cn=Configuration/cn=Servers/cn=" + EXCHANGE,
            szDisplayName=EXCHANGE,
            rgwServerVersion=(0x000E, 0x0000, 0x0308),
            rgwBestVersion=(0x000C, 0x183E, 0x03E8),
            pulTimeStamp=0,
            rgbAuxOut=b"",
            result=0,
        )

    def op_11(self, request):
        if self.corrupt:
            rgbOut = b"\x00\x00\x07\x00\x10\x00\x40\x00" + b"\xa5" * 16
        else:
            from mapiproxy.mapi import rops
            from mapiproxy.mapi.rops.logon import LogonResponse, LogonTime

            logon = LogonResponse(
                handleIndex=0,
                returnValue=0,
                logonFlags=0x01,
                folderIds=[(i + 1) << 48 | 1 for i in range(13)],
                responseFlags=0x07,
                mailboxGuid=uuid.UUID(int=0x1234),
                replId=1,
                replGuid=uuid.UUID(int=0x5678),
                logonTime=LogonTime(1, 2, 3, 4, 25, 11, 2026),
                gwartTime=0,
                storeState=0,
            )
            ropBytes = rops.encodeResponses([logon], None, rops.RopContext())
            payload = extbuf.RopBuffer(rops=ropBytes, handles=[0x12345678, 0xFFFFFFFF]).encode()
            rgbOut = extbuf.encodeChain([extbuf.ExtendedBuffer.make(payload, compressed=True, obfuscated=True)])
        return E.EcDoRpcExt2Response(handle=request.handle, pulFlags=0, rgbOut=rgbOut, rgbAuxOut=b"", pulTransTime=3, result=0)


class FakeExchange:
    """
    The three fake interfaces on one listener of 127.0.0.1, with a passdb
    holding the proxy's upstream account.
    """

    def __init__(self, testCase):
        path = testCase.mktemp()
        addUser(path, UPSTREAM_USER, UPSTREAM_PASSWORD)
        identity = ServerIdentity(EXCHANGE, UPSTREAM_DOMAIN)
        self.nspi = FakeNspi()
        self.rfr = FakeRfr()
        self.emsmdb = FakeEmsmdb()
        self.factory = RPCServerFactory(
            [self.nspi, self.rfr, self.emsmdb], passdb=PassDB.fromFile(path, identity), identity=identity
        )
        self.listener = reactor.listenTCP(0, self.factory, interface=UPSTREAM_HOST)
        testCase.addCleanup(self.listener.stopListening)
        self.port = self.listener.getHost().port
