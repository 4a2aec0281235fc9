"""
Tests for L{mapiproxy.dcerpc.framing}.
"""

import os
import struct
import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from mapiproxy.dcerpc import pdu
from mapiproxy.dcerpc.constants import AuthLevel, AuthType, PFC, PType
from mapiproxy.dcerpc.framing import Framer, Reassembler, fragmentStub, maxStubPerFragment
from mapiproxy.errors import FragmentTooLarge, MalformedPDU, ProtocolError
from tests.dcerpc import vectors

OBJECT = uuid.UUID("12345678-9abc-def0-1122-334455667788")
FIRST = PFC.FIRST_FRAG
LAST = PFC.LAST_FRAG
MIDDLE = 0

STREAM_PDUS = [
    vectors.SAMBA_BIND,
    vectors.SAMBA_BIND_ACK,
    vectors.BE_BIND,
    vectors.SAMBA_REQUEST_OBJECT_AUTH,
    vectors.SAMBA_SHUTDOWN,
    vectors.BE_FAULT,
    vectors.SAMBA_AUTH3,
]


def header(fragLength, version=(5, 0), bigEndian=False):
    """
    The first 10 bytes of a fragment.
    """
    drep = b"\x00\x00\x00\x00" if bigEndian else b"\x10\x00\x00\x00"
    length = struct.pack(">H" if bigEndian else "<H", fragLength)
    return bytes(version) + b"\x00\x03" + drep + length


