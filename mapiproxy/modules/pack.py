# -*- test-case-name: tests.modules.test_pack -*-
"""
C{pack} (OpenChange's C{mpm_pack}): between two mapiproxy instances, move
the ROPs listed in C{mpm_pack:opnums} into one private ROP (RopProxyPack,
RopId 0xA5) at the hop next to the client, and put them back where they
were at the hop next to Exchange.

Both ends run with C{mpm_pack:lasthop = yes} (the default); hops in between
run with C{lasthop = no} and pass every request through untouched. The
first hop sees no 0xA5 ROP and packs; the last hop sees one and unpacks.
Responses are never packed.

Wire form of RopProxyPack (OpenChange's private layout, see
L{mapiproxy.mapi.rops.notify.ProxyPackRequest}): RopId 0xA5, LogonId 0,
InputHandleIndex 0, then C{cb} (u16) and C{cb} bytes of (position u8,
whole ROP request) pairs, where position is the index the ROP had in the
client's RopsList ([MS-OXCROPS] 2.2.1). It is appended after the ROPs that
stay; the server object handle table is not touched.

Unlike OpenChange, which only looked at EcDoRpc (opnum 2), this module
handles EcDoRpcExt2 (opnum 11) too: the rgbIn RPC_HEADER_EXT chain
([MS-OXCRPC] 2.2.2.1) is unframed, each ROP buffer repacked, and the chain
framed again asking for the flags it came with (compression, XOR 0xA5;
L{mapiproxy.mapi.extbuf.encodeChain} still sends a buffer uncompressed when
compression would not make it smaller, as the sender rule allows).

For EcDoRpc, OpenChange left the C{length} and C{size} parameters as the
client sent them after changing the blob. Here they follow it: C{length}
(RopSize for some clients, the whole blob for OpenChange's libmapi) moves
by the change in size when it held either value, and C{size} is raised to
the new blob length when it held the old one or is now smaller than the
blob (an NDR max_count below the actual count).

ROPs are moved as the exact bytes the client sent: the ROP codec only
finds where each ROP ends, and a buffer whose ROPs it cannot delimit
exactly (an unknown RopId, a ROP that does not parse or does not encode
back to the same bytes) is left unpacked. A RopProxyPack that cannot be
unpacked (a corrupt or unknown blob, a position that does not fit) fails
the call with L{mapiproxy.errors.RopError}, so that no private ROP reaches
Exchange.
"""

from dataclasses import dataclass
from struct import Struct

from twisted.logger import Logger

from mapiproxy.config._values import splitList
from mapiproxy.errors import MapiBufferError, MapiProxyError, RopError
from mapiproxy.mapi import extbuf
from mapiproxy.mapi.obfuscation import xorMagic
from mapiproxy.mapi.rops import RopContext, UnknownRop, decodeRequests, encodeRequests
from mapiproxy.mapi.rops.notify import PROXY_PACK_ID, ProxyPackRequest
from mapiproxy.modules.base import Module

__all__ = [
    "ECDORPC",
    "ECDORPCEXT2",
    "PROXY_PACK_ID",
    "RawRop",
    "PackModule",
    "parseOpnums",
    "splitRequests",
    "packRops",
    "unpackRops",
    "repackRopBuffer",
]

#: EcDoRpc, the old EMSMDB ROP call (XOR-obfuscated blob).
ECDORPC = 0x2
#: EcDoRpcExt2, the modern ROP call (RPC_HEADER_EXT chain in rgbIn).
ECDORPCEXT2 = 0xB

#: The C{session.state} key of the module's per-session ROP context.
_STATE_KEY = "mpm_pack:rops"

_PACK_HEADER = Struct("<BBBH")

_log = Logger(namespace="mapiproxy.modules.pack")


@dataclass(frozen=True)
class RawRop:
    """
    One ROP request of a RopsList: its decoded form and the exact bytes it
    had on the wire.

    @ivar ropId: The RopId.
    @type ropId: L{int}

    @ivar data: The whole ROP request as received (RopId, LogonId,
        InputHandleIndex, body).
    @type data: L{bytes}

    @ivar request: The decoded L{mapiproxy.mapi.rops.RopRequest}.
    """

    ropId: int
    data: bytes
    request: object


