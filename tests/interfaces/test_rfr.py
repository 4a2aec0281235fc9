"""
Tests for L{mapiproxy.interfaces.rfr}: golden stubs assembled from the
[MS-OXABREF] 3.1.4 parameter tables, and a cross-check against impacket's
C{impacket.dcerpc.v5.oxabref} request and response classes.
"""

from struct import pack

from hypothesis import given, settings
from hypothesis import strategies as st
from impacket.dcerpc.v5 import oxabref
from impacket.dcerpc.v5.dtypes import NULL
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.errors import NDRError
from mapiproxy.interfaces.registry import EXCHANGE_DS_RFR
from mapiproxy.interfaces.rfr import (
    RFR,
    SERVER_DN_MAX,
    RfrGetFQDNFromServerDNRequest,
    RfrGetFQDNFromServerDNResponse,
    RfrGetNewDSARequest,
    RfrGetNewDSAResponse,
)

USER_DN = (
    "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
    "/cn=Recipients/cn=jdoe"
)
SERVER_DN = (
    "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
    "/cn=Configuration/cn=Servers/cn=EXCH01"
)
NSPI_SERVER = "nspi.example.com"
FQDN = "exch01.example.com"


def _cvString(text):
    """
    A [string] uint8: max_count, offset 0, actual_count, characters, NUL.
    """
    raw = text.encode("latin-1") + b"\x00"
    return pack("<III", len(raw), 0, len(raw)) + raw


GOLDEN_NEW_DSA_REQUEST = (
    pack("<I", 0)  # ulFlags, 4
    + _cvString(USER_DN)  # 111
    + b"\x00"  # 112
    + pack("<I", 0)  # ppszUnused: NULL, 116
    + pack("<II", 0x00020000, 0)  # ppszServer: -> NULL, 124
)

GOLDEN_NEW_DSA_REQUEST_SERVER = (
    GOLDEN_NEW_DSA_REQUEST[:116]
    + pack("<II", 0x00020000, 0x00020004)  # 124
    + _cvString(FQDN)  # 155
)

GOLDEN_NEW_DSA_RESPONSE = (
    pack("<I", 0)  # ppszUnused, 4
    + pack("<II", 0x00020000, 0x00020004)  # 12
    + _cvString(NSPI_SERVER)  # 41
    + b"\x00" * 3  # 44
    + pack("<I", 0)  # result, 48
)

GOLDEN_FQDN_REQUEST = (
    pack("<I", 0)  # ulFlags, 4
    + pack("<I", 111)  # cbMailboxServerDN, 8
    + _cvString(SERVER_DN)  # 131
)

GOLDEN_FQDN_RESPONSE = (
    pack("<I", 0x00020000)  # 4
    + _cvString(FQDN)  # 35
    + b"\x00"  # 36
    + pack("<I", 0)  # 40
)

GOLDEN = [
    (0, GOLDEN_NEW_DSA_REQUEST, GOLDEN_NEW_DSA_RESPONSE),
    (0, GOLDEN_NEW_DSA_REQUEST_SERVER, GOLDEN_NEW_DSA_RESPONSE),
    (1, GOLDEN_FQDN_REQUEST, GOLDEN_FQDN_RESPONSE),
]


def _differingOnlyInPadding(ours, theirs):
    """
    Whether two stubs are the same but for bytes that are zero in C{ours}
    (impacket fills alignment gaps with non-zero markers).
    """
    if len(ours) != len(theirs):
        return False
    return all(a == b or a == 0 for a, b in zip(ours, theirs))