class FramerTests(SynchronousTestCase):
    """
    Tests for L{Framer}.
    """

    def test_wholeFragment(self):
        """
        One complete fragment comes out as it went in.
        """
        framer = Framer()
        self.assertEqual(framer.feed(vectors.SAMBA_BIND), [vectors.SAMBA_BIND])
        self.assertEqual(framer.buffered, 0)

    def test_byteAtATime(self):
        """
        Several concatenated PDUs fed one byte at a time come out exactly,
        each as soon as its last byte is in.
        """
        stream = b"".join(STREAM_PDUS)
        ends = set()
        position = 0
        for fragment in STREAM_PDUS:
            position += len(fragment)
            ends.add(position)
        framer = Framer()
        out = []
        for index in range(len(stream)):
            produced = framer.feed(stream[index : index + 1])
            if index + 1 in ends:
                self.assertEqual(len(produced), 1)
            else:
                self.assertEqual(produced, [])
            out.extend(produced)
        self.assertEqual(out, STREAM_PDUS)
        self.assertEqual(framer.buffered, 0)

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.integers(1, 400), min_size=1, max_size=30))
    def test_anyChunking(self, sizes):
        """
        However the stream is cut, the same fragments come out.
        """
        stream = b"".join(STREAM_PDUS) * 2
        framer = Framer()
        out = []
        offset = 0
        index = 0
        while offset < len(stream):
            size = sizes[index % len(sizes)]
            out.extend(framer.feed(memoryview(stream)[offset : offset + size]))
            offset += size
            index += 1
        self.assertEqual(out, STREAM_PDUS * 2)

    def test_partialKept(self):
        """
        A partial fragment is held until the rest arrives.
        """
        framer = Framer()
        data = vectors.SAMBA_BIND + vectors.SAMBA_BIND_ACK[:20]
        self.assertEqual(framer.feed(data), [vectors.SAMBA_BIND])
        self.assertEqual(framer.buffered, 20)
        self.assertEqual(framer.feed(vectors.SAMBA_BIND_ACK[20:]), [vectors.SAMBA_BIND_ACK])

    def test_bigEndianLength(self):
        """
        frag_length is read in the fragment's own byte order.
        """
        framer = Framer()
        self.assertEqual(framer.feed(vectors.BE_BIND[:-1]), [])
        self.assertEqual(framer.buffered, len(vectors.BE_BIND) - 1)
        self.assertEqual(framer.feed(vectors.BE_BIND[-1:]), [vectors.BE_BIND])

    def test_oversizedRejectedAfterTenBytes(self):
        """
        A frag_length over the limit is rejected as soon as the 10th byte
        arrives, before the rest is buffered.
        """
        framer = Framer(maxFragmentSize=5840)
        data = header(5841)
        self.assertEqual(framer.feed(data[:9]), [])
        self.assertRaises(FragmentTooLarge, framer.feed, data[9:])
        self.assertEqual(framer.buffered, 0)

    def test_limitIsInclusive(self):
        """
        A fragment of exactly maxFragmentSize is accepted.
        """
        fragment = pdu.encode(pdu.Response(callId=1, stub=b"x" * (1432 - 24)))
        self.assertEqual(Framer(maxFragmentSize=1432).feed(fragment), [fragment])

    def test_limitSettable(self):
        """
        Lowering maxFragmentSize applies to the next fragment.
        """
        framer = Framer()
        fragment = pdu.encode(pdu.Response(callId=1, stub=b"x" * 2000))
        self.assertEqual(framer.feed(fragment), [fragment])
        framer.maxFragmentSize = 1432
        self.assertRaises(FragmentTooLarge, framer.feed, fragment)

    def test_tooShort(self):
        """
        A frag_length below the 16-byte header is rejected.
        """
        self.assertRaises(MalformedPDU, Framer().feed, header(15) + b"\x00" * 5)

    def test_badVersion(self):
        """
        A version other than 5.0/5.1 is rejected once 10 bytes are in.
        """
        for version in ((4, 0), (5, 2), (0x47, 0x45)):
            framer = Framer()
            self.assertEqual(framer.feed(header(16, version)[:9]), [])
            self.assertRaises(MalformedPDU, framer.feed, b"\x00")
        minorOne = header(16, (5, 1)) + b"\x00" * 6
        self.assertEqual(Framer().feed(minorOne), [minorOne])

    def test_errorInLaterFragment(self):
        """
        A bad fragment after good ones in the same feed still raises.
        """
        self.assertRaises(MalformedPDU, Framer().feed, vectors.SAMBA_BIND + b"GET / HTTP/1.1\r\n")

    def test_deadAfterError(self):
        """
        After an error every feed raises the same error type, even with
        good data.
        """
        framer = Framer(maxFragmentSize=100)
        self.assertRaises(FragmentTooLarge, framer.feed, vectors.SAMBA_BIND)
        self.assertRaises(FragmentTooLarge, framer.feed, vectors.SAMBA_SHUTDOWN)
        framer = Framer()
        self.assertRaises(MalformedPDU, framer.feed, header(3))
        self.assertRaises(MalformedPDU, framer.feed, vectors.SAMBA_SHUTDOWN)

    def test_oneMegabyte(self):
        """
        One 1 MB feed holding hundreds of fragments yields all of them,
        and the trailing partial one after the next feed.
        """
        fragments = [
            pdu.encode(pdu.Request(callId=i, opnum=11, stub=os.urandom(1000 + (i * 37) % 4000)))
            for i in range(420)
        ]
        stream = b"".join(fragments)
        self.assertGreater(len(stream), 1000000)
        framer = Framer()
        out = framer.feed(stream[:-7])
        self.assertEqual(out, fragments[:-1])
        self.assertEqual(framer.feed(stream[-7:]), fragments[-1:])

    def test_largestFragmentByteAtATime(self):
        """
        A 65535-byte fragment fed byte by byte comes out whole.
        """
        fragment = pdu.encode(pdu.Response(callId=1, stub=os.urandom(65535 - 24)))
        framer = Framer()
        out = []
        for index in range(len(fragment)):
            out.extend(framer.feed(fragment[index : index + 1]))
        self.assertEqual(out, [fragment])

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=200))
    def test_randomBytes(self, data):
        """
        Random bytes yield fragments or raise only L{MalformedPDU} or
        L{FragmentTooLarge}.
        """
        try:
            for fragment in Framer(maxFragmentSize=100).feed(data):
                self.assertLessEqual(len(fragment), 100)
        except (MalformedPDU, FragmentTooLarge):
            pass


