# -*- test-case-name: tests.test_ndrdump -*-
"""
Print mode (the binding's C{[print]} flag, C{dcerpc_mapiproxy:ndrdump}):
one readable block per relayed call, with the decoded parameters in and
out and, for EMSMDB, the unframed MAPI buffers. Whatever does not decode is
shown as hex with offsets: never a crash, never a lost call.
"""

import dataclasses
import enum
import uuid

from twisted.logger import Logger

from mapiproxy.dcerpc.constants import statusName

#: The longest hex dump of one buffer (the rest is counted, not shown).
HEXDUMP_LIMIT = 2048

#: EMSMDB fields that hold MAPI buffers, and how they are framed.
_EXTENDED = {"rgbIn": "rop", "rgbOut": "rop", "rgbAuxIn": "aux", "rgbAuxOut": "aux"}
_XORED = {"mapi_request": "rop", "mapi_response": "rop"}


class NdrDumpPrinter:
    """
    An observer of relayed calls that logs each one as a block of text.
    """

    def __init__(self, log=None):
        self._log = log or Logger(namespace="mapiproxy.ndrdump")

    def callCompleted(self, relayedCall):
        """
        Log a finished call.
        """
        try:
            text = formatCall(relayedCall)
        except Exception as e:  # the printer must never lose a call
            text = "%s opnum %d: cannot format (%s)\n%s" % (
                relayedCall.interfaceName,
                relayedCall.opnum,
                e,
                "\n".join(hexdump(relayedCall.requestStub)),
            )
        self._log.info("{ndrdump}", ndrdump=text)


def formatCall(rc):
    """
    The printed block of one call.

    @type rc: L{mapiproxy.calls.RelayedCall}
    @rtype: L{str}
    """
    auth = rc.call.auth
    who = "%s\\%s" % (auth.domain, auth.username) if auth else "anonymous"
    latency = "" if rc.latency is None else " %.1f ms" % (rc.latency * 1000,)
    lines = [
        "%s %s (opnum %d) call %d from %s (%s)%s"
        % (rc.interfaceName, rc.opnumName, rc.opnum, rc.call.callId, _peer(rc), who, latency)
    ]
    rops = _RopState(rc)
    lines.append("  in (%d bytes):" % (len(rc.requestStub),))
    lines.extend(_decoded(rc, "request", rc.requestStub, rops))
    if rc.faultStatus is not None:
        lines.append("  out: FAULT %s" % (statusName(rc.faultStatus),))
    elif rc.error is not None:
        lines.append("  out: FAILED %s" % (rc.error,))
    elif rc.responseStub is not None:
        lines.append("  out (%d bytes):" % (len(rc.responseStub),))
        lines.extend(_decoded(rc, "response", rc.responseStub, rops))
    return "\n".join(lines)


def _peer(rc):
    peer = rc.call.session.peer
    host = getattr(peer, "host", None)
    return "%s:%s" % (host, getattr(peer, "port", "?")) if host else str(peer)


class _RopState:
    """
    What ROP decoding needs while one call is printed: the session's
    L{mapiproxy.mapi.rops.RopContext} (kept across calls, for the columns
    of tables), and the request's ROPs and handle table to pair responses.
    """

    def __init__(self, rc):
        from mapiproxy.mapi.rops import RopContext

        self.context = rc.session.state.setdefault("ndrdump-rops", RopContext())
        self.side = "request"
        self.requests = None
        self.requestHandles = None
        self.buffers = 0


def _decoded(rc, which, stub, rops=None):
    if rc.codec is None:
        return ["    " + line for line in hexdump(stub)]
    try:
        value = getattr(rc, which)
    except Exception as e:
        return ["    (does not decode: %s)" % (e,)] + ["    " + line for line in hexdump(stub)]
    if rops is not None:
        rops.side = which
        rops.buffers = 0
    return formatValue(value, 2, rops=rops)


def formatValue(value, depth, name=None, rops=None):
    """
    Lines showing a decoded value: dataclasses field by field, byte strings
    as hex (MAPI buffers unframed), lists item by item.

    @rtype: L{list} of L{str}
    """
    pad = "  " * depth
    label = "%s: " % (name,) if name else ""
    if name in _EXTENDED and isinstance(value, (bytes, bytearray, memoryview)):
        return ["%s%s%d bytes" % (pad, label, len(value))] + _mapiBuffer(bytes(value), _EXTENDED[name], depth + 1, True, rops)
    if name in _XORED and isinstance(value, (bytes, bytearray, memoryview)):
        return ["%s%s%d bytes" % (pad, label, len(value))] + _mapiBuffer(bytes(value), "rop", depth + 1, False, rops)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        lines = ["%s%s%s" % (pad, label, type(value).__name__)]
        for f in dataclasses.fields(value):
            if f.name.endswith("Referent") or f.name.endswith("Referents"):
                continue
            lines.extend(formatValue(getattr(value, f.name), depth + 1, f.name, rops))
        return lines
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        if len(data) <= 32:
            return ["%s%s%s" % (pad, label, data.hex() or "(empty)")]
        return ["%s%s%d bytes" % (pad, label, len(data))] + [pad + "  " + line for line in hexdump(data)]
    if isinstance(value, (list, tuple)) and value and not all(isinstance(v, int) for v in value):
        lines = ["%s%s[%d]" % (pad, label, len(value))]
        for index, item in enumerate(value):
            lines.extend(formatValue(item, depth + 1, "[%d]" % (index,)))
        return lines
    return ["%s%s%s" % (pad, label, _scalar(value))]


