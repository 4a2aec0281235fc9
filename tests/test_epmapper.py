"""
Tests for L{mapiproxy.epmapper}.

The independent implementation is impacket's C{impacket.dcerpc.v5.epm}:
requests are built exactly as its C{hept_map}/C{hept_lookup} client helpers
build them, and answers are decoded with its response classes and
C{PrintStringBinding}. Where a Samba AD DC can run, the client side is also
run against Samba's real endpoint mapper.
"""

import socket
import struct
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy import epmapper
from mapiproxy.dcerpc.constants import NDR_SYNTAX_UUID, NULL_UUID, Status
from mapiproxy.dcerpc.pdu import SyntaxId
from mapiproxy.epmapper import (
    EPT_S_CANT_PERFORM_OP,
    EPT_S_NOT_REGISTERED,
    NULL_HANDLE,
    EndpointEntry,
    EndpointMapper,
    Floor,
    LookupEntry,
    Tower,
    buildLookupRequest,
    buildMapRequest,
    parseLookupResponse,
    parseMapResponse,
)
from mapiproxy.errors import (
    ConfigError,
    DCERPCFault,
    EndpointNotRegistered,
    MalformedStub,
    UpstreamError,
)
from mapiproxy.interfaces import registry
from tests import peers

SAMR = SyntaxId(uuid.UUID("12345778-1234-abcd-ef00-0123456789ac"), 1, 0)
EMSMDB = SyntaxId(uuid.UUID("a4f1db00-ca47-1067-b31f-00dd010662da"), 0, 81)
NSPI = SyntaxId(uuid.UUID("f5cc5a18-4264-101a-8c59-08002b2f8426"), 56, 0)

#: The ncacn_ip_tcp tower of samr v1.0 at 127.0.0.2:40123, as impacket's
#: floor classes build it (EPMRPCInterface, EPMRPCDataRepresentation,
#: EPMProtocolIdentifier, EPMPortAddr, EPMHostAddr).
SAMR_TOWER = bytes.fromhex(
    "0500"
    "13000d785734123412cdabef000123456789ac0100" "02000000"
    "13000d045d888aeb1cc9119fe808002b10486002000200" "0000"
    "01000b" "02000000"
    "010007" "02009cbb"
    "010009" "04007f000002"
)


def impacketSyntax(syntax):
    """
    The 20-byte syntax impacket's helpers take (C{uuidtup_to_bin}).
    """
    from impacket.uuid import uuidtup_to_bin

    return uuidtup_to_bin((str(syntax.uuid), "%d.%d" % (syntax.version, syntax.versionMinor)))


def impacketMapRequest(syntax, protocol="ncacn_ip_tcp", maxTowers=4):
    """
    The C{ept_map} request stub exactly as impacket's C{epm.hept_map} fills it.
    """
    from impacket.dcerpc.v5 import epm

    remoteIf = impacketSyntax(syntax)
    dataRepresentation = impacketSyntax(SyntaxId(NDR_SYNTAX_UUID, 2, 0))
    tower = epm.EPMTower()
    interface = epm.EPMRPCInterface()
    interface["InterfaceUUID"] = remoteIf[:16]
    interface["MajorVersion"] = struct.unpack("<H", remoteIf[16:18])[0]
    interface["MinorVersion"] = struct.unpack("<H", remoteIf[18:])[0]
    dataRep = epm.EPMRPCDataRepresentation()
    dataRep["DataRepUuid"] = dataRepresentation[:16]
    dataRep["MajorVersion"] = struct.unpack("<H", dataRepresentation[16:18])[0]
    dataRep["MinorVersion"] = struct.unpack("<H", dataRepresentation[18:])[0]
    protId = epm.EPMProtocolIdentifier()
    protId["ProtIdentifier"] = epm.FLOOR_RPCV5_IDENTIFIER
    if protocol == "ncacn_np":
        pipeName = epm.EPMPipeName()
        pipeName["PipeName"] = b"\x00"
        hostName = epm.EPMHostName()
        hostName["HostName"] = b"host\x00"
        transportData = pipeName.getData() + hostName.getData()
    else:
        portAddr = epm.EPMPortAddr()
        portAddr["IpPort"] = 0
        hostAddr = epm.EPMHostAddr()
        hostAddr["Ip4addr"] = socket.inet_aton("0.0.0.0")
        transportData = portAddr.getData() + hostAddr.getData()
    tower["NumberOfFloors"] = 5
    tower["Floors"] = interface.getData() + dataRep.getData() + protId.getData() + transportData
    request = epm.ept_map()
    request["max_towers"] = maxTowers
    request["map_tower"]["tower_length"] = len(tower)
    request["map_tower"]["tower_octet_string"] = tower.getData()
    request.fields["obj"].fields["ReferentID"] = 1
    request.fields["map_tower"].fields["ReferentID"] = 2
    return request.getData()


