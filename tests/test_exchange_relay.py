"""
The Exchange interfaces through the proxy, against a scripted Exchange
upstream: print mode, the NSPI/RFR rewrites (every row and position, NULLs,
the reverse path), byte-for-byte relay of what nobody changed, the call log.
"""

import json
import os

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.logger import formatEvent, globalLogPublisher
from twisted.trial.unittest import TestCase

from mapiproxy.auth.credentials import Credentials
from mapiproxy.auth.security import makeInitiator
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.dcerpc.constants import AuthType
from mapiproxy.interfaces import emsmdb as E
from mapiproxy.interfaces import nspi as N
from mapiproxy.interfaces import nspi_types as T
from mapiproxy.interfaces import rfr as R
from mapiproxy.interfaces.registry import lookupByName
from mapiproxy.mapi import extbuf
from tests.fakeexchange import (
    EXCHANGE,
    EXCHANGE_FQDN,
    HOME_MDB,
    PR_EMS_AB_HOME_MDB,
    PR_EMS_AB_NETWORK_ADDRESS,
    FakeExchange,
)
from tests.relaysupport import CLIENT_DOMAIN, CLIENT_PASSWORD, CLIENT_USER, PROXY_HOST, proxyConfig, startProxy

PROXY_FQDN = "mapiproxy.proxy.test"
INTERFACES = "exchange_nsp, exchange_ds_rfr, exchange_emsmdb"


