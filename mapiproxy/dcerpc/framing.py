# -*- test-case-name: tests.dcerpc.test_framing -*-
"""
Sans-I/O stream framing, stub reassembly and stub fragmentation for
connection-oriented DCE/RPC over a byte stream (C706 12.6.2, [MS-RPCE]
2.2.2.1 and 3.3.1.5.6).
"""

from mapiproxy.dcerpc import constants
from mapiproxy.dcerpc.constants import PFC
from mapiproxy.errors import FragmentTooLarge, MalformedPDU, ProtocolError

_FIRST = int(PFC.FIRST_FRAG)
_LAST = int(PFC.LAST_FRAG)
#: rpc_vers, rpc_vers_minor, PTYPE, pfc_flags, drep[4], frag_length: the
#: bytes needed to know how long a fragment is.
_PREFIX_LENGTH = 10


class Framer:
    """
    Cut a byte stream into fragments by their C{frag_length}.

    The first 10 bytes of each fragment are checked (rpc_vers 5,
    rpc_vers_minor 0 or 1, 16 <= frag_length <= L{maxFragmentSize}) as
    soon as they arrive, before any more of it is buffered. After an error
    the framer is dead: every later L{feed} raises the same error type.

    @ivar maxFragmentSize: the largest fragment accepted; may be changed
        at any time (e.g. after max_xmit_frag/max_recv_frag negotiation).
    @type maxFragmentSize: L{int}
    """

    def __init__(self, maxFragmentSize=constants.MAX_FRAGMENT_SIZE):
        """
        @param maxFragmentSize: the largest fragment accepted.
        @type maxFragmentSize: L{int}
        """
        self.maxFragmentSize = maxFragmentSize
        self._buffer = bytearray()
        self._error = None

    @property
    def buffered(self):
        """
        The number of bytes held for an incomplete fragment.

        @rtype: L{int}
        """
        return len(self._buffer)

    def feed(self, data):
        """
        Add bytes from the stream.

        @param data: the next bytes of the stream.
        @type data: L{bytes}, L{bytearray} or L{memoryview}
        @return: the fragments completed by these bytes, in order, each
            exactly C{frag_length} bytes long.
        @rtype: L{list} of L{bytes}
        @raise MalformedPDU: a fragment has a bad version or a frag_length
            below 16.
        @raise FragmentTooLarge: a fragment is longer than
            L{maxFragmentSize}.
        """
        if self._error is not None:
            raise type(self._error)(*self._error.args)
        buffer = self._buffer
        if not buffer and type(data) is bytes and len(data) >= _PREFIX_LENGTH and self._checkPrefix(data, 0) == len(data):
            # The usual read: exactly one whole fragment, kept as it is.
            return [data]
        if buffer:
            buffer += data
            source = buffer
        else:
            source = data
        fragments = []
        offset = 0
        available = len(source)
        with memoryview(source) as view:
            while available - offset >= _PREFIX_LENGTH:
                length = self._checkPrefix(view, offset)
                if available - offset < length:
                    break
                fragments.append(bytes(view[offset : offset + length]))
                offset += length
            if source is buffer:
                rest = None
            else:
                rest = bytes(view[offset:]) if offset < available else b""
        if rest is None:
            del buffer[:offset]
        else:
            buffer += rest
        return fragments

    def _checkPrefix(self, view, offset):
        """
        Check the first 10 bytes of a fragment.

        @return: its frag_length.
        @raise MalformedPDU: bad version or frag_length below 16.
        @raise FragmentTooLarge: frag_length above L{maxFragmentSize}.
        """
        if view[offset] != constants.RPC_VERSION or view[offset + 1] > 1:
            self._fail(
                MalformedPDU(
                    "unsupported RPC version %d.%d" % (view[offset], view[offset + 1])
                )
            )
        if view[offset + 4] & 0x10:
            length = view[offset + 8] | (view[offset + 9] << 8)
        else:
            length = (view[offset + 8] << 8) | view[offset + 9]
        if length < constants.COMMON_HEADER_LENGTH:
            self._fail(MalformedPDU("frag_length %d is shorter than the header" % (length,)))
        if length > self.maxFragmentSize:
            self._fail(
                FragmentTooLarge(
                    "frag_length %d is over the limit of %d" % (length, self.maxFragmentSize)
                )
            )
        return length

    def _fail(self, error):
        """
        Kill the framer and raise C{error}.
        """
        self._error = error
        self._buffer = bytearray()
        raise error