def impacketLookupRequest(handle=None, maxEntries=500, inquiry=0, ifId=None, versOption=1):
    """
    The C{ept_lookup} request stub as impacket's C{epm.hept_lookup} fills
    it, except for the interface versions: C{hept_lookup} assigns them as
    bytes, which impacket then sends as 0.0, so they are set as integers
    here.

    @param handle: an impacket C{ept_lookup_handle_t}, or L{None}.
    @param ifId: a 20-byte impacket syntax, or L{None}.
    """
    from impacket.dcerpc.v5 import epm

    request = epm.ept_lookup()
    request["inquiry_type"] = inquiry
    request["object"] = epm.NULL
    if ifId is not None:
        request["Ifid"]["Uuid"] = ifId[:16]
        request["Ifid"]["VersMajor"] = struct.unpack("<H", ifId[16:18])[0]
        request["Ifid"]["VersMinor"] = struct.unpack("<H", ifId[18:20])[0]
    else:
        request["Ifid"] = epm.NULL
    request["vers_option"] = versOption
    request["entry_handle"] = handle if handle is not None else epm.ept_lookup_handle_t()
    request["max_ents"] = maxEntries
    return request.getData()


def impacketMapResponse(stub):
    """
    Decode an C{ept_map} answer with impacket.
    """
    from impacket.dcerpc.v5 import epm

    return epm.ept_mapResponse(stub)


def impacketTowerBinding(octets):
    """
    The string binding impacket's C{PrintStringBinding} makes of a tower.
    """
    from impacket.dcerpc.v5 import epm

    return epm.PrintStringBinding(epm.EPMTower(octets)["Floors"])


def handleFreeRequest(handle):
    """
    The C{ept_lookup_handle_free} request: the 20-byte context handle.
    """
    return bytes(handle)


class TowerTests(SynchronousTestCase):
    """
    L{Tower} encodes and decodes C706 appendix L towers.
    """

    def test_fromEndpointGolden(self):
        """
        The tower of an endpoint is byte for byte the one impacket's floor
        classes build.
        """
        self.assertEqual(Tower.fromEndpoint(SAMR, "127.0.0.2", 40123).encode(), SAMR_TOWER)

    def test_impacketReadsIt(self):
        """
        impacket reads our tower as C{ncacn_ip_tcp:127.0.0.2[40123]}.
        """
        octets = Tower.fromEndpoint(SAMR, "127.0.0.2", 40123).encode()
        self.assertEqual(impacketTowerBinding(octets), "ncacn_ip_tcp:127.0.0.2[40123]")

    def test_decode(self):
        """
        Decoding gives the interface, transfer syntax, transport, port and
        host.
        """
        tower = Tower.decode(SAMR_TOWER)
        self.assertEqual(
            (tower.syntax, tower.transferSyntax, tower.transport, tower.port, tower.host),
            (SAMR, SyntaxId(NDR_SYNTAX_UUID, 2, 0), "ncacn_ip_tcp", 40123, "127.0.0.2"),
        )

    def test_roundTrip(self):
        """
        Encoding a decoded tower gives the same bytes.
        """
        self.assertEqual(Tower.decode(SAMR_TOWER).encode(), SAMR_TOWER)

    def test_minorVersionInRightHandSide(self):
        """
        The interface minor version travels in the right-hand side of
        floor 1 (EMSMDB 0.81: C{51 00}).
        """
        floor = Tower.fromEndpoint(EMSMDB, "10.0.0.1", 6001).floors[0]
        self.assertEqual((floor.lhs[-2:], floor.rhs), (b"\x00\x00", b"\x51\x00"))

    def test_ipv6HostIsZero(self):
        """
        Towers have no IPv6 floor: an IPv6 host is written 0.0.0.0.
        """
        self.assertEqual(Tower.fromEndpoint(SAMR, "::1", 1).host, "0.0.0.0")

    def test_namedPipeTower(self):
        """
        An C{ncacn_np} tower (as Samba's endpoint mapper lists them) decodes
        with its transport and NetBIOS host and no port.
        """
        tower = Tower(
            (
                Floor.forSyntax(SAMR),
                Floor.forSyntax(SyntaxId(NDR_SYNTAX_UUID, 2, 0)),
                Floor(b"\x0b", b"\x00\x00"),
                Floor(b"\x0f", b"\\PIPE\\samr\x00"),
                Floor(b"\x11", b"DC1\x00"),
            )
        )
        decoded = Tower.decode(tower.encode())
        self.assertEqual((decoded.transport, decoded.port, decoded.host), ("ncacn_np", None, "DC1"))

    def test_truncated(self):
        """
        Every truncation of a tower raises L{MalformedStub}.
        """
        for length in range(len(SAMR_TOWER)):
            self.assertRaises(MalformedStub, Tower.decode, SAMR_TOWER[:length])

    def test_trailingBytes(self):
        """
        Bytes after the last floor raise L{MalformedStub}.
        """
        self.assertRaises(MalformedStub, Tower.decode, SAMR_TOWER + b"\x00")

    def test_notUuidFloor(self):
        """
        A first floor that is not a well-formed UUID floor has no syntax.
        """
        self.assertIsNone(Tower((Floor(b"\x0d\x01", b""),)).syntax)
        self.assertIsNone(Tower(()).syntax)

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=64))
    def test_garbage(self, data):
        """
        Arbitrary bytes either decode to a tower that re-encodes to the same
        bytes, or raise L{MalformedStub}.
        """
        try:
            tower = Tower.decode(data)
        except MalformedStub:
            return
        self.assertEqual(tower.encode(), data)


