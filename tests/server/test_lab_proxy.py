"""
impacket's real NSPI client (C{impacket.dcerpc.v5.nspi}) against the lab
Exchange through the proxy, compared with the same calls made directly:
NTLM at packet privacy (level 6) on both legs, the proxy relaying
C{exchange_nsp} and C{exchange_ds_rfr} to the lab over loopback sockets.

Through the proxy the address book is the lab's (the same users, the same
MIds), except that C{PR_EMS_AB_HOME_MDB} names the proxy (its netbios name
replaces the lab's server name, [MS-OXNSPI] 2.2.8 / OpenChange's
C{dcesrv_mapiproxy_nspi.c}), and NspiDNToMId turns that name back into the
lab's on the way in.
"""

from twisted.internet.defer import inlineCallbacks
from twisted.internet.threads import deferToThread
from twisted.trial.unittest import TestCase

from mapiproxy.dcerpc.constants import AuthLevel, AuthType, Status
from mapiproxy.server import directory as D
from mapiproxy.server.store import Store
from tests.relaysupport import CLIENT_DOMAIN, CLIENT_PASSWORD, CLIENT_USER, PROXY_HOST, proxyConfig, startProxy
from tests.server import LAB_DOMAIN, LAB_HOST, MDB_DN, PASSWORD, SERVER_DN, USER, LabServer, copySampleStore, text

PR_DISPLAY_NAME_A = 0x3001001E
PR_DISPLAY_NAME_W = 0x3001001F
PR_SMTP_ADDRESS_W = 0x39FE001F
PR_ACCOUNT_W = 0x3A00001F
PR_HOME_MDB_A = 0x8006001E
PR_HOME_MDB_W = 0x8006001F

#: The proxy's netbios name in L{proxyConfig}.
PROXY_NAME = "MAPIPROXY"
#: The lab's server and mailbox database DNs as the proxy shows them.
PROXY_SERVER_DN = SERVER_DN[: -len("/cn=LAB")] + "/cn=" + PROXY_NAME
PROXY_MDB_DN = PROXY_SERVER_DN + "/cn=Microsoft Private MDB"
SAMPLE_USERS = [
    ("Administrator", "administrator@lab.example"),
    ("Alice Anderson", "alice@lab.example"),
    ("Bob Brown", "bob@lab.example"),
    ("Carol Clark", "carol@lab.example"),
    ("Dave Davis", "dave@lab.example"),
]


def impacketSession(host, port, account, extraDNs=()):
    """
    impacket's NSPI helpers, blocking (run it in a thread): NspiBind,
    NspiGetSpecialTable, NspiQueryRows of the GAL, NspiResolveNamesW of
    "bob" and of a name nobody has, NspiDNToMId of the server DN seen in
    the first row's home MDB, of that home MDB and of C{extraDNs}, then
    NspiUnbind; NTLM at packet privacy.

    @param host: the server's address.
    @param port: its C{exchange_nsp} port.
    @param account: C{(user, password, domain)}.
    @param extraDNs: more DNs for NspiDNToMId.
    @return: a L{dict} of what came back.
    """
    from impacket.dcerpc.v5 import nspi, transport
    from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_AUTHN_WINNT

    user, password, domain = account
    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (host, port))
    rpctransport.set_credentials(user, password, domain)
    dce = rpctransport.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    dce.connect()
    found = {}
    try:
        dce.bind(nspi.MSRPC_UUID_NSPI)
        handle = nspi.hNspiBind(dce)["contextHandle"]
        special = nspi.hNspiGetSpecialTable(dce, handle)["ppRows"]
        found["containers"] = [row[PR_DISPLAY_NAME_W] for row in nspi.simplifyPropertyRowSet(special)]
        rows = nspi.hNspiQueryRows(dce, handle, Count=50, pPropTags=[PR_DISPLAY_NAME_A, PR_SMTP_ADDRESS_W, PR_HOME_MDB_A])["ppRows"]
        found["users"] = [(text(r[PR_DISPLAY_NAME_A]), r[PR_SMTP_ADDRESS_W], text(r[PR_HOME_MDB_A])) for r in nspi.simplifyPropertyRowSet(rows)]
        resolved = nspi.hNspiResolveNamesW(dce, handle, pPropTags=[PR_DISPLAY_NAME_W, PR_ACCOUNT_W, PR_HOME_MDB_W], paStr=["bob", "nobody"])
        found["resolvedMids"] = [m["Data"] for m in resolved["ppMIds"]["aulPropTag"]]
        found["resolvedRows"] = [
            (r[PR_DISPLAY_NAME_W], r[PR_ACCOUNT_W], text(r[PR_HOME_MDB_W])) for r in nspi.simplifyPropertyRowSet(resolved["ppRows"])
        ]
        homeMDB = found["users"][0][2]
        names = [homeMDB.rsplit("/cn=", 1)[0], homeMDB] + list(extraDNs)
        mids = nspi.hNspiDNToMId(dce, handle, names)["ppOutMIds"]["aulPropTag"]
        found["dnMids"] = [m["Data"] for m in mids]
        found["unbind"] = nspi.hNspiUnbind(dce, handle)["ErrorCode"]
    finally:
        dce.disconnect()
    return found


