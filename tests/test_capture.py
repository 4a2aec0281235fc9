"""
Tests for L{mapiproxy.capture}: the decrypted capture export.

The captures are read back two ways: by a small pcap/Ethernet/IP/TCP parser
of this module (with its own plain RFC 1071 checksum) feeding the stream to
L{mapiproxy.dcerpc.framing.Framer} and L{mapiproxy.dcerpc.pdu.decode}, and
by tshark, the independent validator, whose NSPI, RFR and MAPI dissectors
judge the stubs (built with impacket's NDR classes and with
L{mapiproxy.interfaces.emsmdb}).
"""

import atexit
import ipaddress
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from impacket.dcerpc.v5 import nspi, oxabref
from impacket.dcerpc.v5.dtypes import DWORD
from impacket.dcerpc.v5.ndr import NULL
from twisted.internet.address import IPv4Address
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy import capture
from mapiproxy.capture import CLIENT_PORTS, DCERPC_PORT, MAX_FRAGMENT, MAX_SEGMENT, PcapWriter
from mapiproxy.dcerpc import pdu
from mapiproxy.dcerpc.constants import PFC, PType, Status
from mapiproxy.dcerpc.framing import Framer, Reassembler
from mapiproxy.errors import ConfigError, MalformedPDU
from mapiproxy.interfaces.emsmdb import (
    EMSMDB,
    EcDoConnectRequest,
    EcDoConnectResponse,
    EcDoRpcExt2Request,
    EcDoRpcExt2Response,
)
from mapiproxy.interfaces.registry import EXCHANGE_DS_RFR, EXCHANGE_EMSMDB, EXCHANGE_NSP
from tests.peers import requireTool
from tests.tshark import malformedFrames, summary

NSPI = EXCHANGE_NSP.syntaxId
RFR = EXCHANGE_DS_RFR.syntaxId
MAPI = EXCHANGE_EMSMDB.syntaxId

CLIENT4 = ("127.0.0.1", 40000)
SERVER4 = ("127.0.0.2", 6004)
CLIENT6 = ("::1", 40001)
SERVER6 = ("::1", 6001)

START = 1700000000.25

_TCP_FLAGS = {"FIN": 0x01, "SYN": 0x02, "PSH": 0x08, "ACK": 0x10}


# -- stubs --------------------------------------------------------------------


def nspiBindStubs():
    """
    NspiBind request and response stubs ([MS-OXNSPI] 3.1.4.1) from impacket.

    @rtype: L{tuple} of L{bytes}
    """
    request = nspi.NspiBind()
    request["dwFlags"] = 0
    request["pStat"]["CodePage"] = 1252
    request["pServerGuid"] = NULL
    response = nspi.NspiBindResponse()
    response["pServerGuid"] = NULL
    response["contextHandle"]["context_handle_uuid"] = b"\x11" * 16
    response["ErrorCode"] = 0
    return request.getData(), response.getData()


def nspiQueryRowsStubs(rows):
    """
    NspiQueryRows request and response stubs ([MS-OXNSPI] 3.1.4.8) from
    impacket, the response with C{rows} rows of two string properties.

    @rtype: L{tuple} of L{bytes}
    """
    request = nspi.NspiQueryRows()
    request["hRpc"]["context_handle_uuid"] = b"\x11" * 16
    request["dwFlags"] = 0
    request["pStat"]["CodePage"] = 1252
    request["dwETableCount"] = 0
    request["lpETable"] = NULL
    request["Count"] = rows
    tags = (0x3001001F, 0x3003001F)
    for tag in tags:
        item = DWORD()
        item["Data"] = tag
        request["pPropTags"]["aulPropTag"].append(item)
    request["pPropTags"]["cValues"] = len(tags)
    # [MS-OXNSPI] 2.3.1.1: size_is(cValues + 1), length_is(cValues).
    request.fields["pPropTags"].fields["Data"].fields["aulPropTag"].fields["MaximumCount"] = (
        len(tags) + 1
    )
    response = nspi.NspiQueryRowsResponse()
    response["pStat"]["CodePage"] = 1252
    rowSet = nspi.PropertyRowSet_r()
    for index in range(rows):
        row = nspi.PropertyRow_r()
        row["Reserved"] = 0
        values = []
        for tag, text in (
            (0x3001001F, "Recipient number %d of the address book" % (index,)),
            (0x3003001F, "user%d@example.test" % (index,)),
        ):
            value = nspi.PropertyValue_r()
            value["ulPropTag"] = tag
            value["ulReserved"] = 0
            value["Value"]["tag"] = tag & 0xFFFF
            value["Value"]["lpszW"] = text + "\x00"
            values.append(value)
        row["cValues"] = len(values)
        row["lpProps"] = values
        rowSet["aRow"].append(row)
    rowSet["cRows"] = rows
    response["ppRows"] = rowSet
    response["ErrorCode"] = 0
    return request.getData(), response.getData()


def nspiUnbindStub():
    """
    An NspiUnbind request stub ([MS-OXNSPI] 3.1.4.2) from impacket.

    @rtype: L{bytes}
    """
    request = nspi.NspiUnbind()
    request["contextHandle"]["context_handle_uuid"] = b"\x11" * 16
    request["Reserved"] = 0
    return request.getData()