class RegisterTests(SynchronousTestCase):
    """
    L{EndpointMapper.register} and L{EndpointMapper.unregister}.
    """

    def test_register(self):
        """
        A registered endpoint is listed with its parameters.
        """
        mapper = EndpointMapper()
        entry = mapper.register(SAMR, 40123, "127.0.0.2", "samr")
        self.assertEqual(
            mapper.entries, (EndpointEntry(SAMR, 40123, "127.0.0.2", "samr", NULL_UUID),)
        )
        self.assertIs(mapper.entries[0], entry)

    def test_syntaxForms(self):
        """
        A syntax may be a L{SyntaxId}, an C{InterfaceInfo} or a tuple with
        the UUID as text.
        """
        mapper = EndpointMapper()
        mapper.register(registry.EXCHANGE_NSP, 1)
        mapper.register(("a4f1db00-ca47-1067-b31f-00dd010662da", 0, 81), 2)
        mapper.register((SAMR.uuid, 1), 3)
        self.assertEqual([e.syntax for e in mapper.entries], [NSPI, EMSMDB, SAMR])

    def test_reRegisterReplaces(self):
        """
        Registering the same endpoint again replaces it.
        """
        mapper = EndpointMapper()
        mapper.register(SAMR, 1, annotation="old")
        mapper.register(SAMR, 1, annotation="new")
        self.assertEqual([e.annotation for e in mapper.entries], ["new"])

    def test_unregister(self):
        """
        Unregistering removes the matching endpoints and counts them.
        """
        mapper = EndpointMapper()
        mapper.register(SAMR, 1)
        mapper.register(SAMR, 2)
        mapper.register(NSPI, 1)
        self.assertEqual(mapper.unregister(SAMR, port=2), 1)
        self.assertEqual(mapper.unregister(SAMR), 1)
        self.assertEqual(mapper.unregister(SAMR), 0)
        self.assertEqual([e.syntax for e in mapper.entries], [NSPI])

    def test_badParameters(self):
        """
        Bad ports, hosts, annotations, objects and syntaxes raise
        L{ConfigError}.
        """
        mapper = EndpointMapper()
        self.assertRaises(ConfigError, mapper.register, SAMR, 0)
        self.assertRaises(ConfigError, mapper.register, SAMR, 65536)
        self.assertRaises(ConfigError, mapper.register, SAMR, "135")
        self.assertRaises(ConfigError, mapper.register, SAMR, 1, "exchange.example.com")
        self.assertRaises(ConfigError, mapper.register, SAMR, 1, annotation="x" * 64)
        self.assertRaises(ConfigError, mapper.register, SAMR, 1, annotation="caf\xe9")
        self.assertRaises(ConfigError, mapper.register, SAMR, 1, object="not a uuid")
        self.assertRaises(ConfigError, mapper.register, ("nope", 1, 0), 1)
        self.assertRaises(ConfigError, mapper.register, (SAMR.uuid, 70000, 0), 1)
        self.assertEqual(mapper.entries, ())