def _scalar(value):
    if isinstance(value, enum.Enum):
        return "%s (%r)" % (value.name, value.value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return "%d (0x%x)" % (value, value) if value > 9 else str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join("0x%x" % (v,) if isinstance(v, int) and v > 9 else str(v) for v in value) + "]"
    if isinstance(value, uuid.UUID):
        return str(value)
    return repr(value)


def _mapiBuffer(data, kind, depth, extended, rops=None):
    """
    Unframe an EMSMDB buffer: RPC_HEADER_EXT chain (or the EcDoRpc XOR) and
    then the ROP buffer envelope or the AUX blocks; hex where that fails.
    """
    from mapiproxy.mapi import aux, extbuf
    from mapiproxy.mapi.obfuscation import xorMagic

    pad = "  " * depth
    lines = []
    try:
        if extended:
            buffers = extbuf.decodeChain(data)
        else:
            buffers = [extbuf.ExtendedBuffer(flags=extbuf.XOR_MAGIC | extbuf.LAST, payload=xorMagic(data), compressed=False, obfuscated=True)]
    except Exception as e:
        return ["%s(RPC_HEADER_EXT does not decode: %s)" % (pad, e)] + [pad + line for line in hexdump(data)]
    for index, buffer in enumerate(buffers):
        flags = []
        if buffer.compressed:
            flags.append("Compressed")
        if buffer.obfuscated:
            flags.append("XorMagic")
        if buffer.flags & extbuf.LAST:
            flags.append("Last")
        lines.append("%sbuffer %d: %s, %d bytes" % (pad, index, "|".join(flags) or "plain", len(buffer.payload)))
        if kind == "aux":
            try:
                for block in aux.decodeAuxBlocks(buffer.payload, strict=False):
                    lines.extend(formatValue(block, depth + 1))
            except Exception as e:
                lines.append("%s  (AUX blocks do not decode: %s)" % (pad, e))
                lines.extend(pad + "  " + line for line in hexdump(buffer.payload))
            continue
        try:
            ropBuffer = extbuf.RopBuffer.decode(buffer.payload)
        except Exception as e:
            lines.append("%s  (ROP buffer does not decode: %s)" % (pad, e))
            lines.extend(pad + "  " + line for line in hexdump(buffer.payload))
            continue
        handles = ", ".join("0x%08x" % (h,) for h in ropBuffer.handles)
        lines.append("%s  RopSize %d, %d handles [%s]" % (pad, ropBuffer.ropSize, len(ropBuffer.handles), handles))
        if ropBuffer.rops:
            lines.extend(_ropLines(ropBuffer, depth + 1, rops))
    return lines


def _ropLines(ropBuffer, depth, rops):
    """
    The ROPs of one buffer, by name with their fields; hex from the first
    ROP that does not decode.
    """
    pad = "  " * depth
    if rops is None:
        return [pad + line for line in hexdump(ropBuffer.rops)]
    from mapiproxy.mapi import rops as codec

    try:
        if rops.side == "request":
            items = codec.decodeRequests(ropBuffer.rops, ropBuffer.handles, rops.context)
            rops.requests, rops.requestHandles = items, ropBuffer.handles
        else:
            requests = rops.requests if rops.buffers == 0 else None
            items = codec.decodeResponses(
                ropBuffer.rops, ropBuffer.handles, requests, rops.context, requestHandles=rops.requestHandles
            )
        rops.buffers += 1
    except Exception as e:
        return ["%s(ROPs do not decode: %s)" % (pad, e)] + [pad + line for line in hexdump(ropBuffer.rops)]
    lines = []
    for item in items:
        if isinstance(item, codec.UnknownRop):
            lines.append("%s%s (0x%02x): does not decode (%s), %d bytes from here:" % (pad, codec.ropName(item.ropId), item.ropId, item.error, len(item.data)))
            lines.extend(pad + "  " + line for line in hexdump(item.data))
            continue
        lines.append("%s%s (0x%02x)" % (pad, codec.ropName(item.ROP_ID), item.ROP_ID))
        lines.extend(formatValue(item, depth + 1)[1:])
    return lines


def hexdump(data, limit=HEXDUMP_LIMIT):
    """
    Hex and ASCII, 16 bytes a line, with offsets.

    @rtype: L{list} of L{str}
    """
    data = bytes(data)
    lines = []
    for offset in range(0, min(len(data), limit), 16):
        chunk = data[offset : offset + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append("%04x  %-47s  %s" % (offset, chunk.hex(" "), text))
    if len(data) > limit:
        lines.append("... %d more bytes" % (len(data) - limit,))
    if not data:
        lines.append("(empty)")
    return lines