class ExchangeRelayTests(TestCase):
    """
    NSPI, RFR and EMSMDB through a proxy in print mode.
    """

    timeout = 60

    def setUp(self):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)
        self.exchange = FakeExchange(self)
        self.callLog = os.path.abspath(self.mktemp())

    def _start(self, extra=""):
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:127.0.0.1[%d,seal,print]" % (self.exchange.port,),
            interfaces=INTERFACES,
            extra="    dcerpc_mapiproxy:call_log = %s\n%s" % (self.callLog, extra),
        )
        self.service = startProxy(self, config)

    def _connect(self, name):
        info = lookupByName(name)
        security = makeInitiator(AuthType.NTLM, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        d = connectRPC(reactor, PROXY_HOST, self.service.ports[name], [info.syntaxId], security=security, timeout=10)

        def connected(proto):
            self.addCleanup(proto.disconnect)
            return proto

        return d.addCallback(connected)

    def _printed(self):
        return "\n".join(formatEvent(e) for e in self.events if e.get("log_namespace") == "mapiproxy.ndrdump")

    @inlineCallbacks
    def test_nspiProfileFlow(self):
        """
        NspiBind, NspiGetProps, NspiQueryRows and NspiDNToMId: the network
        address and every home MDB name the proxy, the PT_ERROR row is left
        alone, the DN goes back to the real server upstream, and each call
        is printed decoded.
        """
        self._start()
        nspi = yield self._connect("exchange_nsp")
        answer = yield nspi.call(0, N.NspiBindRequest(dwFlags=0, pStat=T.STAT(CodePage=1252), pServerGuid=b"\x00" * 16).encode())
        handle = N.NspiBindResponse.decode(answer).contextHandle

        answer = yield nspi.call(
            9,
            N.NspiGetPropsRequest(
                hRpc=handle, pStat=T.STAT(), pPropTags=T.PropertyTagArray_r(aulPropTag=[0x3001001E, PR_EMS_AB_NETWORK_ADDRESS, 0x3003001E])
            ).encode(),
        )
        row = N.NspiGetPropsResponse.decode(answer).ppRows
        values = {p.ulPropTag: p.value for p in row.lpProps}
        self.assertEqual(values[PR_EMS_AB_NETWORK_ADDRESS], ["ncacn_ip_tcp:" + PROXY_FQDN])
        self.assertEqual(values[0x3001001E], EXCHANGE)

        answer = yield nspi.call(
            3, N.NspiQueryRowsRequest(hRpc=handle, pStat=T.STAT(), Count=10, pPropTags=T.PropertyTagArray_r(aulPropTag=[PR_EMS_AB_HOME_MDB])).encode()
        )
        rows = N.NspiQueryRowsResponse.decode(answer).ppRows.aRow
        homes = [[p.value for p in r.lpProps if p.propId == 0x8006] for r in rows]
        proxied = HOME_MDB.replace("/cn=" + EXCHANGE + "/", "/cn=MAPIPROXY/")
        self.assertEqual(homes, [[proxied], [proxied], [0x8004010F], [proxied]])

        answer = yield nspi.call(7, N.NspiDNToMIdRequest(hRpc=handle, pNames=T.StringsArray_r(Strings=[proxied, "/o=x/cn=other"])).encode())
        self.assertEqual(N.NspiDNToMIdResponse.decode(answer).ppOutMIds.aulPropTag, [1000, 1001])
        opnum, upstreamRequest = self.exchange.nspi.requests[-1]
        self.assertEqual((opnum, upstreamRequest.pNames.Strings), (7, [HOME_MDB, "/o=x/cn=other"]))

        printed = self._printed()
        for line in ("exchange_nsp NspiBind (opnum 0)", "exchange_nsp NspiGetProps (opnum 9)", "exchange_nsp NspiQueryRows (opnum 3)", "NspiDNToMId (opnum 7)"):
            self.assertIn(line, printed)
        self.assertIn("ulPropTag: 2171605022 (0x8170101e)", printed)

        records = [json.loads(line) for line in open(self.callLog)]
        self.assertEqual([r["operation"] for r in records], ["NspiBind", "NspiGetProps", "NspiQueryRows", "NspiDNToMId"])
        self.assertEqual({r["status"] for r in records}, {"ok"})
        self.assertEqual({r["user"] for r in records}, {"MAPIPROXY\\alice"})

    @inlineCallbacks
    def test_rewritesOff(self):
        """
        With the rewrites turned off the NSPI and RFR answers come back as
        Exchange sent them.
        """
        self._start(
            "    dcerpc_mapiproxy:rewrite_network_address = no\n    dcerpc_mapiproxy:rewrite_home_mdb = no\n    dcerpc_mapiproxy:rewrite_rfr = no\n"
        )
        nspi = yield self._connect("exchange_nsp")
        answer = yield nspi.call(9, N.NspiGetPropsRequest(pStat=T.STAT()).encode())
        values = {p.ulPropTag: p.value for p in N.NspiGetPropsResponse.decode(answer).ppRows.lpProps}
        self.assertEqual(values[PR_EMS_AB_NETWORK_ADDRESS][0], "ncacn_ip_tcp:" + EXCHANGE_FQDN)
        rfr = yield self._connect("exchange_ds_rfr")
        answer = yield rfr.call(0, R.RfrGetNewDSARequest(ulFlags=0, pUserDN="/o=x/cn=alice", ppszServer=None, ppszServerPresent=True).encode())
        self.assertEqual(R.RfrGetNewDSAResponse.decode(answer).ppszServer, EXCHANGE_FQDN)

    @inlineCallbacks
    def test_rfr(self):
        """
        RfrGetNewDSA and RfrGetFQDNFromServerDN name the proxy's FQDN.
        """
        self._start()
        rfr = yield self._connect("exchange_ds_rfr")
        answer = yield rfr.call(0, R.RfrGetNewDSARequest(ulFlags=0, pUserDN="/o=x/cn=alice", ppszServer=None, ppszServerPresent=True).encode())
        self.assertEqual(R.RfrGetNewDSAResponse.decode(answer).ppszServer, PROXY_FQDN)
        dn = "/o=x/ou=y/cn=Configuration/cn=Servers/cn=" + EXCHANGE
        answer = yield rfr.call(1, R.RfrGetFQDNFromServerDNRequest(ulFlags=0, szMailboxServerDN=dn).encode())
        self.assertEqual(R.RfrGetFQDNFromServerDNResponse.decode(answer).ppszServerFQDN, PROXY_FQDN)
        self.assertIn("exchange_ds_rfr RfrGetNewDSA (opnum 0)", self._printed())

    @inlineCallbacks
    def test_emsmdbPrintedAndUntouched(self):
        """
        EcDoConnectEx and a compressed, obfuscated EcDoRpcExt2 are printed
        unframed; their stubs reach the client byte for byte; a corrupt
        rgbOut prints as hex and is still relayed.
        """
        self._start()
        emsmdb = yield self._connect("exchange_emsmdb")
        connect = E.EcDoConnectExRequest(
            szUserDN="/o=First Organization/cn=Recipients/cn=alice",
            ulFlags=0,
            ulCpid=1252,
            ulLcidString=1033,
            ulLcidSort=1033,
            ulIcxrLink=0xFFFFFFFF,
            usFCanConvertCodePages=1,
            rgwClientVersion=(0x000C, 0x183E, 0x03E8),
            rgbAuxIn=b"",
            pcbAuxOut=0x1008,
        )
        answer = yield emsmdb.call(10, connect.encode())
        expected = self.exchange.emsmdb.op_10(connect).encode()
        self.assertEqual(answer, expected)
        handle = E.EcDoConnectExResponse.decode(answer).handle

        from mapiproxy.mapi import rops as ropcodec
        from mapiproxy.mapi.rops.logon import LogonRequest

        logon = LogonRequest(logonId=0, inputHandleIndex=0, logonFlags=0x01, openFlags=0x01000000, storeState=0, essdn="/o=First Organization/cn=Recipients/cn=alice")
        rops = ropcodec.encodeRequests([logon], ropcodec.RopContext())
        rgbIn = extbuf.encodeChain([extbuf.ExtendedBuffer.make(extbuf.RopBuffer(rops=rops, handles=[0xFFFFFFFF]).encode(), compressed=True, obfuscated=True)])
        request = E.EcDoRpcExt2Request(handle=handle, pulFlags=0, rgbIn=rgbIn, pcbOut=0x40000, rgbAuxIn=b"", pcbAuxOut=0x1008)
        answer = yield emsmdb.call(11, request.encode())
        response = E.EcDoRpcExt2Response.decode(answer)
        (buffer,) = extbuf.decodeChain(response.rgbOut)
        self.assertEqual(extbuf.RopBuffer.decode(buffer.payload).handles, [0x12345678, 0xFFFFFFFF])

        self.exchange.emsmdb.corrupt = True
        answer = yield emsmdb.call(11, request.encode())
        self.assertEqual(E.EcDoRpcExt2Response.decode(answer).rgbOut[:8], b"\x00\x00\x07\x00\x10\x00\x40\x00")

        printed = self._printed()
        self.assertIn("exchange_emsmdb EcDoConnectEx (opnum 10)", printed)
        self.assertIn("exchange_emsmdb EcDoRpcExt2 (opnum 11)", printed)
        self.assertIn("Compressed|XorMagic|Last", printed)
        self.assertIn("2 handles [0x12345678, 0xffffffff]", printed)
        self.assertIn("RopLogon (0xfe)", printed)
        self.assertIn("essdn: '/o=First Organization/cn=Recipients/cn=alice'", printed)
        self.assertIn("mailboxGuid: 00000000-0000-0000-0000-000000001234", printed)
        self.assertIn("does not decode", printed)
        self.assertEqual(printed.count("EcDoRpcExt2 (opnum 11)"), 2)

    @inlineCallbacks
    def test_upstreamFaultPrinted(self):
        """
        A call the upstream faults is printed with its fault and logged.
        """
        self._start()
        emsmdb = yield self._connect("exchange_emsmdb")
        from mapiproxy.errors import DCERPCFault

        yield self.assertFailure(emsmdb.call(6, b""), DCERPCFault)
        self.assertIn("out: FAULT", self._printed())
        (record,) = [json.loads(line) for line in open(self.callLog)]
        self.assertEqual((record["operation"], record["status"]), ("EcDummyRpc", "fault"))




def impacketNspi(port):
    """
    impacket's own NSPI client helpers against the proxy: bind, query rows,
    resolve a DN.

    @return: C{(home MDB values, mids)}.
    """
    from impacket.dcerpc.v5 import nspi, transport
    from impacket.dcerpc.v5.rpcrt import RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_AUTHN_WINNT

    rpctransport = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[%d]" % (PROXY_HOST, port))
    rpctransport.set_credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN)
    dce = rpctransport.get_dce_rpc()
    dce.set_auth_type(RPC_C_AUTHN_WINNT)
    dce.set_auth_level(RPC_C_AUTHN_LEVEL_PKT_PRIVACY)
    dce.connect()
    try:
        dce.bind(nspi.MSRPC_UUID_NSPI)
        handle = nspi.hNspiBind(dce)["contextHandle"]
        rows = nspi.hNspiQueryRows(dce, handle, Count=10, pPropTags=[PR_EMS_AB_HOME_MDB])["ppRows"]
        homes = []
        for row in rows["aRow"]:
            for value in row["lpProps"]:
                if value["ulPropTag"] >> 16 == 0x8006:
                    homes.append(_text(value["Value"]["lpszA"]) if value["ulPropTag"] & 0xFFFF == 0x1E else None)
        mids = nspi.hNspiDNToMId(dce, handle, [homes[0]])["ppOutMIds"]["aulPropTag"]
        return homes, [m["Data"] for m in mids]
    finally:
        dce.disconnect()