class MapTests(SynchronousTestCase):
    """
    C{ept_map} (opnum 3) against requests built as impacket builds them.
    """

    def setUp(self):
        self.mapper = EndpointMapper()
        self.mapper.register(SAMR, 40123, annotation="samr")
        self.mapper.register(EMSMDB, 40124, annotation="exchange_emsmdb")
        self.session = {}

    def map(self, request, localHost="127.0.0.2"):
        """
        Answer an ept_map request and decode the answer with impacket.
        """
        return impacketMapResponse(self.mapper.handleCall(3, request, self.session, localHost))

    def test_hept_map(self):
        """
        impacket's C{hept_map} request is answered with the tower impacket
        prints as C{ncacn_ip_tcp:127.0.0.2[40123]}.
        """
        response = self.map(impacketMapRequest(SAMR))
        octets = b"".join(response["ITowers"][0]["Data"]["tower_octet_string"])
        self.assertEqual(
            (response["num_towers"], response["status"], impacketTowerBinding(octets)),
            (1, 0, "ncacn_ip_tcp:127.0.0.2[40123]"),
        )
        self.assertTrue(response["entry_handle"].isNull())

    def test_golden(self):
        """
        The whole answer is: null handle, one tower, max_count = max_towers,
        the tower, status 0.
        """
        stub = self.mapper.handleCall(3, impacketMapRequest(SAMR), {}, "127.0.0.2")
        expected = (
            NULL_HANDLE
            + struct.pack("<IIII", 1, 4, 0, 1)
            + struct.pack("<I", 0x00020000)
            + struct.pack("<II", len(SAMR_TOWER), len(SAMR_TOWER))
            + SAMR_TOWER
            + b"\x00"
            + struct.pack("<I", 0)
        )
        self.assertEqual(stub, expected)

    def test_unknownInterface(self):
        """
        An interface nobody registered gets no tower and
        C{EPT_S_NOT_REGISTERED}.
        """
        response = self.map(impacketMapRequest(NSPI))
        self.assertEqual(
            (response["num_towers"], response["status"]), (0, EPT_S_NOT_REGISTERED)
        )

    def test_wrongMajorVersion(self):
        """
        Another major version is another interface.
        """
        response = self.map(impacketMapRequest(SyntaxId(SAMR.uuid, 2, 0)))
        self.assertEqual(response["status"], EPT_S_NOT_REGISTERED)

    def test_compatibleMinorVersion(self):
        """
        A lower requested minor version matches; a higher one does not.
        """
        lower = self.map(impacketMapRequest(SyntaxId(EMSMDB.uuid, 0, 80)))
        higher = self.map(impacketMapRequest(SyntaxId(EMSMDB.uuid, 0, 82)))
        self.assertEqual((lower["num_towers"], higher["num_towers"]), (1, 0))

    def test_otherTransport(self):
        """
        A request for an C{ncacn_np} tower gets nothing: we serve TCP only.
        """
        response = self.map(impacketMapRequest(SAMR, protocol="ncacn_np"))
        self.assertEqual(response["status"], EPT_S_NOT_REGISTERED)

    def test_nullTower(self):
        """
        A request without a tower gets nothing.
        """
        stub = struct.pack("<I", 0) + struct.pack("<I", 0) + NULL_HANDLE + struct.pack("<I", 4)
        response = self.map(stub)
        self.assertEqual((response["num_towers"], response["status"]), (0, EPT_S_NOT_REGISTERED))

    def test_wildcardAnswersLocalAddress(self):
        """
        An endpoint registered on 0.0.0.0 is answered with the address the
        client connected to (IPv4-mapped IPv6 included); an IPv6 address
        becomes 0.0.0.0.
        """
        for localHost, expected in [
            ("127.0.0.3", "127.0.0.3"),
            ("::ffff:127.0.0.4", "127.0.0.4"),
            ("::1", "0.0.0.0"),
            ("bogus", "0.0.0.0"),
        ]:
            answer = self.mapper.handleCall(3, buildMapRequest(SAMR), {}, localHost)
            self.assertEqual(parseMapResponse(answer), [(expected, 40123)], localHost)

    def test_specificAddress(self):
        """
        An endpoint registered on one address is answered with it.
        """
        mapper = EndpointMapper()
        mapper.register(NSPI, 6004, host="127.0.0.5")
        stub = mapper.handleCall(3, buildMapRequest(NSPI), {}, "127.0.0.2")
        self.assertEqual(parseMapResponse(stub), [("127.0.0.5", 6004)])

    def test_maxTowersPaging(self):
        """
        More towers than C{max_towers} come in pages, with a handle until the
        last one.
        """
        for port in (40200, 40201):
            self.mapper.register(SAMR, port)
        first = self.map(impacketMapRequest(SAMR, maxTowers=2))
        self.assertEqual((first["num_towers"], first["entry_handle"].isNull()), (2, False))
        from impacket.dcerpc.v5 import epm

        request = epm.ept_map(impacketMapRequest(SAMR, maxTowers=2))
        request["entry_handle"] = first["entry_handle"]
        second = self.map(request.getData())
        ports = [
            Tower.decode(b"".join(t["Data"]["tower_octet_string"])).port
            for t in list(first["ITowers"]) + list(second["ITowers"])
        ]
        self.assertEqual(
            (second["num_towers"], second["entry_handle"].isNull(), ports),
            (1, True, [40123, 40200, 40201]),
        )

    def test_objectUuid(self):
        """
        A request for an object prefers endpoints of that object and falls
        back to endpoints without one.
        """
        mapper = EndpointMapper()
        objectUuid = uuid.UUID(int=42)
        mapper.register(SAMR, 1)
        mapper.register(SAMR, 2, object=objectUuid)
        self.assertEqual(
            parseMapResponse(
                mapper.handleCall(3, buildMapRequest(SAMR, objectUuid), {}, "10.0.0.1")
            ),
            [("10.0.0.1", 2)],
        )
        self.assertEqual(
            parseMapResponse(
                mapper.handleCall(3, buildMapRequest(SAMR, uuid.UUID(int=43)), {}, "10.0.0.1")
            ),
            [("10.0.0.1", 1)],
        )