def parseOpnums(value):
    """
    Parse C{mpm_pack:opnums} as OpenChange does: a list of hexadecimal RopIds
    (C{0x70} and C{70} are the same), each with C{0 < v < 0xFF}, no
    duplicates. RopProxyPack's own id 0xA5 is refused too: it cannot be
    packed into itself.

    @param value: The option as written.
    @type value: L{mapiproxy.config.ConfigValue}

    @return: The RopIds, in the order written.
    @rtype: L{tuple} of L{int}

    @raise mapiproxy.errors.ConfigError: On a word that is not hexadecimal,
        a value out of range, 0xA5, or a duplicate; the error names the
        file, line and option.
    """
    seen = []
    for word in splitList(value.value):
        digits = word[2:] if word[:2].lower() == "0x" else word
        try:
            if not digits or digits.startswith(("+", "-", "_")) or "_" in digits:
                raise ValueError(word)
            number = int(digits, 16)
        except ValueError:
            raise value.error("%r is not a hexadecimal ROP id" % (word,)) from None
        if not 0 < number < 0xFF:
            raise value.error("ROP id 0x%X is out of range (0x01..0xFE)" % (number,))
        if number == PROXY_PACK_ID:
            raise value.error("ROP id 0xA5 is the pack ROP itself and cannot be packed")
        if number in seen:
            raise value.error("ROP id 0x%02X is listed twice" % (number,))
        seen.append(number)
    return tuple(seen)


def _encodeAlone(request, handles):
    """
    The bytes of one request, encoded on its own with a scratch context.
    """
    return encodeRequests([request], RopContext(), handles)


def splitRequests(rops, handles, ctx):
    """
    Cut a RopsList into its ROP requests, each with its exact bytes.

    ROPs carry no length ([MS-OXCROPS] 2.2.1): the codec decodes the list,
    then each decoded request is encoded alone, and the pieces must give
    back the list byte for byte.

    @param rops: The RopsList (after RopSize, before the handle table).
    @type rops: L{bytes}

    @param handles: The buffer's server object handle table.
    @type handles: L{list} of L{int}

    @param ctx: The session's ROP context (updated by the decode, as for
        every buffer the session sends).
    @type ctx: L{RopContext}

    @rtype: L{list} of L{RawRop}

    @raise RopError: When a ROP is unknown or does not parse, or the
        pieces do not give back C{rops} exactly.
    """
    rops = bytes(rops)
    items = decodeRequests(rops, handles, ctx)
    pieces = []
    offset = 0
    for item in items:
        if isinstance(item, UnknownRop):
            raise RopError(
                "ROP 0x%02X at offset %d cannot be delimited: %s" % (item.ropId, offset, item.error)
            )
        data = _encodeAlone(item, handles)
        if rops[offset : offset + len(data)] != data:
            raise RopError(
                "%s at offset %d does not encode back to the bytes received" % (item.NAME, offset)
            )
        pieces.append(RawRop(item.ROP_ID, data, item))
        offset += len(data)
    if offset != len(rops):
        raise RopError("%d byte(s) left after the last ROP" % (len(rops) - offset,))
    return pieces


def packRops(pieces, opnums):
    """
    The pack step of OpenChange's mpm_pack: every ROP whose RopId is in
    C{opnums} moves, preceded by its index (u8) in the list, into one
    RopProxyPack appended after the ROPs that stay (in their order).

    @param pieces: The request's ROPs.
    @type pieces: L{list} of L{RawRop}

    @param opnums: The RopIds to pack.
    @type opnums: collection of L{int}

    @return: The new RopsList, or L{None} when no ROP is to be packed.
    @rtype: L{bytes} or L{None}

    @raise RopError: When a packed ROP's index does not fit a u8, or the
        packed ROPs do not fit RopProxyPack's u16 size.
    """
    kept = []
    packed = []
    for index, piece in enumerate(pieces):
        if piece.ropId in opnums and piece.ropId != PROXY_PACK_ID:
            if index > 0xFF:
                raise RopError("ROP %d of the list cannot be packed: its index does not fit a u8" % (index,))
            packed.append(bytes((index,)) + piece.data)
        else:
            kept.append(piece.data)
    if not packed:
        return None
    blob = b"".join(packed)
    if len(blob) > 0xFFFF:
        raise RopError("%d bytes of packed ROPs do not fit RopProxyPack" % (len(blob),))
    kept.append(_PACK_HEADER.pack(PROXY_PACK_ID, 0, 0, len(blob)))
    kept.append(blob)
    return b"".join(kept)