class GoldenTests(SynchronousTestCase):
    """
    Golden stubs of both RFR opnums.
    """

    def test_lengths(self):
        """
        The golden stubs end where the offsets in their comments say.
        """
        self.assertEqual(
            [len(stub) for _, request, response in GOLDEN for stub in (request, response)],
            [124, 48, 155, 48, 131, 40],
        )

    def test_newDSARequest(self):
        """
        RfrGetNewDSA's request, as Outlook sends it (ppszUnused NULL,
        ppszServer pointing to NULL), decodes and re-encodes.
        """
        request = RfrGetNewDSARequest.decode(GOLDEN_NEW_DSA_REQUEST)
        self.assertEqual(
            request,
            RfrGetNewDSARequest(
                ulFlags=0,
                pUserDN=USER_DN,
                ppszUnused=None,
                ppszServer=None,
                ppszUnusedPresent=False,
                ppszServerPresent=True,
            ),
        )
        self.assertEqual(RfrGetNewDSARequest(pUserDN=USER_DN).encode(), GOLDEN_NEW_DSA_REQUEST)

    def test_newDSARequestWithServer(self):
        """
        A ppszServer with a string takes two referent ids and the string.
        """
        request = RfrGetNewDSARequest.decode(GOLDEN_NEW_DSA_REQUEST_SERVER)
        self.assertEqual((request.ppszServer, request.ppszServerPresent), (FQDN, True))
        self.assertEqual(request.ppszServerReferents, (0x00020000, 0x00020004))
        self.assertEqual(
            RfrGetNewDSARequest(pUserDN=USER_DN, ppszServer=FQDN).encode(),
            GOLDEN_NEW_DSA_REQUEST_SERVER,
        )

    def test_newDSAThreePointerStates(self):
        """
        An outer NULL, an inner NULL and a string are three different
        encodings, each of which round-trips.
        """
        stubs = set()
        for present, text in ((False, None), (True, None), (True, "x")):
            stub = RfrGetNewDSAResponse(ppszServer=text, ppszServerPresent=present).encode()
            decoded = RfrGetNewDSAResponse.decode(stub)
            self.assertEqual((decoded.ppszServerPresent, decoded.ppszServer), (present, text))
            stubs.add(stub)
        self.assertEqual(len(stubs), 3)

    def test_newDSAResponse(self):
        """
        RfrGetNewDSA's response carries both pointers and the return value.
        """
        response = RfrGetNewDSAResponse.decode(GOLDEN_NEW_DSA_RESPONSE)
        self.assertEqual(
            response,
            RfrGetNewDSAResponse(ppszUnused=None, ppszServer=NSPI_SERVER, result=0),
        )
        self.assertEqual(
            RfrGetNewDSAResponse(ppszServer=NSPI_SERVER).encode(), GOLDEN_NEW_DSA_RESPONSE
        )

    def test_rewrittenServerKeepsReferents(self):
        """
        Changing ppszServer (what the proxy does) keeps the decoded referent
        ids.
        """
        stub = bytearray(GOLDEN_NEW_DSA_RESPONSE)
        stub[4:12] = pack("<II", 0x00004E21, 0x00009C42)
        response = RfrGetNewDSAResponse.decode(bytes(stub))
        self.assertEqual(response.encode(), bytes(stub))
        response.ppszServer = "proxy.example.com"
        again = response.encode()
        self.assertEqual(again[4:12], pack("<II", 0x00004E21, 0x00009C42))
        self.assertEqual(RfrGetNewDSAResponse.decode(again).ppszServer, "proxy.example.com")

    def test_fqdnRequest(self):
        """
        RfrGetFQDNFromServerDN's string has max_count = cbMailboxServerDN.
        """
        request = RfrGetFQDNFromServerDNRequest.decode(GOLDEN_FQDN_REQUEST)
        self.assertEqual(request, RfrGetFQDNFromServerDNRequest(0, SERVER_DN, 111))
        self.assertEqual(
            RfrGetFQDNFromServerDNRequest(szMailboxServerDN=SERVER_DN).encode(),
            GOLDEN_FQDN_REQUEST,
        )

    def test_fqdnRequestLargerBuffer(self):
        """
        A cbMailboxServerDN larger than the string is kept; one too small
        for a rewritten string grows to fit.
        """
        stub = pack("<II", 0, 64) + pack("<III", 64, 0, 12) + b"/o=Org/cn=X\x00"
        request = RfrGetFQDNFromServerDNRequest.decode(stub)
        self.assertEqual(
            (request.cbMailboxServerDN, request.szMailboxServerDN), (64, "/o=Org/cn=X")
        )
        self.assertEqual(request.encode(), stub)
        request.szMailboxServerDN = "x" * 70
        again = RfrGetFQDNFromServerDNRequest.decode(request.encode())
        self.assertEqual(again.cbMailboxServerDN, 71)

    def test_fqdnRequestRange(self):
        """
        cbMailboxServerDN outside 10..1024 raises L{NDRError}, on decode and
        on encode.
        """
        short = pack("<II", 0, 9) + pack("<III", 9, 0, 9) + b"/o=A/cn=\x00"
        self.assertRaises(NDRError, RfrGetFQDNFromServerDNRequest.decode, short)
        text = "x" * SERVER_DN_MAX
        long = pack("<II", 0, 1025) + pack("<III", 1025, 0, 1025) + text.encode() + b"\x00"
        self.assertRaises(NDRError, RfrGetFQDNFromServerDNRequest.decode, long)
        self.assertRaises(NDRError, RfrGetFQDNFromServerDNRequest(0, text).encode)
        self.assertRaises(NDRError, RfrGetFQDNFromServerDNRequest(0, "short").encode)

    def test_fqdnRequestCountMismatch(self):
        """
        A string max_count different from cbMailboxServerDN raises
        L{NDRError}.
        """
        stub = bytearray(GOLDEN_FQDN_REQUEST)
        stub[4:8] = pack("<I", 112)
        self.assertRaises(NDRError, RfrGetFQDNFromServerDNRequest.decode, bytes(stub))

    def test_fqdnResponse(self):
        """
        RfrGetFQDNFromServerDN's response is a referent, the string and the
        return value; a NULL pointer decodes to L{None}.
        """
        response = RfrGetFQDNFromServerDNResponse.decode(GOLDEN_FQDN_RESPONSE)
        self.assertEqual(response, RfrGetFQDNFromServerDNResponse(FQDN, 0))
        self.assertEqual(RfrGetFQDNFromServerDNResponse(FQDN).encode(), GOLDEN_FQDN_RESPONSE)
        null = pack("<II", 0, 0x80004005)
        self.assertEqual(
            RfrGetFQDNFromServerDNResponse.decode(null),
            RfrGetFQDNFromServerDNResponse(None, 0x80004005),
        )
        self.assertEqual(RfrGetFQDNFromServerDNResponse(None, 0x80004005).encode(), null)


