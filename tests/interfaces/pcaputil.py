# -*- test-case-name: tests.interfaces.test_nspi -*-
"""
Synthetic captures of DCE/RPC calls, so that Wireshark's interface
dissectors (C{tshark -V}) can judge the stubs our codecs produce.

L{dcerpcCapture} builds a classic libpcap file (Ethernet, IPv4, TCP on the
loopback addresses) holding one connection-oriented association: a bind
for the interface ([MS-RPCE] 2.2.2.2, C{rpcconn_bind_hdr_t}), its
bind_ack, then one request and one response PDU per call
([MS-RPCE] 2.2.2.4, C{rpcconn_request_hdr_t}/C{rpcconn_response_hdr_t}),
each in a single TCP segment.  The PDUs are packed here with C{struct},
independently of L{mapiproxy.dcerpc.pdu}, so a tshark verdict checks our
stub codec and nothing else of ours.

Read the file back with L{tests.tshark.summary} and
L{tests.tshark.malformedFrames} (pass C{decodeAs=[port]}), or
L{verboseText} for the whole dissection.
"""

import struct
import subprocess
import uuid

NDR_SYNTAX = (uuid.UUID("8a885d04-1ceb-11c9-9fe8-08002b104860"), 2)
"""The NDR20 transfer syntax and its version ([C706] Appendix I)."""

CLIENT = ("127.0.0.1", 49700)
SERVER = ("127.0.0.2", 5010)

_LINKTYPE_ETHERNET = 1
_CLIENT_MAC = b"\x02\x00\x00\x00\x00\x01"
_SERVER_MAC = b"\x02\x00\x00\x00\x00\x02"