def rfrGetNewDSAStubs(userDN):
    """
    RfrGetNewDSA request and response stubs ([MS-OXABREF] 3.1.4.1) from
    impacket, with the u32 return value impacket's response lacks.

    @rtype: L{tuple} of L{bytes}
    """
    request = oxabref.RfrGetNewDSA()
    request["ulFlags"] = 0
    request["pUserDN"] = userDN + "\x00"
    request["ppszUnused"] = NULL
    request["ppszServer"] = NULL
    response = oxabref.RfrGetNewDSAResponse()
    response["ppszUnused"] = NULL
    response["ppszServer"] = NULL
    return request.getData(), response.getData() + struct.pack("<I", 0)


def ecDoConnectStubs(userDN):
    """
    EcDoConnect request and response stubs from our EMSMDB codec.

    @rtype: L{tuple} of L{bytes}
    """
    request = EMSMDB.encodeRequest(
        0, EcDoConnectRequest(szUserDN=userDN, ulCpid=1252, rgwClientVersion=(12, 0, 4518))
    )
    response = EMSMDB.encodeResponse(
        0,
        EcDoConnectResponse(
            pcmsPollsMax=60000,
            szDNPrefix="/o=First Organization",
            szDisplayName="User",
            rgwServerVersion=(8, 0, 685),
        ),
    )
    return request, response


def ecDoRpcExt2Stubs(size):
    """
    EcDoRpcExt2 stubs ([MS-OXCRPC] 3.1.4.2) carrying C{size} bytes of
    C{rgbIn}, from our EMSMDB codec.

    @rtype: L{tuple} of L{bytes}
    """
    payload = bytes(range(256)) * (size // 256) + b"\x07" * (size % 256)
    request = EMSMDB.encodeRequest(11, EcDoRpcExt2Request(rgbIn=payload, pcbOut=0x40000))
    response = EMSMDB.encodeResponse(11, EcDoRpcExt2Response(rgbOut=b"\x00" * 32))
    return request, response


# -- reading captures back ------------------------------------------------------


def plainChecksum(data):
    """
    The Internet checksum (RFC 1071), the plain big-endian way.

    @rtype: L{int}
    """
    if len(data) % 2:
        data += b"\x00"
    total = 0
    for index in range(0, len(data), 2):
        total += (data[index] << 8) | data[index + 1]
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def readPcap(path):
    """
    Read a classic libpcap file.

    @return: the global header fields and C{(seconds, micros, captured,
        original, data)} per packet.
    @rtype: L{tuple}
    """
    with open(path, "rb") as f:
        data = f.read()
    header = struct.unpack_from("<IHHiIII", data, 0)
    packets = []
    offset = 24
    while offset < len(data):
        seconds, micros, captured, original = struct.unpack_from("<IIII", data, offset)
        offset += 16
        packets.append((seconds, micros, captured, original, data[offset : offset + captured]))
        offset += captured
    return header, packets


class Segment:
    """
    One parsed Ethernet/IP/TCP frame.
    """

    def __init__(self, frame):
        self.frame = frame
        ethertype = frame[12:14]
        ip = frame[14:]
        if ethertype == b"\x08\x00":
            self.version = 4
            headerLength = (ip[0] & 0x0F) * 4
            self.ipHeader = ip[:headerLength]
            self.source = ipaddress.ip_address(ip[12:16])
            self.destination = ipaddress.ip_address(ip[16:20])
            self.ipLength = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[headerLength : self.ipLength]
            pseudo = ip[12:20] + struct.pack("!xBH", 6, len(tcp))
        else:
            self.version = 6
            self.ipHeader = ip[:40]
            self.source = ipaddress.ip_address(ip[8:24])
            self.destination = ipaddress.ip_address(ip[24:40])
            self.ipLength = 40 + struct.unpack("!H", ip[4:6])[0]
            tcp = ip[40 : self.ipLength]
            pseudo = ip[8:40] + struct.pack("!IxxxB", len(tcp), 6)
        self._pseudo = pseudo
        self._tcp = tcp
        (
            self.sourcePort,
            self.destinationPort,
            self.seq,
            self.ack,
            offset,
            self.flags,
            self.window,
        ) = struct.unpack("!HHIIBBH", tcp[:16])
        self.options = tcp[20 : (offset >> 4) * 4]
        self.payload = tcp[(offset >> 4) * 4 :]

    @property
    def tcpChecksumValid(self):
        return plainChecksum(self._pseudo + self._tcp) == 0

    @property
    def ipChecksumValid(self):
        return self.version == 6 or plainChecksum(self.ipHeader) == 0

    @property
    def key(self):
        return (str(self.source), self.sourcePort, str(self.destination), self.destinationPort)

    def has(self, *names):
        return all(self.flags & _TCP_FLAGS[name] for name in names)


def segments(path):
    """
    @return: every frame of a capture, parsed.
    @rtype: L{list} of L{Segment}
    """
    return [Segment(packet[4]) for packet in readPcap(path)[1]]


def streams(parsed):
    """
    Join the TCP payload of each direction, checking that every segment
    starts where the previous one ended.

    @return: C{{key: bytes}}.
    @raise AssertionError: a gap or an overlap.
    """
    data = {}
    nextSeq = {}
    for segment in parsed:
        key = segment.key
        if segment.has("SYN"):
            nextSeq[key] = segment.seq + 1
            data[key] = b""
            continue
        if segment.payload:
            if segment.seq != nextSeq[key]:
                raise AssertionError("segment at %d, expected %d" % (segment.seq, nextSeq[key]))
            data[key] += segment.payload
            nextSeq[key] += len(segment.payload)
    return data


def decodePDUs(stream):
    """
    Cut a stream into fragments and decode each.

    @rtype: L{list} of PDU objects
    """
    framer = Framer()
    return [pdu.decode(fragment) for fragment in framer.feed(stream)]


def callStubs(pdus):
    """
    Reassemble the request/response stubs of decoded PDUs by call id.

    @return: C{(ptype, callId, stub)} per complete call stub, in order.
    @rtype: L{list} of L{tuple}
    """
    reassembler = Reassembler(1 << 30)
    stubs = []
    for each in pdus:
        if each.PTYPE in (PType.REQUEST, PType.RESPONSE):
            whole = reassembler.add(each.callId, each.stub, each.pfcFlags)
            if whole is not None:
                stubs.append((each.PTYPE, each.callId, whole))
    return stubs


def tshark(path, *arguments):
    """
    Run C{tshark -n -r path} with checksum validation on, returning its
    output lines.

    @rtype: L{list} of L{str}
    """
    requireTool("tshark")
    argv = [
        "tshark",
        "-n",
        "-r",
        path,
        "-o",
        "tcp.check_checksum:TRUE",
        "-o",
        "ip.check_checksum:TRUE",
    ] + list(arguments)
    result = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=True
    )
    return [line for line in result.stdout.decode("utf-8", "replace").splitlines() if line]


