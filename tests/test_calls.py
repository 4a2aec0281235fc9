"""
L{mapiproxy.calls.RelayedCall}: lazy decoding, original bytes unless changed.
"""

from dataclasses import dataclass

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.calls import RelayedCall
from mapiproxy.errors import MapiProxyError


@dataclass
class _Value:
    text: str

    def encode(self):
        return self.text.encode("ascii")


class _CountingCodec:
    operations = {}

    def __init__(self):
        self.decoded = []

    def decodeRequest(self, opnum, stub):
        self.decoded.append(("request", stub))
        return _Value(stub.decode("ascii"))

    def decodeResponse(self, opnum, stub):
        self.decoded.append(("response", stub))
        return _Value(stub.decode("ascii"))


@dataclass
class _Call:
    stub: bytes
    opnum: int = 3
    interface: object = None
    session: object = None


class RelayedCallTests(SynchronousTestCase):
    """
    Decoding happens only on demand; bytes change only when told.
    """

    def setUp(self):
        self.codec = _CountingCodec()
        self.rc = RelayedCall(_Call(b"ab  c"), "x", self.codec, lambda: 1.0)

    def test_notDecodedUnlessAsked(self):
        """
        Nobody asked: nothing decoded, the original bytes go out.
        """
        self.rc.responseStub = b"zz"
        self.assertEqual((self.rc.outgoingRequest(), self.rc.outgoingResponse()), (b"ab  c", b"zz"))
        self.assertEqual(self.codec.decoded, [])
        self.assertFalse(self.rc.requestDecoded)

    def test_decodedOnceUnchanged(self):
        """
        Looking at the decoded value decodes once and still sends the original bytes.
        """
        self.assertEqual(self.rc.request.text, "ab  c")
        self.assertEqual(self.rc.request.text, "ab  c")
        self.assertEqual(len(self.codec.decoded), 1)
        self.rc.request.text = "changed"
        self.assertEqual(self.rc.outgoingRequest(), b"ab  c")

    def test_changedReencoded(self):
        """
        A change that is declared is re-encoded.
        """
        self.rc.request.text = "new"
        self.rc.requestChanged()
        self.assertEqual(self.rc.outgoingRequest(), b"new")

    def test_responseBeforeArrival(self):
        """
        Asking for the response before it exists is an error, not a crash.
        """
        self.assertRaises(MapiProxyError, lambda: self.rc.response)

    def test_noCodec(self):
        """
        An interface without a codec cannot be decoded, but relays.
        """
        rc = RelayedCall(_Call(b"raw"), "samr", None, lambda: 0.0)
        self.assertRaises(MapiProxyError, lambda: rc.request)
        self.assertEqual(rc.outgoingRequest(), b"raw")

    def test_latency(self):
        """
        finish() records the answer time.
        """
        times = iter([1.0, 1.25])
        rc = RelayedCall(_Call(b"x"), "x", None, lambda: next(times))
        self.assertIsNone(rc.latency)
        rc.finish()
        self.assertEqual(rc.latency, 0.25)

    def test_answerReplacesResponse(self):
        """
        answer() makes a decoded object the response, encoded for the client.
        """
        self.rc.answer(_Value("local"))
        self.assertEqual(self.rc.response.text, "local")
        self.assertEqual(self.rc.outgoingResponse(), b"local")