class ReassemblerTests(SynchronousTestCase):
    """
    Tests for L{Reassembler}.
    """

    def test_singleFragment(self):
        """
        A FIRST|LAST fragment returns its stub at once.
        """
        reassembler = Reassembler(1000)
        self.assertEqual(reassembler.add(1, b"whole", FIRST | LAST), b"whole")
        self.assertEqual(reassembler.pending, 0)

    def test_inOrder(self):
        """
        First, middle and last fragments join into one stub.
        """
        reassembler = Reassembler(1000)
        self.assertIsNone(reassembler.add(4, b"one ", FIRST))
        self.assertEqual(reassembler.pending, 1)
        self.assertIsNone(reassembler.add(4, b"two ", MIDDLE))
        self.assertEqual(reassembler.add(4, b"three", LAST), b"one two three")
        self.assertEqual(reassembler.pending, 0)

    def test_interleaved(self):
        """
        Fragments of two calls may interleave.
        """
        reassembler = Reassembler(1000)
        reassembler.add(1, b"a1", FIRST)
        reassembler.add(2, b"b1", FIRST)
        reassembler.add(1, b"a2", MIDDLE)
        self.assertEqual(reassembler.pending, 2)
        self.assertEqual(reassembler.add(2, b"b2", LAST), b"b1b2")
        self.assertEqual(reassembler.add(1, b"a3", LAST), b"a1a2a3")

    def test_otherFlagsIgnored(self):
        """
        Flags other than FIRST/LAST do not matter.
        """
        reassembler = Reassembler(1000)
        reassembler.add(1, b"a", FIRST | PFC.OBJECT_UUID | PFC.PENDING_CANCEL)
        self.assertEqual(reassembler.add(1, b"b", LAST | PFC.OBJECT_UUID), b"ab")

    def test_middleWithoutFirst(self):
        """
        A middle or last fragment of an unknown call is a protocol error.
        """
        reassembler = Reassembler(1000)
        self.assertRaises(ProtocolError, reassembler.add, 1, b"x", MIDDLE)
        self.assertRaises(ProtocolError, reassembler.add, 1, b"x", LAST)

    def test_firstTwice(self):
        """
        A first fragment for a call in progress is a protocol error.
        """
        reassembler = Reassembler(1000)
        reassembler.add(1, b"x", FIRST)
        self.assertRaises(ProtocolError, reassembler.add, 1, b"y", FIRST)
        self.assertRaises(ProtocolError, reassembler.add, 1, b"y", FIRST | LAST)

    def test_sizeLimit(self):
        """
        A stub may reach maxStubSize but not pass it; the call is dropped
        before the chunk is buffered.
        """
        reassembler = Reassembler(10)
        reassembler.add(1, b"12345", FIRST)
        self.assertEqual(reassembler.add(1, b"67890", LAST), b"1234567890")
        reassembler.add(2, b"12345", FIRST)
        reassembler.add(2, b"6789", MIDDLE)
        error = self.assertRaises(FragmentTooLarge, reassembler.add, 2, b"ab", MIDDLE)
        self.assertIsInstance(error, ProtocolError)
        self.assertEqual(reassembler.pending, 0)

    def test_firstFragmentOverLimit(self):
        """
        A first fragment larger than maxStubSize is refused and nothing is
        kept.
        """
        reassembler = Reassembler(4)
        self.assertRaises(FragmentTooLarge, reassembler.add, 1, b"12345", FIRST)
        self.assertRaises(FragmentTooLarge, reassembler.add, 2, b"12345", FIRST | LAST)
        self.assertEqual(reassembler.pending, 0)

    def test_tooManyCalls(self):
        """
        More than maxCalls calls in progress is a protocol error.
        """
        reassembler = Reassembler(1000, maxCalls=3)
        for callId in range(3):
            reassembler.add(callId, b"x", FIRST)
        self.assertRaises(ProtocolError, reassembler.add, 3, b"x", FIRST)
        self.assertEqual(reassembler.add(4, b"y", FIRST | LAST), b"y")
        self.assertEqual(reassembler.pending, 3)

    def test_discard(self):
        """
        A discarded call is forgotten; discarding an unknown call does
        nothing.
        """
        reassembler = Reassembler(1000)
        reassembler.add(1, b"x", FIRST)
        reassembler.discard(1)
        reassembler.discard(99)
        self.assertEqual(reassembler.pending, 0)
        self.assertRaises(ProtocolError, reassembler.add, 1, b"x", LAST)

    def test_copiesMutableChunks(self):
        """
        A bytearray or memoryview chunk is copied, so reusing its buffer
        does not change the result.
        """
        reassembler = Reassembler(1000)
        buffer = bytearray(b"abc")
        reassembler.add(1, memoryview(buffer), FIRST)
        buffer[:] = b"XYZ"
        self.assertEqual(reassembler.add(1, buffer, LAST), b"abcXYZ")

    def test_largeStub(self):
        """
        A 256 KiB stub in 5816-byte chunks reassembles exactly.
        """
        stub = os.urandom(256 * 1024)
        reassembler = Reassembler(1 << 20)
        result = None
        for chunk, flags in fragmentStub(stub, 5816):
            result = reassembler.add(7, chunk, flags)
        self.assertEqual(result, stub)