def fields(path, displayFilter, *names):
    """
    One tuple of field values per frame matching C{displayFilter}.

    @rtype: L{list} of L{tuple} of L{str}
    """
    arguments = ["-Y", displayFilter, "-T", "fields", "-E", "separator=/t"]
    for name in names:
        arguments += ["-e", name]
    return [tuple(line.split("\t")) for line in tshark(path, *arguments)]


class Clock:
    """
    A settable clock.
    """

    def __init__(self, now=START):
        self.now = now

    def __call__(self):
        return self.now


# -- the scenario -------------------------------------------------------------


class Scenario:
    """
    A capture with two associations, written once per test class:

      - IPv4: NspiBind, a second context (RFR, by alter_context) with
        RfrGetNewDSA, an NspiQueryRows whose response is about 200 KB, an
        NspiUnbind answered by a fault; closed by C{closeConnection}.
      - IPv6: EcDoConnect (with an object UUID), then EcDoRpcExt2 whose
        request is about 200 KB; closed by C{close}.
    """

    USER_DN = "/o=First Organization/ou=Exchange/cn=Recipients/cn=user"
    OBJECT = uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")
    ROWS = 1000

    def __init__(self, directory):
        self.path = os.path.join(directory, "scenario.pcap")
        self.nspiBind = nspiBindStubs()
        self.rfr = rfrGetNewDSAStubs(self.USER_DN)
        self.queryRows = nspiQueryRowsStubs(self.ROWS)
        self.unbind = nspiUnbindStub()
        self.connect = ecDoConnectStubs(self.USER_DN)
        self.rpcExt2 = ecDoRpcExt2Stubs(200000)
        writer = PcapWriter(self.path, clock=Clock())
        writer.record("v4", CLIENT4, SERVER4, NSPI, 0, 1, 0, *self.nspiBind)
        writer.record("v4", CLIENT4, SERVER4, RFR, 1, 2, 0, *self.rfr)
        writer.record("v4", CLIENT4, SERVER4, NSPI, 0, 3, 3, *self.queryRows)
        writer.record(
            "v4",
            CLIENT4,
            SERVER4,
            NSPI,
            0,
            4,
            1,
            self.unbind,
            faultStatus=Status.NCA_S_OP_RNG_ERROR,
        )
        writer.record("v6", CLIENT6, SERVER6, MAPI, 0, 1, 0, *self.connect, objectUuid=self.OBJECT)
        writer.record("v6", CLIENT6, SERVER6, MAPI, 0, 2, 11, *self.rpcExt2)
        writer.closeConnection("v4")
        writer.close()


_SCENARIO = []


def scenario():
    """
    The L{Scenario}, written on first use into a temporary directory that
    is removed when the process exits (trial has no per-class fixtures).

    @rtype: L{Scenario}
    """
    if not _SCENARIO:
        directory = tempfile.mkdtemp(prefix="mapiproxy-capture-test-")
        atexit.register(shutil.rmtree, directory, True)
        _SCENARIO.append(Scenario(directory))
    return _SCENARIO[0]