class CodecTests(SynchronousTestCase):
    """
    Tests for the L{RFR} codec.
    """

    def test_names(self):
        """
        The codec names its opnums as the interface registry does.
        """
        self.assertEqual((RFR.opnumName(0), RFR.opnumName(1)), EXCHANGE_DS_RFR.opnums)
        self.assertEqual(RFR.name, EXCHANGE_DS_RFR.name)

    def test_roundTrip(self):
        """
        Every golden stub decodes through the codec and re-encodes identically.
        """
        for opnum, request, response in GOLDEN:
            self.assertEqual(RFR.encodeRequest(opnum, RFR.decodeRequest(opnum, request)), request)
            self.assertEqual(
                RFR.encodeResponse(opnum, RFR.decodeResponse(opnum, response)), response
            )

    def test_truncatedAndTrailing(self):
        """
        Every proper prefix, and the stub plus a byte, raise L{NDRError}.
        """
        for opnum, request, response in GOLDEN:
            for decode, stub in ((RFR.decodeRequest, request), (RFR.decodeResponse, response)):
                for cut in range(len(stub)):
                    self.assertRaises(NDRError, decode, opnum, stub[:cut])
                self.assertRaises(NDRError, decode, opnum, stub + b"\x00")

    @settings(max_examples=200, deadline=None)
    @given(st.sampled_from([0, 1]), st.booleans(), st.binary(max_size=200))
    def test_randomBytes(self, opnum, isRequest, data):
        """
        Random bytes decode (to a value that survives a round trip) or raise
        L{NDRError}.
        """
        op = RFR.operations[opnum]
        cls = op.request if isRequest else op.response
        try:
            value = cls.decode(data)
        except NDRError:
            return
        self.assertEqual(cls.decode(value.encode()), value)