def _packedPieces(piece, handles):
    """
    The (position, bytes) pairs inside one RopProxyPack, each checked to be
    exactly the bytes of the blob.

    @raise RopError: When the blob did not decode or is not reproduced.
    """
    request = piece.request
    if not isinstance(request, ProxyPackRequest) or isinstance(request.packed, (bytes, bytearray)):
        raise RopError("RopProxyPack blob does not decode into ROP requests")
    blob = piece.data[_PACK_HEADER.size :]
    offset = 0
    pairs = []
    for item in request.packed:
        data = _encodeAlone(item.request, handles)
        expected = bytes((item.position,)) + data
        if blob[offset : offset + len(expected)] != expected:
            raise RopError(
                "packed %s at offset %d does not encode back to the bytes received"
                % (item.request.NAME, offset)
            )
        pairs.append((item.position, data))
        offset += len(expected)
    if offset != len(blob):
        raise RopError("%d byte(s) left in RopProxyPack after the last ROP" % (len(blob) - offset,))
    return pairs


def unpackRops(pieces, handles=()):
    """
    The unpack step: every ROP of every RopProxyPack goes back to its
    recorded position; the other ROPs fill the free slots in their order.

    @param pieces: The request's ROPs, among them one or more RopProxyPack.
    @type pieces: L{list} of L{RawRop}

    @param handles: The buffer's handle table.
    @type handles: L{list} of L{int}

    @return: The restored RopsList.
    @rtype: L{bytes}

    @raise RopError: When a RopProxyPack does not decode, or a position is
        past the end of the restored list or used twice.
    """
    handles = list(handles)
    others = []
    packed = []
    for piece in pieces:
        if piece.ropId == PROXY_PACK_ID:
            packed.extend(_packedPieces(piece, handles))
        else:
            others.append(piece.data)
    slots = [None] * (len(others) + len(packed))
    for position, data in packed:
        if position >= len(slots):
            raise RopError(
                "packed ROP position %d is past the end of a %d-ROP list" % (position, len(slots))
            )
        if slots[position] is not None:
            raise RopError("packed ROP position %d is used twice" % (position,))
        slots[position] = data
    rest = iter(others)
    return b"".join(data if data is not None else next(rest) for data in slots)


def repackRopBuffer(payload, ctx, opnums):
    """
    Pack or unpack one ROP input buffer ([MS-OXCROPS] 2.2.1): unpack when it
    holds a RopProxyPack, otherwise pack the listed ROPs.

    @param payload: The plain ROP buffer (RopSize, RopsList, handle table).
    @type payload: L{bytes}

    @param ctx: The session's ROP context.
    @type ctx: L{RopContext}

    @param opnums: The RopIds to pack.
    @type opnums: collection of L{int}

    @return: C{(new payload, "pack" or "unpack")}, or C{(None, reason)}
        when the buffer stays as it is (C{"idle"}, C{"nothing"}, or why
        its ROPs cannot be delimited).
    @rtype: L{tuple}

    @raise MapiBufferError: When the payload is not a ROP buffer.
    @raise RopError: When a RopProxyPack cannot be unpacked.
    """
    buffer = extbuf.RopBuffer.decode(payload)
    if buffer.idle:
        return None, "idle"
    try:
        pieces = splitRequests(buffer.rops, buffer.handles, ctx)
    except RopError as e:
        return None, str(e)
    if any(piece.ropId == PROXY_PACK_ID for piece in pieces):
        rops, action = unpackRops(pieces, buffer.handles), "unpack"
    else:
        try:
            rops = packRops(pieces, opnums)
        except RopError as e:
            return None, str(e)
        if rops is None:
            return None, "nothing"
        action = "pack"
    try:
        return extbuf.RopBuffer(rops, buffer.handles).encode(), action
    except MapiBufferError as e:
        if action == "unpack":
            raise
        return None, str(e)