class LookupTests(SynchronousTestCase):
    """
    C{ept_lookup} (opnum 2) and C{ept_lookup_handle_free} (opnum 4) against
    requests built as impacket's C{hept_lookup} builds them.
    """

    def setUp(self):
        self.mapper = EndpointMapper()
        self.mapper.register(SAMR, 40123, annotation="samr")
        self.mapper.register(EMSMDB, 40124, annotation="exchange_emsmdb")
        for index in range(5):
            self.mapper.register(
                SyntaxId(uuid.UUID(int=index + 1), 1, index),
                41000 + index,
                annotation="if%d" % index,
            )
        self.session = {}

    def lookup(self, request, localHost="127.0.0.2"):
        """
        Answer an ept_lookup request and decode the answer with impacket.
        """
        from impacket.dcerpc.v5 import epm

        return epm.ept_lookupResponse(self.mapper.handleCall(2, request, self.session, localHost))

    def entries(self, response):
        """
        The (annotation, string binding) pairs of an impacket-decoded answer.
        """
        return [
            (
                b"".join(response["entries"][i]["annotation"]).rstrip(b"\x00").decode(),
                impacketTowerBinding(
                    b"".join(response["entries"][i]["tower"]["tower_octet_string"])
                ),
            )
            for i in range(response["num_ents"])
        ]

    def test_hept_lookupPaging(self):
        """
        impacket's C{hept_lookup} loop gets every entry, three at a time,
        with a handle until the last page, which has a null handle and
        status 0.
        """
        pages = []
        handle = None
        while True:
            response = self.lookup(impacketLookupRequest(handle, maxEntries=3))
            pages.append(
                (response["num_ents"], response["status"], response["entry_handle"].isNull())
            )
            handle = response["entry_handle"]
            if handle.isNull():
                break
            self.assertLess(len(pages), 5)
        self.assertEqual(pages, [(3, 0, False), (3, 0, False), (1, 0, True)])
        self.assertEqual(self.session[epmapper._SESSION_KEY], {})

    def test_entries(self):
        """
        Each entry carries its annotation and its tower.
        """
        response = self.lookup(impacketLookupRequest())
        self.assertEqual(
            self.entries(response),
            [
                ("samr", "ncacn_ip_tcp:127.0.0.2[40123]"),
                ("exchange_emsmdb", "ncacn_ip_tcp:127.0.0.2[40124]"),
            ]
            + [("if%d" % i, "ncacn_ip_tcp:127.0.0.2[%d]" % (41000 + i)) for i in range(5)],
        )

    def test_nothingRegistered(self):
        """
        An empty map answers no entries, a null handle and
        C{EPT_S_NOT_REGISTERED}.
        """
        self.mapper = EndpointMapper()
        response = self.lookup(impacketLookupRequest())
        self.assertEqual(
            (response["num_ents"], response["status"], response["entry_handle"].isNull()),
            (0, EPT_S_NOT_REGISTERED, True),
        )

    def test_byInterface(self):
        """
        Inquiry by interface with C{RPC_C_VERS_ALL} finds that interface.
        """
        response = self.lookup(impacketLookupRequest(inquiry=1, ifId=impacketSyntax(EMSMDB)))
        self.assertEqual(
            self.entries(response), [("exchange_emsmdb", "ncacn_ip_tcp:127.0.0.2[40124]")]
        )

    def test_versionOptions(self):
        """
        The version options select as [MS-RPCE] 2.2.1.2.4 says: all,
        compatible (same major, minor at least), exact, same major, up to.
        """
        # Registered for this UUID: 1.2 on 41002 (setUp), then these.
        target = SyntaxId(uuid.UUID(int=3), 1, 1)
        for version in (0, 1, 2):
            self.mapper.register(SyntaxId(target.uuid, 1, version), 42000 + version)
        self.mapper.register(SyntaxId(target.uuid, 2, 0), 42100)
        cases = {
            1: [41002, 42000, 42001, 42002, 42100],
            2: [41002, 42001, 42002],
            3: [42001],
            4: [41002, 42000, 42001, 42002],
            5: [42000, 42001],
        }
        for option, ports in cases.items():
            self.session = {}
            response = self.lookup(
                impacketLookupRequest(inquiry=1, ifId=impacketSyntax(target), versOption=option)
            )
            found = sorted(
                Tower.decode(b"".join(response["entries"][i]["tower"]["tower_octet_string"])).port
                for i in range(response["num_ents"])
            )
            self.assertEqual(found, sorted(ports), option)

    def test_byObject(self):
        """
        Inquiry by object finds the endpoints of that object.
        """
        objectUuid = uuid.UUID(int=99)
        self.mapper.register(NSPI, 6004, object=objectUuid, annotation="nspi")
        # inquiry_type, object pointer + UUID, null interface pointer,
        # vers_option, null handle, max_ents.
        stub = (
            struct.pack("<II", 2, 1)
            + objectUuid.bytes_le
            + struct.pack("<II", 0, 1)
            + NULL_HANDLE
            + struct.pack("<I", 10)
        )
        answer = self.mapper.handleCall(2, stub, {}, "10.1.1.1")
        handle, entries, status = parseLookupResponse(answer)
        self.assertEqual(
            (handle, entries, status),
            (NULL_HANDLE, [LookupEntry(NSPI, "nspi", "10.1.1.1", 6004, objectUuid)], 0),
        )

    def test_unknownInquiry(self):
        """
        An unknown inquiry type answers C{EPT_S_CANT_PERFORM_OP}.
        """
        response = self.lookup(impacketLookupRequest(inquiry=7))
        self.assertEqual((response["num_ents"], response["status"]), (0, EPT_S_CANT_PERFORM_OP))

    def test_byInterfaceWithoutInterface(self):
        """
        Inquiry by interface with a null interface pointer cannot be done.
        """
        response = self.lookup(impacketLookupRequest(inquiry=1))
        self.assertEqual(response["status"], EPT_S_CANT_PERFORM_OP)

    def test_handleFree(self):
        """
        C{ept_lookup_handle_free} forgets the handle and answers a null
        handle and status 0; the handle can then not be used.
        """
        first = self.lookup(impacketLookupRequest(maxEntries=2))
        handle = first["entry_handle"]
        answer = self.mapper.handleCall(4, handleFreeRequest(handle.getData()), self.session, "h")
        self.assertEqual(answer, NULL_HANDLE + b"\x00\x00\x00\x00")
        self.assertEqual(self.session[epmapper._SESSION_KEY], {})
        e = self.assertRaises(
            DCERPCFault,
            self.mapper.handleCall,
            2,
            impacketLookupRequest(handle, 2),
            self.session,
            "h",
        )
        self.assertEqual(e.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)

    def test_handleFreeUnknown(self):
        """
        Freeing a handle we never gave is not an error.
        """
        answer = self.mapper.handleCall(4, b"\x00" * 4 + uuid.uuid4().bytes, {}, "h")
        self.assertEqual(answer, NULL_HANDLE + b"\x00\x00\x00\x00")

    def test_unknownHandle(self):
        """
        Continuing with a handle this association never got faults with
        C{nca_s_fault_context_mismatch}.
        """
        from impacket.dcerpc.v5 import epm

        handle = epm.ept_lookup_handle_t()
        handle["context_handle_uuid"] = uuid.uuid4().bytes
        e = self.assertRaises(
            DCERPCFault, self.mapper.handleCall, 2, impacketLookupRequest(handle), {}, "h"
        )
        self.assertEqual(e.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)

    def test_handlesPerSession(self):
        """
        A handle belongs to the session it was given in.
        """
        first = self.lookup(impacketLookupRequest(maxEntries=2))
        e = self.assertRaises(
            DCERPCFault,
            self.mapper.handleCall,
            2,
            impacketLookupRequest(first["entry_handle"], 2),
            {},
            "h",
        )
        self.assertEqual(e.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)

    def test_mapHandleIsNotLookupHandle(self):
        """
        A handle from C{ept_map} cannot continue an C{ept_lookup}.
        """
        self.mapper.register(SAMR, 40200)
        mapped = impacketMapResponse(
            self.mapper.handleCall(3, impacketMapRequest(SAMR, maxTowers=1), self.session, "h")
        )
        e = self.assertRaises(
            DCERPCFault,
            self.mapper.handleCall,
            2,
            impacketLookupRequest(mapped["entry_handle"]),
            self.session,
            "h",
        )
        self.assertEqual(e.status, Status.NCA_S_FAULT_CONTEXT_MISMATCH)

    def test_openHandlesBounded(self):
        """
        A client that never frees its handles holds at most
        L{epmapper.MAX_OPEN_HANDLES} of them.
        """
        for _ in range(epmapper.MAX_OPEN_HANDLES * 3):
            self.lookup(impacketLookupRequest(maxEntries=1))
        self.assertEqual(len(self.session[epmapper._SESSION_KEY]), epmapper.MAX_OPEN_HANDLES)

    def test_annotationTruncated(self):
        """
        The annotation is ASCII with its NUL, as impacket reads it.
        """
        response = self.lookup(impacketLookupRequest())
        self.assertEqual(b"".join(response["entries"][0]["annotation"]), b"samr\x00")