class ImpacketTests(SynchronousTestCase):
    """
    Cross-checks against impacket's MS-OXABREF classes.
    """

    def _newDSA(self, userDN, server):
        request = oxabref.RfrGetNewDSA()
        request["ulFlags"] = 0
        request["pUserDN"] = userDN + "\x00"
        request["ppszUnused"] = NULL
        request["ppszServer"] = server
        return request.getData()

    def test_newDSARequestZeroPadding(self):
        """
        An impacket request without alignment gaps decodes and re-encodes
        byte for byte, random referent ids included.
        """
        stub = self._newDSA("abc", FQDN + "\x00")
        request = RfrGetNewDSARequest.decode(stub)
        self.assertEqual(
            (request.pUserDN, request.ppszUnused, request.ppszUnusedPresent, request.ppszServer),
            ("abc", None, False, FQDN),
        )
        self.assertEqual(request.encode(), stub)

    def test_newDSARequestImpacketPadding(self):
        """
        impacket's hRfrGetNewDSA request (with its non-zero pad bytes)
        decodes to the same values, and re-encodes differing only in those
        pad bytes.
        """
        stub = self._newDSA(USER_DN, "\x00")
        request = RfrGetNewDSARequest.decode(stub)
        self.assertEqual(
            (request.pUserDN, request.ppszServer, request.ppszServerPresent),
            (USER_DN, "", True),
        )
        ours = request.encode()
        self.assertNotEqual(ours, stub)
        self.assertTrue(_differingOnlyInPadding(ours, stub))

    def test_newDSAResponseParsedByImpacket(self):
        """
        impacket parses our RfrGetNewDSA response to the same values.
        """
        stub = RfrGetNewDSAResponse(ppszServer=NSPI_SERVER, result=0).encode()
        parsed = oxabref.RfrGetNewDSAResponse(stub)
        self.assertEqual(parsed.fields["ppszUnused"]["ReferentID"], 0)
        self.assertEqual(parsed["ppszServer"], NSPI_SERVER + "\x00")

    def test_impacketNewDSAResponseLacksResult(self):
        """
        impacket's RfrGetNewDSAResponse has no return value: its stub is
        truncated for us, and decodes once the u32 (after its pad) is added.
        """
        response = oxabref.RfrGetNewDSAResponse()
        response["ppszUnused"] = NULL
        response["ppszServer"] = NSPI_SERVER + "\x00"
        stub = response.getData()
        self.assertRaises(NDRError, RfrGetNewDSAResponse.decode, stub)
        complete = stub + b"\x00" * (-len(stub) % 4) + pack("<I", 0x8004010F)
        decoded = RfrGetNewDSAResponse.decode(complete)
        self.assertEqual((decoded.ppszServer, decoded.result), (NSPI_SERVER, 0x8004010F))
        self.assertEqual(decoded.encode(), complete)

    def test_fqdnRequest(self):
        """
        impacket's RfrGetFQDNFromServerDN request decodes and re-encodes byte
        for byte.
        """
        request = oxabref.RfrGetFQDNFromServerDN()
        request["ulFlags"] = 0
        request["szMailboxServerDN"] = SERVER_DN + "\x00"
        request["cbMailboxServerDN"] = len(SERVER_DN) + 1
        stub = request.getData()
        self.assertEqual(stub, GOLDEN_FQDN_REQUEST)
        decoded = RfrGetFQDNFromServerDNRequest.decode(stub)
        self.assertEqual(decoded.szMailboxServerDN, SERVER_DN)
        self.assertEqual(decoded.encode(), stub)

    def test_fqdnResponse(self):
        """
        impacket's RfrGetFQDNFromServerDN response decodes to its values, and
        impacket parses ours to the same values.
        """
        response = oxabref.RfrGetFQDNFromServerDNResponse()
        response["ppszServerFQDN"] = FQDN + "\x00"
        response["ErrorCode"] = 0
        stub = response.getData()
        decoded = RfrGetFQDNFromServerDNResponse.decode(stub)
        self.assertEqual((decoded.ppszServerFQDN, decoded.result), (FQDN, 0))
        self.assertTrue(_differingOnlyInPadding(decoded.encode(), stub))
        parsed = oxabref.RfrGetFQDNFromServerDNResponse(
            RfrGetFQDNFromServerDNResponse("proxy.example.com", 0x80040111).encode()
        )
        self.assertEqual(
            (parsed["ppszServerFQDN"], parsed["ErrorCode"]),
            ("proxy.example.com\x00", 0x80040111),
        )