class PackModule(Module):
    """
    OpenChange's C{mpm_pack} for EcDoRpc and EcDoRpcExt2.

    Options: C{mpm_pack:opnums} (hexadecimal RopIds to pack, see
    L{parseOpnums}; none by default, as on a last hop that only unpacks)
    and C{mpm_pack:lasthop} (default yes).

    @ivar opnums: The RopIds to pack.
    @type opnums: L{frozenset} of L{int}

    @ivar lasthop: Whether this instance is an end of the chain.
    @type lasthop: L{bool}
    """

    name = "pack"
    description = "Pack specified MAPI calls into a custom MAPI call"
    endpoint = "exchange_emsmdb"

    def __init__(self):
        self.opnums = frozenset()
        self.lasthop = True

    def startModule(self, options):
        """
        Read C{opnums} and C{lasthop}.

        @param options: The C{mpm_pack:*} options.
        @type options: L{mapiproxy.config.ModuleOptions}

        @raise mapiproxy.errors.ConfigError: On a bad value, with its file
            and line.
        """
        value = options.get("opnums")
        self.opnums = frozenset(parseOpnums(value)) if value is not None else frozenset()
        self.lasthop = options.getBool("lasthop", True)

    def request(self, call):
        """
        Pack or unpack the ROPs of an EcDoRpc or EcDoRpcExt2 request; any
        other call, and every call on a middle hop, is left alone (not even
        decoded).

        @param call: The call.
        @type call: L{mapiproxy.calls.RelayedCall}

        @raise RopError: When a RopProxyPack cannot be unpacked.
        """
        if not self.lasthop or call.opnum not in (ECDORPC, ECDORPCEXT2):
            return None
        try:
            request = call.request
        except MapiProxyError as e:
            # Not ours to judge: the stub goes upstream as it came.
            _log.debug("mpm_pack: request left alone: {reason}", reason=str(e))
            return None
        ctx = call.session.state.setdefault(_STATE_KEY, RopContext())
        if call.opnum == ECDORPCEXT2:
            changed = self._extended(request, ctx)
        else:
            changed = self._obfuscated(request, ctx)
        if changed:
            call.requestChanged()
        return None

    def _extended(self, request, ctx):
        """
        EcDoRpcExt2: each buffer of the rgbIn chain, framed again with the
        flags it came with.
        """
        try:
            buffers = extbuf.decodeChain(request.rgbIn)
        except MapiBufferError as e:
            _log.debug("mpm_pack: rgbIn left alone: {reason}", reason=str(e))
            return False
        changed = False
        out = []
        for buf in buffers:
            payload = self._repack(buf.payload, ctx)
            if payload is not None and len(payload) > extbuf.MAX_PAYLOAD:
                _log.debug("mpm_pack: packed buffer of {size} bytes would exceed 32 KB", size=len(payload))
                payload = None
            if payload is None:
                out.append(buf)
                continue
            out.append(extbuf.ExtendedBuffer.make(payload, buf.compressed, buf.obfuscated, buf.last))
            changed = True
        if not changed:
            return False
        rgbIn = extbuf.encodeChain(out)
        if len(rgbIn) > 0x40000:
            return False
        request.rgbIn = rgbIn
        return True

    def _obfuscated(self, request, ctx):
        """
        EcDoRpc: the XOR-obfuscated blob, with C{length} and C{size} kept
        consistent with it (OpenChange left them stale).
        """
        blob = bytes(request.mapi_request)
        try:
            buffer = extbuf.decodeEcDoRpcBlob(blob)
        except MapiBufferError as e:
            _log.debug("mpm_pack: EcDoRpc blob left alone: {reason}", reason=str(e))
            return False
        payload = self._repack(buffer.encode(), ctx)
        if payload is None:
            return False
        newBlob = xorMagic(payload)
        delta = len(newBlob) - len(blob)
        if request.length in (buffer.ropSize, len(blob)):
            request.length = min(max(request.length + delta, 0), 0xFFFF)
        if request.size == len(blob) or request.size < len(newBlob):
            request.size = len(newBlob)
        request.mapi_request = newBlob
        return True

    def _repack(self, payload, ctx):
        """
        One ROP buffer, packed or unpacked; L{None} when it stays.
        """
        try:
            result, action = repackRopBuffer(payload, ctx, self.opnums)
        except MapiBufferError as e:
            if isinstance(e, RopError):
                raise
            _log.debug("mpm_pack: ROP buffer left alone: {reason}", reason=str(e))
            return None
        if result is None:
            if action not in ("idle", "nothing"):
                _log.debug("mpm_pack: ROP buffer left alone: {reason}", reason=action)
            return None
        _log.debug(
            "mpm_pack: {action}ed a ROP buffer ({before} -> {after} bytes)",
            action=action,
            before=len(payload),
            after=len(result),
        )
        return result