class ScenarioTests(SynchronousTestCase):
    """
    The scenario capture, read back by tshark and by the parser above.
    """

    def setUp(self):
        self.scenario = scenario()

    def test_noMalformedFrames(self):
        """
        tshark dissects every frame without a malformed packet or an
        error-level expert message.
        """
        self.assertEqual(malformedFrames(self.scenario.path), [])

    def test_checksumsAndTcpAnalysis(self):
        """
        With checksum validation on, tshark finds every IP and TCP checksum
        good and raises no TCP analysis flag (no lost segment, no
        retransmission, no window problem).
        """
        allFrames = tshark(self.scenario.path, "-T", "fields", "-e", "frame.number")
        good = fields(self.scenario.path, "tcp.checksum.status == 1", "frame.number")
        self.assertEqual(len(good), len(allFrames))
        self.assertEqual(
            fields(
                self.scenario.path,
                "tcp.analysis.flags || ip.checksum.status == 0 || "
                "tcp.checksum.status != 1 || _ws.expert.severity >= warning",
                "frame.number",
                "_ws.expert.message",
            ),
            [],
        )

    def test_nspiOpnums(self):
        """
        tshark's NSPI dissector sees NspiBind and NspiQueryRows, request and
        response, and the NspiUnbind request.
        """
        self.assertEqual(
            fields(self.scenario.path, "nspi", "nspi.opnum"),
            [("0",), ("0",), ("3",), ("3",), ("1",)],
        )

    def test_rfrGetNewDSA(self):
        """
        tshark's RFR dissector sees RfrGetNewDSA with the user DN sent.
        """
        rows = fields(
            self.scenario.path, "rfr", "rfr.opnum", "rfr.RfrGetNewDSA.pUserDN", "_ws.col.Info"
        )
        self.assertEqual(
            rows,
            [
                ("0", Scenario.USER_DN, "RfrGetNewDSA request"),
                ("0", "", "RfrGetNewDSA response"),
            ],
        )

    def test_mapiEcDoConnect(self):
        """
        tshark's MAPI dissector decodes the EcDoConnect request, over IPv6,
        with the user DN sent.
        """
        rows = fields(
            self.scenario.path,
            "mapi.opnum == 0",
            "ipv6.src",
            "mapi.EcDoConnect.name",
            "dcerpc.pkt_type",
        )
        self.assertEqual(rows, [("::1", Scenario.USER_DN, "0"), ("::1", "", "2")])

    def test_objectUuid(self):
        """
        The EcDoConnect request carries the object UUID given to record.
        """
        rows = fields(
            self.scenario.path, "dcerpc.cn_flags.object == 1", "dcerpc.obj_id", "mapi.opnum"
        )
        self.assertEqual(rows, [(str(Scenario.OBJECT), "0")])

    def test_fault(self):
        """
        The NspiUnbind call is answered by a fault PDU with the status given.
        """
        rows = fields(
            self.scenario.path, "dcerpc.pkt_type == 3", "dcerpc.cn_status", "dcerpc.cn_call_id"
        )
        self.assertEqual(rows, [("0x%08x" % (Status.NCA_S_OP_RNG_ERROR,), "4")])

    def test_bindAndAlterContext(self):
        """
        Each connection starts with one bind and bind_ack; the second
        context of the IPv4 association comes by alter_context, naming RFR
        as context 1.
        """
        rows = summary(
            self.scenario.path,
            fields=("dcerpc.pkt_type", "dcerpc.cn_ctx_id", "_ws.col.Info"),
            displayFilter="dcerpc.pkt_type >= 11",
        )
        self.assertEqual(
            [(row["dcerpc.pkt_type"], row["dcerpc.cn_ctx_id"]) for row in rows],
            [("11", "0"), ("12", ""), ("14", "1"), ("15", ""), ("11", "0"), ("12", "")],
        )
        self.assertIn("RFR V1.0", rows[2]["_ws.col.Info"])
        self.assertIn("NSPI V56.0", rows[0]["_ws.col.Info"])
        self.assertIn("MAPI V0.81", rows[4]["_ws.col.Info"])

    def test_reassembly(self):
        """
        tshark reassembles the 200 KB NspiQueryRows response and the 200 KB
        EcDoRpcExt2 request from all their fragments.
        """
        rows = fields(
            self.scenario.path,
            "dcerpc.reassembled.length",
            "dcerpc.pkt_type",
            "dcerpc.fragment.count",
            "dcerpc.reassembled.length",
        )
        rows = [(set(types.split(",")), count, length) for types, count, length in rows]
        big = [
            (PType.RESPONSE, self.scenario.queryRows[1]),
            (PType.REQUEST, self.scenario.rpcExt2[0]),
        ]
        expected = []
        for ptype, stub in big:
            perFragment = MAX_FRAGMENT - pdu.headerLength(ptype)
            count = -(-len(stub) // perFragment)
            expected.append(({"%d" % (ptype,)}, "%d" % (count,), "%d" % (len(stub),)))
        self.assertEqual(rows, expected)
        self.assertGreater(len(self.scenario.queryRows[1]), 190000)

    def test_fragmentsAndStubs(self):
        """
        Read back without tshark, both streams cut into fragments of at most
        L{MAX_FRAGMENT} bytes whose stubs reassemble to exactly the stubs
        recorded, with alloc_hint the bytes left.
        """
        data = streams(segments(self.scenario.path))
        self.assertEqual(len(data), 4)
        byPort = {}
        for (source, sourcePort, _, destinationPort), stream in data.items():
            byPort[(source, sourcePort == DCERPC_PORT)] = decodePDUs(stream)
        s = self.scenario
        self.assertEqual(
            callStubs(byPort[("127.0.0.1", False)]),
            [
                (PType.REQUEST, 1, s.nspiBind[0]),
                (PType.REQUEST, 2, s.rfr[0]),
                (PType.REQUEST, 3, s.queryRows[0]),
                (PType.REQUEST, 4, s.unbind),
            ],
        )
        self.assertEqual(
            callStubs(byPort[("127.0.0.2", True)]),
            [
                (PType.RESPONSE, 1, s.nspiBind[1]),
                (PType.RESPONSE, 2, s.rfr[1]),
                (PType.RESPONSE, 3, s.queryRows[1]),
            ],
        )
        self.assertEqual(
            callStubs(byPort[("::1", False)]),
            [(PType.REQUEST, 1, s.connect[0]), (PType.REQUEST, 2, s.rpcExt2[0])],
        )
        responses = [p for p in byPort[("127.0.0.2", True)] if p.PTYPE == PType.RESPONSE]
        self.assertTrue(all(len(pdu.encode(p)) <= MAX_FRAGMENT for p in responses))
        big = [p for p in responses if p.callId == 3]
        self.assertGreater(len(big), 30)
        self.assertEqual(big[0].pfcFlags & 3, PFC.FIRST_FRAG)
        self.assertEqual(big[-1].pfcFlags & 3, PFC.LAST_FRAG)
        self.assertTrue(all(p.pfcFlags & 3 == 0 for p in big[1:-1]))
        left = len(s.queryRows[1])
        for fragment in big:
            self.assertEqual(fragment.allocHint, left)
            left -= len(fragment.stub)
        self.assertEqual(left, 0)

    def test_segmentsBounded(self):
        """
        No TCP segment carries more than L{MAX_SEGMENT} bytes, and big stubs
        span several segments.
        """
        parsed = segments(self.scenario.path)
        sizes = [len(segment.payload) for segment in parsed]
        self.assertLessEqual(max(sizes), MAX_SEGMENT)
        self.assertGreaterEqual(sizes.count(MAX_SEGMENT), 4)

    def test_checksumsPlain(self):
        """
        Every IPv4 header checksum and TCP checksum verifies with a plain
        RFC 1071 implementation, over IPv4 and IPv6 pseudo-headers.
        """
        parsed = segments(self.scenario.path)
        self.assertEqual({segment.version for segment in parsed}, {4, 6})
        self.assertTrue(all(segment.ipChecksumValid for segment in parsed))
        self.assertTrue(all(segment.tcpChecksumValid for segment in parsed))

    def test_closing(self):
        """
        Both connections end with FIN/ACK from the client, FIN/ACK from the
        server and the client's last ACK, each acknowledging the FIN before.
        """
        parsed = segments(self.scenario.path)
        for version in (4, 6):
            tail = [s for s in parsed if s.version == version][-3:]
            self.assertEqual(
                [(s.destinationPort == DCERPC_PORT, s.flags) for s in tail],
                [(True, 0x11), (False, 0x11), (True, 0x10)],
            )
            self.assertEqual(tail[1].ack, tail[0].seq + 1)
            self.assertEqual(tail[2].ack, tail[1].seq + 1)
            self.assertEqual(tail[2].seq, tail[0].seq + 1)


# -- the writer, piece by piece -----------------------------------------------


class PcapWriterTests(SynchronousTestCase):
    """
    L{PcapWriter} on small captures.
    """

    def setUp(self):
        self.path = self.mktemp()
        self.clock = Clock()

    def writer(self, **kwargs):
        writer = PcapWriter(self.path, clock=self.clock, **kwargs)
        self.addCleanup(writer.close)
        return writer

    def test_globalHeader(self):
        """
        The file starts with the classic libpcap header: magic 0xa1b2c3d4,
        version 2.4, snaplen 262144, link type Ethernet.
        """
        self.writer().close()
        with open(self.path, "rb") as f:
            self.assertEqual(
                f.read(),
                b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00"
                b"\x00\x00\x00\x00\x00\x00\x00\x00"
                b"\x00\x00\x04\x00\x01\x00\x00\x00",
            )

    def test_fileMode(self):
        """
        The file is created with mode 0600.
        """
        self.writer()
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)

    def test_existingFileTruncatedAndRestricted(self):
        """
        An existing world-readable file is truncated and its mode set to 0600.
        """
        with open(self.path, "wb") as f:
            f.write(b"old secrets" * 100)
        os.chmod(self.path, 0o644)
        self.writer().close()
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        self.assertEqual(os.path.getsize(self.path), 24)

    def test_unwritablePath(self):
        """
        A path that cannot be created raises L{ConfigError} naming the path
        and the option.
        """
        path = os.path.join(self.mktemp(), "missing", "x.pcap")
        error = self.assertRaises(ConfigError, PcapWriter, path)
        self.assertIn(path, str(error))
        self.assertEqual(error.option, "dcerpc_mapiproxy:pcap")

    def test_flushedAfterEachCall(self):
        """
        Each recorded call is on disk before the writer is closed.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, *nspiBindStubs())
        parsed = segments(self.path)
        self.assertEqual(len(parsed), 7)

    def test_handshake(self):
        """
        A connection starts with SYN, SYN/ACK and ACK, the first two with
        the MSS and window scale options, the ACK acknowledging the server's
        SYN; the bind follows at the next sequence number.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, *nspiBindStubs())
        syn, synAck, ack, bind = segments(self.path)[:4]
        self.assertEqual((syn.flags, synAck.flags, ack.flags), (0x02, 0x12, 0x10))
        self.assertEqual(synAck.ack, syn.seq + 1)
        self.assertEqual(ack.ack, synAck.seq + 1)
        self.assertEqual(ack.seq, syn.seq + 1)
        self.assertEqual(bind.seq, ack.seq)
        self.assertEqual(
            syn.options, b"\x02\x04" + struct.pack("!H", MAX_SEGMENT) + b"\x01\x03\x03\x07"
        )
        self.assertEqual(synAck.options, syn.options)
        self.assertEqual(ack.options, b"")

    def test_acknowledgements(self):
        """
        Every segment after the SYN acknowledges all the other side sent,
        and the last segment of each burst has PSH.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, *nspiBindStubs())
        parsed = segments(self.path)
        sent = {}
        for segment in parsed:
            if segment.has("SYN"):
                sent[segment.key] = segment.seq + 1
            else:
                reverse = segment.key[2:] + segment.key[:2]
                self.assertEqual(segment.ack, sent[reverse])
                sent[segment.key] += len(segment.payload)
            if segment.payload:
                self.assertTrue(segment.has("PSH", "ACK"))

    def test_syntheticPorts(self):
        """
        By default every server gets the endpoint mapper port and every
        connection a client port of its own from L{CLIENT_PORTS}; the
        addresses stay real.
        """
        writer = self.writer()
        writer.record(1, ("10.1.2.3", 5000), ("10.9.8.7", 6001), NSPI, 0, 1, 0, b"", b"")
        writer.record(2, ("10.1.2.3", 5001), ("10.9.8.7", 6004), NSPI, 0, 1, 0, b"", b"")
        keys = {segment.key for segment in segments(self.path)}
        first, second = CLIENT_PORTS[0], CLIENT_PORTS[1]
        self.assertEqual(
            keys,
            {
                ("10.1.2.3", first, "10.9.8.7", DCERPC_PORT),
                ("10.9.8.7", DCERPC_PORT, "10.1.2.3", first),
                ("10.1.2.3", second, "10.9.8.7", DCERPC_PORT),
                ("10.9.8.7", DCERPC_PORT, "10.1.2.3", second),
            },
        )

    def test_realPorts(self):
        """
        With C{realPorts}, the ports given are written, and the bind_ack
        names the server's port as its secondary address.
        """
        writer = self.writer(realPorts=True)
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        parsed = segments(self.path)
        self.assertEqual(parsed[0].key, ("127.0.0.1", 40000, "127.0.0.2", 6004))
        pdus = decodePDUs(streams(parsed)[("127.0.0.2", 6004, "127.0.0.1", 40000)])
        self.assertEqual(pdus[0].secondaryAddress, b"6004")

    def test_sameAddressesKeptApart(self):
        """
        Two open connections given the same addresses and ports become two
        TCP streams with different client ports.
        """
        writer = self.writer(realPorts=True)
        writer.record("a", CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        writer.record("b", CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        syns = [s for s in segments(self.path) if s.flags == 0x02]
        self.assertEqual([s.sourcePort for s in syns], [40000, 40001])

    def test_twistedAddresses(self):
        """
        Twisted address objects are accepted for the client and server.
        """
        writer = self.writer(realPorts=True)
        writer.record(
            1,
            IPv4Address("TCP", "192.0.2.1", 1234),
            IPv4Address("TCP", "192.0.2.2", 6004),
            NSPI,
            0,
            1,
            0,
            b"",
            b"",
        )
        self.assertEqual(segments(self.path)[0].key, ("192.0.2.1", 1234, "192.0.2.2", 6004))

    def test_mixedFamilies(self):
        """
        An IPv4 client of an IPv6 server is written over IPv6 with an
        IPv4-mapped address.
        """
        writer = self.writer()
        writer.record(1, ("192.0.2.1", 1234), ("2001:db8::2", 6004), NSPI, 0, 1, 0, b"", b"")
        first = segments(self.path)[0]
        self.assertEqual(first.version, 6)
        self.assertEqual(str(first.source), "::ffff:c000:201")
        self.assertEqual(str(first.destination), "2001:db8::2")

    def test_timestamps(self):
        """
        Packets carry the clock's time, each at least one microsecond after
        the one before, even when the clock stands still or goes back.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        self.clock.now = START - 10
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 2, 0, b"", b"")
        self.clock.now = START + 5
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 3, 0, b"", b"")
        stamps = [seconds * 1000000 + micros for seconds, micros, _, _, _ in readPcap(self.path)[1]]
        base = int(START * 1000000)
        self.assertEqual(len(stamps), 11)
        self.assertEqual(stamps[:9], list(range(base, base + 9)))
        self.assertEqual(stamps[9:], [base + 5000000, base + 5000001])

    def test_recordLengths(self):
        """
        Every record holds the whole frame: captured length equals the
        original length, below the snaplen.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"\x01" * 150000, b"")
        header, packets = readPcap(self.path)
        for _, _, captured, original, data in packets:
            self.assertEqual(captured, original)
            self.assertEqual(len(data), captured)
            self.assertLessEqual(captured, header[5])

    def test_noResponse(self):
        """
        A call without response or fault ends with the server's pure ACK of
        the request.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"\x01" * 100)
        parsed = segments(self.path)
        request, ack = parsed[-2:]
        self.assertEqual(request.destinationPort, DCERPC_PORT)
        self.assertEqual((ack.flags, ack.payload), (0x10, b""))
        self.assertEqual(ack.ack, request.seq + len(request.payload))
        pdus = decodePDUs(streams(parsed)[request.key])
        self.assertEqual([p.PTYPE for p in pdus], [PType.BIND, PType.REQUEST])

    def test_faultWinsOverResponse(self):
        """
        Given both a response stub and a fault status, the fault is written.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 9, 0, b"", b"\x00" * 8, faultStatus=5)
        serverStream = [s for k, s in streams(segments(self.path)).items() if k[1] == DCERPC_PORT]
        pdus = decodePDUs(serverStream[0])
        self.assertEqual([p.PTYPE for p in pdus], [PType.BIND_ACK, PType.FAULT])
        self.assertEqual((pdus[1].status, pdus[1].callId), (5, 9))

    def test_bindOncePerContext(self):
        """
        A context is bound once; a new context id brings an alter_context,
        and so does a context id reused with another interface.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 2, 0, b"", b"")
        writer.record(1, CLIENT4, SERVER4, RFR, 1, 3, 0, b"", b"")
        writer.record(1, CLIENT4, SERVER4, RFR, 1, 4, 0, b"", b"")
        writer.record(1, CLIENT4, SERVER4, MAPI, 1, 5, 0, b"", b"")
        clientStream = [s for k, s in streams(segments(self.path)).items() if k[3] == DCERPC_PORT]
        pdus = decodePDUs(clientStream[0])
        self.assertEqual(
            [(p.PTYPE, p.callId) for p in pdus],
            [
                (PType.BIND, 1),
                (PType.REQUEST, 1),
                (PType.REQUEST, 2),
                (PType.ALTER_CONTEXT, 3),
                (PType.REQUEST, 3),
                (PType.REQUEST, 4),
                (PType.ALTER_CONTEXT, 5),
                (PType.REQUEST, 5),
            ],
        )
        self.assertEqual(
            [
                (p.contexts[0].contextId, p.contexts[0].abstractSyntax)
                for p in pdus
                if p.PTYPE != PType.REQUEST
            ],
            [(0, NSPI), (1, RFR), (1, MAPI)],
        )
        self.assertEqual(pdus[0].contexts[0].transferSyntaxes, [pdu.NDR_SYNTAX])
        self.assertTrue(all(p.auth is None for p in pdus))

    def test_closeConnectionUnknown(self):
        """
        Closing a connection that never had a call writes nothing.
        """
        writer = self.writer()
        writer.closeConnection("nobody")
        self.assertEqual(os.path.getsize(self.path), 24)

    def test_newConnectionAfterClose(self):
        """
        A key used again after closeConnection starts a new TCP connection
        with a new handshake and bind.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        writer.closeConnection(1)
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        parsed = segments(self.path)
        self.assertEqual(len([s for s in parsed if s.flags == 0x02]), 2)
        self.assertEqual(len([s for s in parsed if s.flags == 0x11]), 2)

    def test_closeIdempotent(self):
        """
        close can be called twice, and calls recorded afterwards are ignored.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", b"")
        writer.close()
        size = os.path.getsize(self.path)
        writer.close()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 2, 0, b"", b"")
        writer.closeConnection(1)
        self.assertTrue(writer.closed)
        self.assertEqual(os.path.getsize(self.path), size)

    def test_unencodableCallSkipped(self):
        """
        A call with an opnum that does not fit 16 bits is logged and
        skipped without any trace in the file; the next call of that
        connection starts it properly.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0x10000, b"", b"")
        self.assertEqual(len(self.flushLoggedErrors(MalformedPDU)), 1)
        self.assertEqual(os.path.getsize(self.path), 24)
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 2, 3, b"", b"")
        parsed = segments(self.path)
        self.assertEqual(parsed[0].flags, 0x02)
        self.assertEqual(len(parsed), 7)

    def test_unencodableCallKeepsConnection(self):
        """
        A bad call in the middle of a connection leaves the stream intact:
        the next call continues at the right sequence numbers.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"abc", b"def")
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, -1, 0, b"", b"")
        writer.record(1, CLIENT4, SERVER4, NSPI, 70000, 2, 0, b"", b"")
        self.assertEqual(len(self.flushLoggedErrors(MalformedPDU)), 2)
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 3, 0, b"ghi", b"jkl")
        data = streams(segments(self.path))
        stubs = [callStubs(decodePDUs(stream)) for stream in data.values()]
        self.assertEqual(
            sorted(stubs),
            sorted(
                [
                    [(PType.REQUEST, 1, b"abc"), (PType.REQUEST, 3, b"ghi")],
                    [(PType.RESPONSE, 1, b"def"), (PType.RESPONSE, 3, b"jkl")],
                ]
            ),
        )

    def test_badAddressSkipped(self):
        """
        An address that is not an IP address is logged and the call skipped.
        """
        writer = self.writer()
        writer.record(1, ("exchange.example.test", 1), SERVER4, NSPI, 0, 1, 0, b"", b"")
        writer.record(2, CLIENT4, ("127.0.0.2", 70000), NSPI, 0, 1, 0, b"", b"")
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 2)
        self.assertEqual(os.path.getsize(self.path), 24)

    def test_nonBytesStubSkipped(self):
        """
        A stub that is not bytes-like is logged and the call skipped.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, "text", b"")
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, b"", 42)
        self.assertEqual(len(self.flushLoggedErrors(MalformedPDU)), 2)
        self.assertEqual(os.path.getsize(self.path), 24)

    def test_bytesLikeStubs(self):
        """
        bytearray and memoryview stubs are written as their bytes.
        """
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 0, bytearray(b"req"), memoryview(b"resp"))
        stubs = [callStubs(decodePDUs(s)) for s in streams(segments(self.path)).values()]
        self.assertEqual(
            sorted(stubs), [[(PType.REQUEST, 1, b"req")], [(PType.RESPONSE, 1, b"resp")]]
        )

    def test_hugeStub(self):
        """
        A stub over 16 MB is written whole, in segments of at most
        L{MAX_SEGMENT} bytes, with the server acknowledging on its way so
        that less than 1 MiB plus a segment is ever outstanding.
        """
        stub = bytes(range(256)) * (17 * 4096)
        writer = self.writer()
        writer.record(1, CLIENT4, SERVER4, NSPI, 0, 1, 3, stub, b"ok")
        writer.close()
        parsed = segments(self.path)
        self.assertLessEqual(max(len(s.payload) for s in parsed), MAX_SEGMENT)
        clientKey = parsed[0].key
        stream = streams(parsed)[clientKey]
        self.assertEqual(callStubs(decodePDUs(stream)), [(PType.REQUEST, 1, stub)])
        sent = acked = parsed[0].seq
        for segment in parsed:
            if segment.key == clientKey:
                sent = segment.seq + len(segment.payload)
            elif segment.has("ACK"):
                acked = segment.ack
            self.assertLess(sent - acked, (1 << 20) + MAX_SEGMENT)
        pureAcks = [s for s in parsed if s.key != clientKey and s.flags == 0x10]
        self.assertGreater(len(pureAcks), 0)
        self.assertLessEqual(len(pureAcks), len(stub) // (1 << 20))

    @settings(max_examples=200, deadline=None)
    @given(
        calls=st.lists(
            st.tuples(
                st.integers(0, 3),
                st.integers(0, 14000),
                st.one_of(st.none(), st.integers(0, 14000)),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def test_streamsRoundTrip(self, calls):
        """
        Whatever the stub sizes and contexts, each direction's stream is
        gap-free and reassembles to exactly the stubs recorded.
        """
        path = self.mktemp()
        writer = PcapWriter(path, clock=self.clock)
        expectedRequests, expectedResponses = [], []
        for callId, (contextId, requestSize, responseSize) in enumerate(calls, start=1):
            request = os.urandom(requestSize)
            response = None if responseSize is None else os.urandom(responseSize)
            writer.record(
                1,
                CLIENT6,
                SERVER6,
                [NSPI, RFR, MAPI, NSPI][contextId],
                contextId,
                callId,
                0,
                request,
                response,
            )
            expectedRequests.append((PType.REQUEST, callId, request))
            if response is not None:
                expectedResponses.append((PType.RESPONSE, callId, response))
        writer.close()
        data = streams(segments(path))
        self.assertEqual(len(data), 2)
        for (_, sourcePort, _, _), stream in data.items():
            expected = expectedResponses if sourcePort == DCERPC_PORT else expectedRequests
            self.assertEqual(callStubs(decodePDUs(stream)), expected)


class GarbageTests(SynchronousTestCase):
    """
    Garbage stubs still make a well-formed capture at the TCP and DCE/RPC
    layers.
    """

    def test_garbageStubs(self):
        """
        Random request and response stubs, some big, give a capture whose TCP
        layer tshark finds clean and whose PDU types are bind, bind_ack,
        then request and response per call (the NDR may be malformed).
        """
        path = self.mktemp()
        writer = PcapWriter(path, clock=Clock())
        sizes = [(7, 3), (70001, 13), (1, 150000)]
        for callId, (requestSize, responseSize) in enumerate(sizes, start=1):
            writer.record(
                1,
                CLIENT4,
                SERVER4,
                NSPI,
                0,
                callId,
                callId + 3,
                os.urandom(requestSize),
                os.urandom(responseSize),
            )
        writer.close()
        self.assertEqual(
            fields(
                path,
                "tcp.analysis.flags || tcp.checksum.status != 1 || ip.checksum.status == 0",
                "frame.number",
            ),
            [],
        )
        types = []
        for (value,) in fields(path, "dcerpc", "dcerpc.pkt_type"):
            for ptype in value.split(","):
                if not types or types[-1] != ptype:
                    types.append(ptype)
        self.assertEqual(types, ["11", "12", "0", "2", "0", "2", "0", "2"])
        rows = fields(path, "dcerpc.reassembled.length", "dcerpc.reassembled.length")
        self.assertEqual(rows, [("70001",), ("150000",)])


class PortTests(SynchronousTestCase):
    """
    The synthetic ports against the installed Wireshark.
    """

    def test_portsLeftToHeuristics(self):
        """
        No tshark dissector is registered for TCP port L{DCERPC_PORT} or
        any port of L{CLIENT_PORTS}, so the DCE/RPC heuristic gets every
        synthetic connection.
        """
        requireTool("tshark")
        result = subprocess.run(
            ["tshark", "-G", "decodes"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=120,
            check=True,
        )
        claimed = set()
        for line in result.stdout.decode("utf-8", "replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0] == "tcp.port":
                claimed.add(int(parts[1]))
        self.assertIn(6001, claimed)
        self.assertNotIn(DCERPC_PORT, claimed)
        self.assertEqual(claimed.intersection(CLIENT_PORTS), set())


class ChecksumTests(SynchronousTestCase):
    """
    The checksum helper against the plain implementation.
    """

    @settings(max_examples=200, deadline=None)
    @given(data=st.binary(max_size=3000))
    def test_checksumMatchesPlain(self, data):
        """
        The array-based checksum equals the plain big-endian RFC 1071 sum,
        odd lengths included.
        """
        self.assertEqual(capture._checksum(data[:7], data[7:]), plainChecksum(data))

    def test_rfc1071Example(self):
        """
        The example of RFC 1071 section 3 (sum 0xddf2) gives 0x220d.
        """
        self.assertEqual(capture._checksum(bytes.fromhex("0001f203f4f5f6f7")), 0x220D)