class FaultTests(SynchronousTestCase):
    """
    Operations we do not serve and stubs that do not decode fault.
    """

    def setUp(self):
        self.mapper = EndpointMapper()
        self.mapper.register(SAMR, 40123)

    def test_unservedOpnums(self):
        """
        ept_insert, ept_delete, ept_inq_object, ept_mgmt_delete and opnums
        past the interface fault with C{nca_s_op_rng_error}, as Samba
        answers remote callers.
        """
        for opnum in (0, 1, 5, 6, 7, 9, 255):
            e = self.assertRaises(DCERPCFault, self.mapper.handleCall, opnum, b"", {}, "h")
            self.assertEqual(e.status, Status.NCA_S_OP_RNG_ERROR, opnum)

    def test_garbageStub(self):
        """
        A stub that is too short faults with C{nca_s_fault_ndr}.
        """
        for opnum in (2, 3, 4):
            e = self.assertRaises(DCERPCFault, self.mapper.handleCall, opnum, b"\x01\x02", {}, "h")
            self.assertEqual(e.status, Status.FAULT_NDR)

    def test_everyTruncation(self):
        """
        Every truncation of a real request faults with C{nca_s_fault_ndr}.
        """
        for opnum, request in ((3, impacketMapRequest(SAMR)), (2, impacketLookupRequest())):
            for length in range(len(request) - 3):
                e = self.assertRaises(
                    DCERPCFault, self.mapper.handleCall, opnum, request[:length], {}, "h"
                )
                self.assertEqual(e.status, Status.FAULT_NDR, (opnum, length))

    def test_towerLengthMismatch(self):
        """
        A tower whose conformance and length disagree faults.
        """
        request = bytearray(impacketMapRequest(SAMR))
        struct.pack_into("<I", request, 24, 74)
        e = self.assertRaises(DCERPCFault, self.mapper.handleCall, 3, bytes(request), {}, "h")
        self.assertEqual(e.status, Status.FAULT_NDR)

    def test_malformedTower(self):
        """
        A tower whose floors overrun it faults.
        """
        request = bytearray(impacketMapRequest(SAMR))
        struct.pack_into("<H", request, 28, 9)
        e = self.assertRaises(DCERPCFault, self.mapper.handleCall, 3, bytes(request), {}, "h")
        self.assertEqual(e.status, Status.FAULT_NDR)

    @settings(max_examples=200, deadline=None)
    @given(opnum=st.sampled_from([2, 3, 4]), stub=st.binary(max_size=160))
    def test_fuzz(self, opnum, stub):
        """
        Any stub either gets an answer or a L{DCERPCFault}, nothing else.
        """
        try:
            answer = self.mapper.handleCall(opnum, stub, {}, "127.0.0.1")
        except DCERPCFault as e:
            self.assertIn(e.status, (Status.FAULT_NDR, Status.NCA_S_FAULT_CONTEXT_MISMATCH))
        else:
            self.assertIsInstance(answer, bytes)


