# -*- test-case-name: tests.mapi.test_extbuf -*-
"""
The framing of EMSMDB payloads: RPC_HEADER_EXT chains ([MS-OXCRPC] 2.2.2.1)
as carried by rgbIn/rgbOut of EcDoRpcExt2 and the aux buffers of
EcDoConnectEx/EcDoRpcExt2, the ROP buffer envelope inside them
([MS-OXCROPS] 2.2.1), and the whole-blob XOR of the old EcDoRpc.

An extended buffer is an 8-byte header, four little-endian u16 (Version,
Flags, Size, SizeActual), followed by C{Size} payload bytes. The sender
compresses first (MS-XCA Plain LZ77), then XORs with 0xA5; the receiver
undoes the XOR first, then decompresses to exactly C{SizeActual} bytes. The
header itself is never obfuscated. Several header+payload pairs may follow
each other (rgbOut with C{pulFlags} Chain); the last one carries C{LAST}.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass, field
from struct import Struct

from mapiproxy.errors import CompressionError, MapiBufferError
from mapiproxy.mapi.lz77 import compress, decompress
from mapiproxy.mapi.obfuscation import xorMagic

__all__ = [
    "COMPRESSED",
    "XOR_MAGIC",
    "LAST",
    "HEADER_SIZE",
    "MAX_PAYLOAD",
    "DEFAULT_MAX_CHAIN_SIZE",
    "ExtendedBuffer",
    "RopBuffer",
    "decodeChain",
    "encodeChain",
    "splitPayload",
    "decodeEcDoRpcBlob",
    "encodeEcDoRpcBlob",
]

#: RPC_HEADER_EXT Flags ([MS-OXCRPC] 2.2.2.1): the payload is compressed.
COMPRESSED = 0x0001
#: The payload is XORed with 0xA5.
XOR_MAGIC = 0x0002
#: This is the last header of the chain.
LAST = 0x0004
_KNOWN_FLAGS = COMPRESSED | XOR_MAGIC | LAST

#: Length of an RPC_HEADER_EXT.
HEADER_SIZE = 8
#: The largest uncompressed payload one extended buffer may carry
#: (32 KB, [MS-OXCRPC] 3.1.4.2.1).
MAX_PAYLOAD = 0x8000
#: Default cap on the sum of the decoded payload sizes of one chain; the
#: largest rgbOut is 0x40000 bytes on the wire and compression multiplies it.
DEFAULT_MAX_CHAIN_SIZE = 1 << 22

_HEADER = Struct("<HHHH")
_U16 = Struct("<H")


@dataclass
class ExtendedBuffer:
    """
    One RPC_HEADER_EXT and its payload, in plain form.

    On decode, C{flags} is the Flags field as received and C{compressed} /
    C{obfuscated} mirror its bits. On encode (L{encodeChain}) C{compressed}
    and C{obfuscated} say what the sender I{asks} for; C{flags} is ignored
    and recomputed (C{LAST} from the position in the chain, C{COMPRESSED}
    cleared when compression does not make the payload smaller).

    @ivar flags: The RPC_HEADER_EXT Flags field (L{COMPRESSED},
        L{XOR_MAGIC}, L{LAST}).
    @type flags: L{int}

    @ivar payload: The plain payload (after un-XOR and decompression).
    @type payload: L{bytes}

    @ivar compressed: Whether the payload is (to be) LZ77-compressed.
    @type compressed: L{bool}

    @ivar obfuscated: Whether the payload is (to be) XORed with 0xA5.
    @type obfuscated: L{bool}

    @ivar version: The RPC_HEADER_EXT Version field; always 0.
    @type version: L{int}
    """

    flags: int
    payload: bytes
    compressed: bool
    obfuscated: bool
    version: int = 0

    @classmethod
    def make(cls, payload, compressed=False, obfuscated=False, last=True):
        """
        Build a buffer whose C{flags} agree with the other fields.

        @param payload: The plain payload.
        @type payload: L{bytes}

        @param compressed: Ask for compression.
        @type compressed: L{bool}

        @param obfuscated: Ask for XOR 0xA5.
        @type obfuscated: L{bool}

        @param last: Set L{LAST}.
        @type last: L{bool}

        @rtype: L{ExtendedBuffer}
        """
        flags = (
            (COMPRESSED if compressed else 0)
            | (XOR_MAGIC if obfuscated else 0)
            | (LAST if last else 0)
        )
        return cls(flags, bytes(payload), bool(compressed), bool(obfuscated))

    @property
    def last(self):
        """
        Whether C{flags} has L{LAST}.

        @rtype: L{bool}
        """
        return bool(self.flags & LAST)


def decodeChain(data, maxSize=DEFAULT_MAX_CHAIN_SIZE):
    """
    Decode a chain of RPC_HEADER_EXT + payload pairs ([MS-OXCRPC] 2.2.2.1).

    The walk stops at the first header with L{LAST}. Strict on framing: data
    that ends without a L{LAST} header, and bytes after it, are errors (the
    wire sizes cbIn/pcbOut/cbAuxIn count exactly the chain).

    @param data: rgbIn, rgbOut, rgbAuxIn or rgbAuxOut.
    @type data: L{bytes}-like

    @param maxSize: The most plain payload bytes the whole chain may decode
        to; checked before each decompression.
    @type maxSize: L{int}

    @return: The buffers, in order.
    @rtype: L{list} of L{ExtendedBuffer}

    @raise MapiBufferError: On a short header or payload, a Version other
        than 0, an unknown flag bit, C{Size != SizeActual} on an
        uncompressed payload, a missing L{LAST}, trailing bytes, or a chain
        decoding past C{maxSize}.
    @raise CompressionError: When a compressed payload does not decode to
        exactly C{SizeActual} bytes.
    """
    data = bytes(data)
    total = len(data)
    buffers = []
    position = 0
    plainSize = 0
    while True:
        if total - position < HEADER_SIZE:
            if position == total:
                raise MapiBufferError(
                    "RPC_HEADER_EXT chain ends at offset %d without a Last flag"
                    % (position,)
                )
            raise MapiBufferError(
                "truncated RPC_HEADER_EXT at offset %d (%d bytes left)"
                % (position, total - position)
            )
        version, flags, size, sizeActual = _HEADER.unpack_from(data, position)
        if version != 0:
            raise MapiBufferError(
                "RPC_HEADER_EXT Version %d at offset %d (must be 0)" % (version, position)
            )
        if flags & ~_KNOWN_FLAGS:
            raise MapiBufferError(
                "RPC_HEADER_EXT Flags 0x%04x at offset %d has unknown bits"
                % (flags, position)
            )
        start = position + HEADER_SIZE
        end = start + size
        if end > total:
            raise MapiBufferError(
                "RPC_HEADER_EXT at offset %d announces %d payload bytes, %d left"
                % (position, size, total - start)
            )
        compressed = bool(flags & COMPRESSED)
        if not compressed and size != sizeActual:
            raise MapiBufferError(
                "uncompressed RPC_HEADER_EXT at offset %d: Size %d != SizeActual %d"
                % (position, size, sizeActual)
            )
        plainSize += sizeActual
        if plainSize > maxSize:
            raise MapiBufferError("RPC_HEADER_EXT chain decodes past %d bytes" % (maxSize,))
        payload = data[start:end]
        if flags & XOR_MAGIC:
            payload = xorMagic(payload)
        if compressed:
            try:
                payload = decompress(payload, sizeActual)
            except CompressionError as e:
                raise CompressionError(
                    "RPC_HEADER_EXT at offset %d: %s" % (position, e)
                ) from None
        buffers.append(ExtendedBuffer(flags, payload, compressed, bool(flags & XOR_MAGIC)))
        position = end
        if flags & LAST:
            break
    if position != total:
        raise MapiBufferError(
            "%d byte(s) after the Last RPC_HEADER_EXT at offset %d"
            % (total - position, position)
        )
    return buffers


def encodeChain(buffers, maxPayload=MAX_PAYLOAD):
    """
    Encode buffers as an RPC_HEADER_EXT chain, the sender's way: compress
    first, then XOR ([MS-OXCRPC] 2.2.2.1).

    A buffer asking for compression is sent compressed only when that makes
    it smaller; otherwise its C{COMPRESSED} flag is cleared and it travels
    plain (Exchange does the same, and Size < SizeActual then holds for
    every compressed buffer). L{LAST} is set on the final buffer only.

    @param buffers: The buffers, in order; at least one.
    @type buffers: iterable of L{ExtendedBuffer}

    @param maxPayload: The largest plain payload allowed per buffer.
    @type maxPayload: L{int}

    @return: The chain.
    @rtype: L{bytes}

    @raise MapiBufferError: When there is no buffer, a payload exceeds
        C{maxPayload} (32 KB by default, [MS-OXCRPC] 3.1.4.2.1), or a
        version is not 0.
    """
    buffers = list(buffers)
    if not buffers:
        raise MapiBufferError("an RPC_HEADER_EXT chain needs at least one buffer")
    parts = []
    lastIndex = len(buffers) - 1
    for index, buf in enumerate(buffers):
        payload = bytes(buf.payload)
        sizeActual = len(payload)
        if sizeActual > maxPayload or sizeActual > 0xFFFF:
            raise MapiBufferError(
                "extended buffer payload of %d bytes exceeds %d" % (sizeActual, maxPayload)
            )
        if buf.version != 0:
            raise MapiBufferError("RPC_HEADER_EXT Version must be 0, not %r" % (buf.version,))
        flags = LAST if index == lastIndex else 0
        wire = payload
        if buf.compressed:
            packed = compress(payload)
            if len(packed) < sizeActual:
                wire = packed
                flags |= COMPRESSED
        if buf.obfuscated:
            wire = xorMagic(wire)
            flags |= XOR_MAGIC
        parts.append(_HEADER.pack(0, flags, len(wire), sizeActual))
        parts.append(wire)
    return b"".join(parts)


def splitPayload(payload, flags, maxChunk=MAX_PAYLOAD):
    """
    Cut a payload into extended buffers of at most C{maxChunk} plain bytes,
    for an rgbOut chain.

    The cut is by bytes: a caller chaining ROP responses must hand in one
    complete ROP buffer per chunk (each extended buffer of rgbOut holds a
    whole ROP buffer).

    @param payload: The plain payload; an empty one gives one empty buffer.
    @type payload: L{bytes}

    @param flags: L{COMPRESSED} and/or L{XOR_MAGIC} to ask for on every
        buffer (L{LAST} is ignored: it goes on the final buffer).
    @type flags: L{int}

    @param maxChunk: The largest chunk.
    @type maxChunk: L{int}

    @rtype: L{list} of L{ExtendedBuffer}

    @raise MapiBufferError: When C{maxChunk} is not positive.
    """
    if maxChunk <= 0:
        raise MapiBufferError("maxChunk must be positive, not %r" % (maxChunk,))
    payload = bytes(payload)
    compressed = bool(flags & COMPRESSED)
    obfuscated = bool(flags & XOR_MAGIC)
    starts = range(0, len(payload), maxChunk) if payload else [0]
    lastStart = starts[-1]
    return [
        ExtendedBuffer.make(
            payload[start : start + maxChunk],
            compressed=compressed,
            obfuscated=obfuscated,
            last=start == lastStart,
        )
        for start in starts
    ]


@dataclass
class RopBuffer:
    """
    The ROP buffer envelope ([MS-OXCROPS] 2.2.1): C{RopSize} (u16, counting
    itself), the ROP requests or responses, then the server object handle
    table (u32 each) filling the rest of the payload.

    @ivar rops: The RopsList bytes (not decoded here).
    @type rops: L{bytes}

    @ivar handles: The server object handle table.
    @type handles: L{list} of L{int}
    """

    rops: bytes = b""
    handles: list = field(default_factory=list)

    @property
    def ropSize(self):
        """
        The RopSize field: 2 + the length of the ROPs.

        @rtype: L{int}
        """
        return 2 + len(self.rops)

    @property
    def idle(self):
        """
        Whether the buffer carries no ROP (C{RopSize == 2}), as the idle
        requests and responses clients send to poll do.

        @rtype: L{bool}
        """
        return not self.rops

    @classmethod
    def decode(cls, payload):
        """
        Parse a ROP buffer.

        @param payload: The plain payload of an extended buffer, or an
            un-XORed EcDoRpc blob.
        @type payload: L{bytes}-like

        @rtype: L{RopBuffer}

        @raise MapiBufferError: When the payload is shorter than 2 bytes,
            RopSize is below 2 or past the end, or the handle table is not
            a whole number of u32.
        """
        payload = bytes(payload)
        if len(payload) < 2:
            raise MapiBufferError("ROP buffer of %d byte(s) has no RopSize" % (len(payload),))
        (ropSize,) = _U16.unpack_from(payload, 0)
        if ropSize < 2 or ropSize > len(payload):
            raise MapiBufferError(
                "RopSize %d outside 2..%d" % (ropSize, len(payload))
            )
        rest = len(payload) - ropSize
        if rest % 4:
            raise MapiBufferError(
                "server object handle table of %d bytes is not a multiple of 4" % (rest,)
            )
        count = rest // 4
        handles = list(Struct("<%dI" % (count,)).unpack_from(payload, ropSize)) if count else []
        return cls(payload[2:ropSize], handles)

    def encode(self):
        """
        Serialize the ROP buffer.

        @rtype: L{bytes}

        @raise MapiBufferError: When the ROPs do not fit RopSize's u16, or
            a handle is not a u32.
        """
        ropSize = self.ropSize
        if ropSize > 0xFFFF:
            raise MapiBufferError("ROPs of %d bytes do not fit RopSize" % (len(self.rops),))
        try:
            table = Struct("<%dI" % (len(self.handles),)).pack(*self.handles)
        except Exception as e:
            raise MapiBufferError("bad server object handle: %s" % (e,)) from None
        return _U16.pack(ropSize) + bytes(self.rops) + table


def decodeEcDoRpcBlob(blob):
    """
    Decode the mapi_request/mapi_response blob of EcDoRpc (opnum 2): the
    whole blob is XORed with 0xA5, with no header and no compression, and
    holds a ROP buffer.

    @param blob: The N bytes after the u32 count in the stub.
    @type blob: L{bytes}-like

    @rtype: L{RopBuffer}

    @raise MapiBufferError: See L{RopBuffer.decode}.
    """
    return RopBuffer.decode(xorMagic(blob))


def encodeEcDoRpcBlob(ropBuffer):
    """
    Encode a ROP buffer as an EcDoRpc blob (XOR 0xA5 of the whole buffer).

    @param ropBuffer: The ROP buffer.
    @type ropBuffer: L{RopBuffer}

    @rtype: L{bytes}
    """
    return xorMagic(ropBuffer.encode())