def impacketRefused(host, port, account):
    """
    impacket's NspiBind with a wrong password (blocking: run it in a
    thread).

    @return: the fault status of impacket's C{DCERPCException} (it
        carries the status's name: mapped back through impacket's
        C{rpc_status_codes}), or L{None} when it was not refused.
    """
    from impacket.dcerpc.v5 import nspi, transport
    from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_AUTHN_WINNT, DCERPCException, rpc_status_codes

    user, password, domain = account
    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (host, port))
    rpctransport.set_credentials(user, password, domain)
    dce = rpctransport.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    dce.connect()
    try:
        dce.bind(nspi.MSRPC_UUID_NSPI)
        nspi.hNspiBind(dce)
    except DCERPCException as e:
        byName = {name: code for code, name in rpc_status_codes.items()}
        return byName.get(str(e), str(e))
    finally:
        dce.disconnect()
    return None


class LabThroughProxyTests(TestCase):
    """
    impacket's NSPI helpers against the lab Exchange, directly and through
    the proxy (NTLM, packet privacy on both legs).
    """

    timeout = 60

    def setUp(self):
        self.lab = LabServer(self, Store.open(copySampleStore(self)))
        self.directory = self.lab.nspi.directory
        self.binds = []
        nspiBind = self.lab.nspi.nspi_Bind

        def recordingBind(request, call):
            # Who reached the lab, and how (the proxy's upstream leg).
            self.binds.append(call.auth or call.session.authInfo)
            return nspiBind(request, call)

        self.lab.nspi.nspi_Bind = recordingBind
        extra = "    dcerpc_mapiproxy:username = %s\n    dcerpc_mapiproxy:password = %s\n    dcerpc_mapiproxy:domain = %s\n" % (
            USER,
            PASSWORD,
            LAB_DOMAIN,
        )
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:%s[%d,seal]" % (LAB_HOST, self.lab.port),
            interfaces="exchange_nsp, exchange_ds_rfr",
            extra=extra,
        )
        self.proxy = startProxy(self, config)
        self.proxyPort = self.proxy.ports["exchange_nsp"]

    def viaProxy(self, *extraDNs):
        return deferToThread(impacketSession, PROXY_HOST, self.proxyPort, (CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN), extraDNs)

    def direct(self, *extraDNs):
        return deferToThread(impacketSession, LAB_HOST, self.lab.port, (USER, PASSWORD, LAB_DOMAIN), extraDNs)

    @inlineCallbacks
    def test_sampleUsersThroughProxy(self):
        """
        Through the proxy impacket reads the lab's hierarchy table and GAL:
        the sample users with their addresses, the home MDB naming the
        proxy.
        """
        found = yield self.viaProxy()
        self.assertEqual(found["containers"], ["Global Address List", "All Users"])
        self.assertEqual(found["users"], [(name, smtp, PROXY_MDB_DN) for name, smtp in SAMPLE_USERS])
        self.assertEqual(found["unbind"], D.ErrorCode.UnbindSuccess)

    @inlineCallbacks
    def test_directShowsLabName(self):
        """
        Directly against the lab the same rows carry the lab's own server
        name; the proxy's name means nothing to the lab's NspiDNToMId.
        """
        found = yield self.direct(PROXY_SERVER_DN)
        self.assertEqual(found["users"], [(name, smtp, MDB_DN) for name, smtp in SAMPLE_USERS])
        self.assertEqual(found["resolvedRows"], [("Bob Brown", "bob", MDB_DN)])
        self.assertEqual(found["dnMids"], [D.SERVER_MID, D.MDB_MID, 0])

    @inlineCallbacks
    def test_sameAnswersButTheServerName(self):
        """
        Direct and proxied sessions get the same containers, users, MIds
        and resolved names; only the home MDB's server name differs, LAB
        against MAPIPROXY.
        """
        direct = yield self.direct()
        proxied = yield self.viaProxy()
        bob = self.directory.userEntry("bob").mid
        for found, mdb in ((direct, MDB_DN), (proxied, PROXY_MDB_DN)):
            self.assertEqual(found["resolvedMids"], [bob, D.MID_UNRESOLVED])
            self.assertEqual(found["resolvedRows"], [("Bob Brown", "bob", mdb)])
        self.assertEqual(proxied["containers"], direct["containers"])
        self.assertEqual([u[:2] for u in proxied["users"]], [u[:2] for u in direct["users"]])
        self.assertEqual({u[2] for u in direct["users"]}, {MDB_DN})
        self.assertEqual({u[2] for u in proxied["users"]}, {PROXY_MDB_DN})
        self.assertEqual([u[2].replace("/cn=" + PROXY_NAME + "/", "/cn=LAB/") for u in proxied["users"]], [u[2] for u in direct["users"]])

    @inlineCallbacks
    def test_dnToMIdRewrittenBack(self):
        """
        NspiDNToMId of the proxy-named server and database DNs, through
        the proxy, finds the lab's server and database objects; the lab's
        real DN passes through untouched.
        """
        found = yield self.viaProxy(SERVER_DN, "/o=Nowhere/cn=Servers/cn=" + PROXY_NAME)
        self.assertEqual(found["dnMids"], [D.SERVER_MID, D.MDB_MID, D.SERVER_MID, 0])

    @inlineCallbacks
    def test_packetPrivacyOnBothLegs(self):
        """
        The client leg is impacket's NTLM at packet privacy; the lab sees
        one NspiBind, from the proxy's configured account over NTLM at
        packet privacy.
        """
        yield self.viaProxy()
        self.assertEqual(self.binds, [self.binds[0]])
        auth = self.binds[0]
        self.assertEqual(
            (auth.authType, auth.authLevel, auth.username.lower(), auth.domain.upper()),
            (AuthType.NTLM, AuthLevel.PRIVACY, USER, LAB_DOMAIN),
        )
        self.assertEqual(self.lab.nspi.sessions, {})

    @inlineCallbacks
    def test_wrongPasswordNeverReachesLab(self):
        """
        A client with a wrong password gets a fault from the proxy at its
        first request (the engine's answer to a request after a failed
        AUTH3), and no NspiBind reaches the lab.
        """
        status = yield deferToThread(impacketRefused, PROXY_HOST, self.proxyPort, (CLIENT_USER, "Wrong.Pass1", CLIENT_DOMAIN))
        self.assertIn(status, (Status.NCA_S_PROTO_ERROR, Status.ACCESS_DENIED))
        self.assertEqual(self.binds, [])