def _checksum(data):
    """
    The Internet checksum (RFC 1071) of C{data}.

    @type data: L{bytes}
    @rtype: L{int}
    """
    if len(data) % 2:
        data += b"\x00"
    total = sum(struct.unpack("!%dH" % (len(data) // 2,), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def _ipv4(source, destination, payload):
    """
    An IPv4 header (RFC 791, no options) carrying a TCP C{payload}.

    @rtype: L{bytes}
    """
    src = bytes(int(part) for part in source.split("."))
    dst = bytes(int(part) for part in destination.split("."))
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, 6, 0, src, dst
    )
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + payload


def _tcp(source, destination, seq, ack, payload):
    """
    A TCP segment (RFC 793, no options, flags PSH|ACK) with a correct
    checksum over the IPv4 pseudo-header.

    @rtype: L{bytes}
    """
    header = struct.pack(
        "!HHIIBBHHH", source[1], destination[1], seq, ack, 5 << 4, 0x18, 65535, 0, 0
    )
    pseudo = struct.pack(
        "!4s4sBBH",
        bytes(int(part) for part in source[0].split(".")),
        bytes(int(part) for part in destination[0].split(".")),
        0,
        6,
        len(header) + len(payload),
    )
    checksum = _checksum(pseudo + header + payload)
    header = header[:16] + struct.pack("!H", checksum) + header[18:]
    return header + payload


class _Stream:
    """
    Both directions of one TCP connection, as Ethernet frames.
    """

    def __init__(self):
        self.frames = []
        self._seq = {CLIENT: 1000, SERVER: 5000}

    def send(self, fromClient, payload):
        """
        Append one segment of C{payload}.

        @param fromClient: C{True} for client-to-server.
        @type payload: L{bytes}
        """
        source, destination = (CLIENT, SERVER) if fromClient else (SERVER, CLIENT)
        segment = _tcp(source, destination, self._seq[source], self._seq[destination], payload)
        self._seq[source] += len(payload)
        packet = _ipv4(source[0], destination[0], segment)
        macs = _SERVER_MAC + _CLIENT_MAC if fromClient else _CLIENT_MAC + _SERVER_MAC
        self.frames.append(macs + b"\x08\x00" + packet)


def _header(ptype, callId, body, flags=0x03):
    """
    The 16-byte common header ([MS-RPCE] 2.2.2.1, little-endian drep) in
    front of C{body}.

    @rtype: L{bytes}
    """
    return (
        struct.pack(
            "<BBBB4sHHI",
            5,
            0,
            ptype,
            flags,
            b"\x10\x00\x00\x00",
            16 + len(body),
            0,
            callId,
        )
        + body
    )


def _syntax(value):
    """
    A C{p_syntax_id_t}: the UUID in little-endian fields and the u32
    version (major in the low half).

    @param value: C{(uuid, major, minor)} or C{(uuid, version)}.
    @rtype: L{bytes}
    """
    if len(value) == 3:
        version = value[1] | (value[2] << 16)
    else:
        version = value[1]
    return value[0].bytes_le + struct.pack("<I", version)


def bindPDU(interface, callId=1):
    """
    A bind PDU ([MS-RPCE] 2.2.2.2) proposing C{interface} with NDR20 as
    context 0.

    @param interface: C{(uuid.UUID, major, minor)}.
    @rtype: L{bytes}
    """
    body = struct.pack("<HHI", 5840, 5840, 0)
    body += struct.pack("<BBH", 1, 0, 0)
    body += struct.pack("<HBB", 0, 1, 0) + _syntax(interface) + _syntax(NDR_SYNTAX)
    return _header(11, callId, body)


def bindAckPDU(callId=1):
    """
    A bind_ack PDU ([MS-RPCE] 2.2.2.3) accepting context 0 with NDR20.

    @rtype: L{bytes}
    """
    address = b"5010\x00"
    body = struct.pack("<HHIH", 5840, 5840, 0x1234, len(address)) + address
    body += b"\x00" * (-(16 + len(body)) % 4)
    body += struct.pack("<BBH", 1, 0, 0) + struct.pack("<HH", 0, 0) + _syntax(NDR_SYNTAX)
    return _header(12, callId, body)


def requestPDU(opnum, stub, callId):
    """
    A single-fragment request PDU ([MS-RPCE] 2.2.2.4) on context 0.

    @rtype: L{bytes}
    """
    return _header(0, callId, struct.pack("<IHH", len(stub), 0, opnum) + stub)


def responsePDU(stub, callId):
    """
    A single-fragment response PDU ([MS-RPCE] 2.2.2.5) on context 0.

    @rtype: L{bytes}
    """
    return _header(2, callId, struct.pack("<IHBB", len(stub), 0, 0, 0) + stub)


def pcapBytes(frames):
    """
    A libpcap file ("classic" format, microsecond timestamps) of Ethernet
    C{frames}.

    @type frames: L{list} of L{bytes}
    @rtype: L{bytes}
    """
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, _LINKTYPE_ETHERNET)]
    for index, frame in enumerate(frames):
        out.append(struct.pack("<IIII", 1700000000, index, len(frame), len(frame)))
        out.append(frame)
    return b"".join(out)


def dcerpcCapture(path, interface, calls):
    """
    Write a capture of one association carrying C{calls}.

    @param path: where to write the pcap file.
    @type path: L{str}
    @param interface: C{(uuid.UUID, major, minor)} of the abstract syntax.
    @param calls: C{(opnum, requestStub, responseStub)} triples; a L{None}
        stub leaves that PDU out.
    @type calls: iterable of L{tuple}
    @return: the server TCP port, for C{decodeAs}.
    @rtype: L{int}
    """
    stream = _Stream()
    stream.send(True, bindPDU(interface))
    stream.send(False, bindAckPDU())
    for callId, (opnum, request, response) in enumerate(calls, start=2):
        if request is not None:
            stream.send(True, requestPDU(opnum, request, callId))
        if response is not None:
            stream.send(False, responsePDU(response, callId))
    with open(path, "wb") as f:
        f.write(pcapBytes(stream.frames))
    return SERVER[1]


def verboseText(path, displayFilter=None):
    """
    The whole C{tshark -V} dissection of C{path}, with the server port
    decoded as DCE/RPC.

    @param path: a capture written by L{dcerpcCapture}.
    @type path: L{str}
    @param displayFilter: restrict to the matching frames.
    @type displayFilter: L{str} or L{None}
    @rtype: L{str}
    """
    argv = ["tshark", "-n", "-r", path, "-d", "tcp.port==%d,dcerpc" % (SERVER[1],)]
    if displayFilter:
        argv += ["-Y", displayFilter]
    argv.append("-V")
    result = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=True
    )
    return result.stdout.decode("utf-8", "replace")