class ImpacketNspiTests(TestCase):
    """
    impacket's real NSPI client through the proxy.
    """

    timeout = 60

    @inlineCallbacks
    def test_impacketNspiHelpers(self):
        """
        hNspiBind, hNspiQueryRows and hNspiDNToMId through the proxy: the
        rows carry the proxy's name, the DN goes back to Exchange's upstream.
        """
        from twisted.internet.threads import deferToThread

        exchange = FakeExchange(self)
        config = proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (exchange.port,), interfaces=INTERFACES)
        service = startProxy(self, config)
        homes, mids = yield deferToThread(impacketNspi, service.ports["exchange_nsp"])
        proxied = HOME_MDB.replace("/cn=" + EXCHANGE + "/", "/cn=MAPIPROXY/")
        self.assertEqual(homes, [proxied, proxied, None, None], homes)
        self.assertEqual(mids, [1000])
        self.assertEqual(exchange.nspi.requests[-1][1].pNames.Strings, [HOME_MDB])


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value.rstrip("\x00")


class CaptureExportTests(TestCase):
    """
    dcerpc_mapiproxy:pcap writes the decrypted calls for tshark.
    """

    timeout = 60

    @inlineCallbacks
    def test_tsharkDissectsExport(self):
        """
        Sealed NSPI and RFR sessions through the proxy come out in the pcap
        as cleartext calls that tshark dissects as NSPI/RFR, with no
        malformed packet.
        """
        from tests.peers import requireTool
        from tests.tshark import malformedFrames

        requireTool("tshark")
        exchange = FakeExchange(self)
        pcap = os.path.abspath(self.mktemp())
        config = proxyConfig(
            self,
            "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (exchange.port,),
            interfaces=INTERFACES,
            extra="    dcerpc_mapiproxy:pcap = %s\n" % (pcap,),
        )
        service = startProxy(self, config)
        security = makeInitiator(AuthType.NTLM, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        nspi = yield connectRPC(
            reactor, PROXY_HOST, service.ports["exchange_nsp"], [lookupByName("exchange_nsp").syntaxId], security=security
        )
        answer = yield nspi.call(0, N.NspiBindRequest(dwFlags=0, pStat=T.STAT(CodePage=1252)).encode())
        handle = N.NspiBindResponse.decode(answer).contextHandle
        # (tshark 4.0's NSPI dissector follows an old IDL and reports a
        # QueryRows request with a NULL pPropTags as malformed; Outlook always
        # sends the columns, so do we.)
        yield nspi.call(
            3,
            N.NspiQueryRowsRequest(
                hRpc=handle, pStat=T.STAT(), Count=5, pPropTags=T.PropertyTagArray_r(aulPropTag=[0x3001001E, PR_EMS_AB_HOME_MDB])
            ).encode(),
        )
        nspi.disconnect()
        security = makeInitiator(AuthType.NTLM, Credentials(CLIENT_USER, CLIENT_PASSWORD, CLIENT_DOMAIN))
        rfr = yield connectRPC(
            reactor, PROXY_HOST, service.ports["exchange_ds_rfr"], [lookupByName("exchange_ds_rfr").syntaxId], security=security
        )
        yield rfr.call(0, R.RfrGetNewDSARequest(ulFlags=0, pUserDN="/o=x/cn=alice", ppszServer=None, ppszServerPresent=True).encode())
        rfr.disconnect()
        yield service.stopService()
        self.assertEqual(os.stat(pcap).st_mode & 0o777, 0o600)
        self.assertEqual(malformedFrames(pcap), [])
        import subprocess

        def fields(filter, field):
            out = subprocess.run(
                ["tshark", "-r", pcap, "-Y", filter, "-T", "fields", "-e", field],
                capture_output=True, text=True, timeout=60,
            ).stdout
            return [line for line in out.splitlines() if line]

        self.assertEqual(fields("nspi", "nspi.opnum"), ["0", "0", "3", "3"])
        self.assertEqual(fields("rfr", "rfr.opnum"), ["0", "0"])
        self.assertIn("/o=x/cn=alice", fields("rfr", "rfr.RfrGetNewDSA.pUserDN"))