class ClientTests(SynchronousTestCase):
    """
    The client side: request builders and answer parsers.
    """

    def test_buildMapRequestIsImpacket(self):
        """
        L{buildMapRequest} sends what impacket's C{hept_map} sends, except
        that the alignment byte after the tower is zero (impacket fills it
        with 0xAB).
        """
        ours = buildMapRequest(SAMR)
        theirs = bytearray(impacketMapRequest(SAMR))
        self.assertEqual(theirs[107], 0xAB)
        theirs[107] = 0
        self.assertEqual(ours, bytes(theirs))

    def test_buildMapRequestDecodesWithImpacket(self):
        """
        impacket decodes our request: object, tower and max_towers.
        """
        from impacket.dcerpc.v5 import epm

        request = epm.ept_map(buildMapRequest(EMSMDB, uuid.UUID(int=5), maxTowers=7))
        octets = b"".join(request["map_tower"]["tower_octet_string"])
        self.assertEqual(
            (request["obj"], Tower.decode(octets).syntax, request["max_towers"]),
            (uuid.UUID(int=5).bytes_le, EMSMDB, 7),
        )

    def test_buildLookupRequestIsImpacket(self):
        """
        L{buildLookupRequest} sends what impacket's C{hept_lookup} sends,
        first without and then with a handle.
        """
        from impacket.dcerpc.v5 import epm

        self.assertEqual(buildLookupRequest(), impacketLookupRequest())
        handle = epm.ept_lookup_handle_t()
        handle["context_handle_uuid"] = b"\x11" * 16
        self.assertEqual(
            buildLookupRequest(3, handle.getData()), impacketLookupRequest(handle, maxEntries=3)
        )

    def test_mapAgainstOurServer(self):
        """
        L{buildMapRequest} and L{parseMapResponse} work with our server.
        """
        mapper = EndpointMapper()
        mapper.register(registry.EXCHANGE_NSP, 6004)
        mapper.register(registry.EXCHANGE_NSP, 6005)
        answer = mapper.handleCall(3, buildMapRequest(registry.EXCHANGE_NSP), {}, "127.0.0.2")
        self.assertEqual(parseMapResponse(answer), [("127.0.0.2", 6004), ("127.0.0.2", 6005)])

    def test_parseImpacketMapResponse(self):
        """
        L{parseMapResponse} reads an answer impacket encoded.
        """
        from impacket.dcerpc.v5 import epm

        response = epm.ept_mapResponse()
        response["num_towers"] = 1
        tower = epm.twr_p_t()
        tower["tower_length"] = len(SAMR_TOWER)
        tower["tower_octet_string"] = SAMR_TOWER
        response["ITowers"] = [tower]
        response.fields["ITowers"].fields["MaximumCount"] = 4
        response["status"] = 0
        self.assertEqual(parseMapResponse(response.getData()), [("127.0.0.2", 40123)])

    def test_parseMapNotRegistered(self):
        """
        C{EPT_S_NOT_REGISTERED} raises L{EndpointNotRegistered}.
        """
        answer = EndpointMapper().handleCall(3, buildMapRequest(SAMR), {}, "h")
        e = self.assertRaises(EndpointNotRegistered, parseMapResponse, answer)
        self.assertEqual(e.status, EPT_S_NOT_REGISTERED)

    def test_parseMapOtherStatus(self):
        """
        Another status raises L{UpstreamError} naming it.
        """
        answer = NULL_HANDLE + struct.pack("<IIIII", 0, 4, 0, 0, EPT_S_CANT_PERFORM_OP)
        e = self.assertRaises(UpstreamError, parseMapResponse, answer)
        self.assertNotIsInstance(e, EndpointNotRegistered)
        self.assertIn("0x000006d8", str(e))

    def test_parseMapNoTcpTower(self):
        """
        An answer with status 0 but no TCP tower raises
        L{EndpointNotRegistered}.
        """
        pipeTower = Tower(
            (
                Floor.forSyntax(SAMR),
                Floor.forSyntax(SyntaxId(NDR_SYNTAX_UUID, 2, 0)),
                Floor(b"\x0b", b"\x00\x00"),
                Floor(b"\x0f", b"\x00"),
                Floor(b"\x11", b"h\x00"),
            )
        ).encode()
        answer = (
            NULL_HANDLE
            + struct.pack("<IIIII", 1, 1, 0, 1, 0x20000)
            + struct.pack("<II", len(pipeTower), len(pipeTower))
            + pipeTower
            + b"\x00" * (-len(pipeTower) % 4)
            + struct.pack("<I", 0)
        )
        self.assertRaises(EndpointNotRegistered, parseMapResponse, answer)

    def test_parseMapGarbage(self):
        """
        An answer that does not decode raises L{MalformedStub}.
        """
        answer = EndpointMapper().handleCall(3, buildMapRequest(SAMR), {}, "h")
        self.assertRaises(MalformedStub, parseMapResponse, answer[:10])
        overcounted = NULL_HANDLE + struct.pack("<IIII", 1, 4, 0, 2)
        self.assertRaises(MalformedStub, parseMapResponse, overcounted)

    def test_lookupAgainstOurServer(self):
        """
        L{buildLookupRequest} and L{parseLookupResponse} page through our
        server.
        """
        mapper = EndpointMapper()
        mapper.register(SAMR, 1, annotation="samr")
        mapper.register(NSPI, 2, annotation="nspi", object=uuid.UUID(int=8))
        mapper.register(EMSMDB, 3, annotation="emsmdb")
        session = {}
        handle, first, status = parseLookupResponse(
            mapper.handleCall(2, buildLookupRequest(2), session, "10.0.0.9")
        )
        self.assertNotEqual(handle, NULL_HANDLE)
        self.assertEqual(status, 0)
        handle, second, status = parseLookupResponse(
            mapper.handleCall(2, buildLookupRequest(2, handle), session, "10.0.0.9")
        )
        self.assertEqual((handle, status), (NULL_HANDLE, 0))
        self.assertEqual(
            first + second,
            [
                LookupEntry(SAMR, "samr", "10.0.0.9", 1, NULL_UUID),
                LookupEntry(NSPI, "nspi", "10.0.0.9", 2, uuid.UUID(int=8)),
                LookupEntry(EMSMDB, "emsmdb", "10.0.0.9", 3, NULL_UUID),
            ],
        )

    def test_parseLookupNotRegistered(self):
        """
        An empty answer reports its status.
        """
        answer = EndpointMapper().handleCall(2, buildLookupRequest(), {}, "h")
        self.assertEqual(parseLookupResponse(answer), (NULL_HANDLE, [], EPT_S_NOT_REGISTERED))

    def test_parseImpacketLookupResponse(self):
        """
        L{parseLookupResponse} reads an answer impacket encoded.
        """
        from impacket.dcerpc.v5 import epm

        response = epm.ept_lookupResponse()
        entry = epm.ept_entry_t()
        entry["object"] = uuid.UUID(int=3).bytes_le
        entry["tower"]["tower_length"] = len(SAMR_TOWER)
        entry["tower"]["tower_octet_string"] = SAMR_TOWER
        entry["annotation"] = b"samr\x00"
        response["num_ents"] = 1
        response["entries"] = [entry]
        response.fields["entries"].fields["MaximumCount"] = 500
        response["status"] = 0
        self.assertEqual(
            parseLookupResponse(response.getData()),
            (NULL_HANDLE, [LookupEntry(SAMR, "samr", "127.0.0.2", 40123, uuid.UUID(int=3))], 0),
        )

    def test_parseLookupGarbage(self):
        """
        Every truncation of an answer raises L{MalformedStub}.
        """
        mapper = EndpointMapper()
        mapper.register(SAMR, 1, annotation="samr")
        answer = mapper.handleCall(2, buildLookupRequest(), {}, "h")
        for length in range(len(answer) - 3):
            self.assertRaises(MalformedStub, parseLookupResponse, answer[:length])