class Reassembler:
    """
    Join the stubs of multi-fragment requests or responses by call_id
    (C706 12.6.2, [MS-RPCE] 3.3.1.5.6). Limits are checked before anything
    is buffered.

    @ivar maxStubSize: the largest reassembled stub accepted.
    @ivar maxCalls: the most calls that may be in progress at once.
    """

    def __init__(self, maxStubSize, maxCalls=64):
        """
        @param maxStubSize: the largest reassembled stub accepted.
        @type maxStubSize: L{int}
        @param maxCalls: the most calls that may be in progress at once.
        @type maxCalls: L{int}
        """
        self.maxStubSize = maxStubSize
        self.maxCalls = maxCalls
        self._calls = {}

    @property
    def pending(self):
        """
        The number of calls being assembled.

        @rtype: L{int}
        """
        return len(self._calls)

    def add(self, callId, stub, pfcFlags):
        """
        Add the stub of one fragment.

        @param callId: the fragment's call_id.
        @type callId: L{int}
        @param stub: the fragment's stub (copied unless it is L{bytes}).
        @type stub: bytes-like
        @param pfcFlags: the fragment's flags (L{PFC.FIRST_FRAG},
            L{PFC.LAST_FRAG}).
        @type pfcFlags: L{int}
        @return: the whole stub once the last fragment is in, else L{None}.
        @rtype: L{bytes} or L{None}
        @raise ProtocolError: a fragment without a first one, a first
            fragment for a call already in progress, or more than
            L{maxCalls} calls in progress.
        @raise FragmentTooLarge: the stub grows past L{maxStubSize}; the
            call is dropped.
        """
        if type(stub) is not bytes:
            stub = bytes(stub)
        calls = self._calls
        if pfcFlags & _FIRST:
            if callId in calls:
                raise ProtocolError("first fragment for call %d already in progress" % (callId,))
            self._checkSize(callId, len(stub))
            if pfcFlags & _LAST:
                return stub
            if len(calls) >= self.maxCalls:
                raise ProtocolError(
                    "more than %d fragmented calls in progress" % (self.maxCalls,)
                )
            calls[callId] = [len(stub), stub]
            return None
        state = calls.get(callId)
        if state is None:
            raise ProtocolError("fragment for call %d without a first fragment" % (callId,))
        total = state[0] + len(stub)
        if total > self.maxStubSize:
            del calls[callId]
            self._checkSize(callId, total)
        state[0] = total
        state.append(stub)
        if pfcFlags & _LAST:
            del calls[callId]
            return b"".join(state[1:])
        return None

    def discard(self, callId):
        """
        Forget a call in progress (e.g. after an orphaned or co_cancel);
        nothing happens when it is not in progress.

        @param callId: the call_id.
        @type callId: L{int}
        """
        self._calls.pop(callId, None)

    def _checkSize(self, callId, total):
        """
        @raise FragmentTooLarge: C{total} is past L{maxStubSize}.
        """
        if total > self.maxStubSize:
            raise FragmentTooLarge(
                "stub of call %d grows to %d bytes, over the limit of %d"
                % (callId, total, self.maxStubSize)
            )


def maxStubPerFragment(maxFragment, headerLength, signatureSize):
    """
    The largest stub chunk that fits one fragment.

    With a verifier (C{signatureSize > 0}) the room for the 8-byte
    sec_trailer, the verifier and the worst-case auth padding is taken
    off, and the result is a multiple of L{constants.AUTH_PAD_ALIGNMENT}
    so that only the last fragment needs padding (as Samba does).

    @param maxFragment: the negotiated fragment size.
    @type maxFragment: L{int}
    @param headerLength: the bytes before the stub (see
        L{mapiproxy.dcerpc.pdu.headerLength}).
    @type headerLength: L{int}
    @param signatureSize: the verifier length, 0 without one.
    @type signatureSize: L{int}
    @rtype: L{int}
    @raise ProtocolError: the fragment size leaves no room for a stub.
    """
    room = maxFragment - headerLength
    if signatureSize > 0:
        room -= constants.SEC_TRAILER_LENGTH + signatureSize
        room -= room % constants.AUTH_PAD_ALIGNMENT
    if room <= 0:
        raise ProtocolError(
            "a fragment of %d bytes leaves no room for a stub" % (maxFragment,)
        )
    return room


def fragmentStub(stub, maxChunk):
    """
    Cut a stub into chunks of at most C{maxChunk} bytes with their
    first/last fragment flags. An empty stub still gives one fragment.

    @param stub: the whole stub.
    @type stub: bytes-like
    @param maxChunk: see L{maxStubPerFragment}.
    @type maxChunk: L{int}
    @return: C{(chunk, pfcFlags)} pairs; when there is more than one, the
        chunks are L{memoryview} slices of C{stub} (which must not change
        while they are used).
    @rtype: L{list} of L{tuple}
    @raise ValueError: C{maxChunk} is not positive.
    """
    if maxChunk <= 0:
        raise ValueError("maxChunk must be positive, not %r" % (maxChunk,))
    length = len(stub)
    if length <= maxChunk:
        return [(stub, _FIRST | _LAST)]
    view = memoryview(stub)
    chunks = []
    for start in range(0, length, maxChunk):
        flags = 0
        if start == 0:
            flags |= _FIRST
        if start + maxChunk >= length:
            flags |= _LAST
        chunks.append((view[start : start + maxChunk], flags))
    return chunks