class FragmentationTests(SynchronousTestCase):
    """
    Tests for L{maxStubPerFragment} and L{fragmentStub}.
    """

    def test_withoutVerifier(self):
        """
        Without a verifier the chunk is the fragment minus the header.
        """
        self.assertEqual(maxStubPerFragment(5840, 24, 0), 5816)
        self.assertEqual(maxStubPerFragment(1432, 40, 0), 1392)

    def test_withVerifier(self):
        """
        With a verifier the chunk leaves room for the trailer and is a
        multiple of 16.
        """
        self.assertEqual(maxStubPerFragment(5840, 24, 16), 5792)
        self.assertEqual(maxStubPerFragment(4280, 24, 16), 4224)
        for size in (1432, 4280, 5840, 65535):
            for headerLength in (24, 40):
                self.assertEqual(maxStubPerFragment(size, headerLength, 16) % 16, 0)

    def test_tooSmall(self):
        """
        A fragment size that leaves no room for a stub is a protocol error.
        """
        self.assertRaises(ProtocolError, maxStubPerFragment, 40, 24, 16)
        self.assertRaises(ProtocolError, maxStubPerFragment, 24, 24, 0)

    def test_chunksFit(self):
        """
        Request fragments built from the chunks, with an NTLM verifier,
        fit the fragment size; only the last one carries auth padding,
        and the largest chunk is as large as it can be.
        """
        for maxFragment in (1432, 4280, 5840, 65535):
            for obj in (None, OBJECT):
                flags = PFC.OBJECT_UUID if obj is not None else 0
                chunk = maxStubPerFragment(maxFragment, pdu.headerLength(PType.REQUEST, flags), 16)
                for length in (0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 7, 200000):
                    stub = os.urandom(length)
                    pieces = fragmentStub(stub, chunk)
                    encoded = []
                    for piece, pfcFlags in pieces:
                        message = pdu.Request(
                            callId=1,
                            pfcFlags=pfcFlags,
                            allocHint=length,
                            opnum=11,
                            stub=piece,
                            object=obj,
                            auth=pdu.AuthVerifier(AuthType.NTLM, AuthLevel.PRIVACY, 0, 1, b""),
                        )
                        buf, start, end = pdu.encodeForSigning(message, 16)
                        self.assertLessEqual(len(buf), maxFragment)
                        encoded.append(bytes(buf))
                    decoded = [pdu.decode(fragment) for fragment in encoded]
                    self.assertEqual(b"".join(d.stub for d in decoded), stub)
                    padded = [d.auth.authPadLength != 0 for d in decoded[:-1]]
                    self.assertEqual(padded, [False] * (len(decoded) - 1))
                grown = pdu.Request(
                    callId=1,
                    stub=b"x" * (chunk + 16),
                    object=obj,
                    auth=pdu.AuthVerifier(AuthType.NTLM, AuthLevel.PRIVACY, 0, 1, b""),
                )
                if chunk + 16 + 64 < 65535:
                    self.assertGreater(len(pdu.encodeForSigning(grown, 16)[0]), maxFragment)

    def test_emptyStub(self):
        """
        An empty stub still gives one FIRST|LAST fragment.
        """
        self.assertEqual(fragmentStub(b"", 100), [(b"", FIRST | LAST)])

    def test_flags(self):
        """
        Chunks carry FIRST on the first, LAST on the last, nothing between.
        """
        pieces = fragmentStub(b"abcdefghij", 4)
        self.assertEqual([bytes(p) for p, _ in pieces], [b"abcd", b"efgh", b"ij"])
        self.assertEqual([f for _, f in pieces], [FIRST, MIDDLE, LAST])

    def test_exactMultiple(self):
        """
        A stub of exactly n chunks gives n fragments, the last one full.
        """
        pieces = fragmentStub(b"abcdefgh", 4)
        self.assertEqual([(bytes(p), f) for p, f in pieces], [(b"abcd", FIRST), (b"efgh", LAST)])

    def test_singleChunkUntouched(self):
        """
        A stub that fits one chunk is returned as it is.
        """
        stub = b"abc"
        [(piece, flags)] = fragmentStub(stub, 3)
        self.assertIs(piece, stub)
        self.assertEqual(flags, FIRST | LAST)

    def test_badChunkSize(self):
        """
        A chunk size below 1 is a programming error.
        """
        self.assertRaises(ValueError, fragmentStub, b"abc", 0)