class SambaTests(SynchronousTestCase):
    """
    The client side against Samba's real endpoint mapper.
    """

    def call(self, opnum, stub):
        """
        Make one call on Samba's endpoint mapper with impacket's transport
        and return the raw answer stub.
        """
        from impacket.dcerpc.v5 import epm, transport

        dc = peers.SambaDC.shared()
        rpc = transport.DCERPCTransportFactory("ncacn_ip_tcp:%s[135]" % (dc.host,))
        dce = rpc.get_dce_rpc()
        dce.connect()
        self.addCleanup(dce.disconnect)
        dce.bind(epm.MSRPC_UUID_PORTMAP)
        dce.call(opnum, stub)
        return dce.recv()

    def test_map(self):
        """
        Samba answers our C{ept_map} request for samr with the port its
        endpoint mapper gives impacket's C{hept_map}.
        """
        dc = peers.SambaDC.shared()
        answer = self.call(3, buildMapRequest(registry.SAMR))
        [(host, port)] = parseMapResponse(answer)
        self.assertEqual(port, dc.samrPort())
        # Samba 4.17 answers its wildcard registration as is.
        self.assertIn(host, ("0.0.0.0", dc.host))

    def test_mapNotRegistered(self):
        """
        Samba answers an unknown interface with C{EPT_S_NOT_REGISTERED}.
        """
        answer = self.call(3, buildMapRequest(registry.EXCHANGE_NSP))
        e = self.assertRaises(EndpointNotRegistered, parseMapResponse, answer)
        self.assertEqual(e.status, EPT_S_NOT_REGISTERED)

    def test_lookup(self):
        """
        Samba's C{ept_lookup} answer (two fragments long) parses, and lists
        samr over TCP on the port C{ept_map} gives.
        """
        dc = peers.SambaDC.shared()
        handle, entries, status = parseLookupResponse(self.call(2, buildLookupRequest()))
        self.assertEqual(status, 0)
        self.assertGreater(len(entries), 10)
        samr = [e for e in entries if e.syntax == registry.SAMR.syntaxId and e.port is not None]
        self.assertIn(dc.samrPort(), [e.port for e in samr])
