# -*- test-case-name: tests.test_capture -*-
"""
Decrypted capture export: every relayed call written as cleartext
connection-oriented DCE/RPC into a classic libpcap file
(C{dcerpc_mapiproxy:pcap = PATH}), so that Wireshark or tshark dissect the
NSPI, RFR and EMSMDB stubs that travel sealed on the real wire.

The file holds synthetic traffic, not a copy of the real one: each client
association becomes one TCP connection over Ethernet and IPv4 or IPv6,
starting with a three-way handshake; each presentation context is
introduced by a bind (or, for the second and later contexts of an
association, an alter_context) at authentication level none with the NDR
transfer syntax, answered by an acceptance ([MS-RPCE] 2.2.2.13, C706
12.6.4.1 - 12.6.4.4); each call is a request and a response (or fault)
cut into fragments of at most L{MAX_FRAGMENT} bytes ([MS-RPCE] 2.2.2.9 -
2.2.2.11, 3.3.1.5.6). The TCP sequence and acknowledgement numbers, the
IPv4 header checksum and the TCP checksums (RFC 793, RFC 1071, RFC 8200
8.1) are right, so the capture reassembles without any expert warning.

Nothing in here touches the network: L{PcapWriter} only appends to a file.
"""

import array
import ipaddress
import os
import struct
import sys
import time
import uuid

from twisted.logger import Logger

from mapiproxy.dcerpc import pdu
from mapiproxy.dcerpc.constants import ContextResult as ContextResultCode
from mapiproxy.dcerpc.constants import PFC, PType
from mapiproxy.dcerpc.framing import fragmentStub, maxStubPerFragment
from mapiproxy.errors import ConfigError, MalformedPDU

__all__ = [
    "PcapWriter",
    "DCERPC_PORT",
    "CLIENT_PORTS",
    "MAX_FRAGMENT",
    "MAX_SEGMENT",
    "SNAPLEN",
]

#: The fragment size of the synthetic associations (max_xmit_frag and
#: max_recv_frag of the bind and bind_ack, C706 12.6.3.1).
MAX_FRAGMENT = 5840
#: The most TCP payload bytes in one packet (also the MSS option of the
#: handshake).
MAX_SEGMENT = 65000
#: The snapshot length of the file: every packet is written whole.
SNAPLEN = 262144

#: Classic libpcap global header: magic, version 2.4, thiszone, sigfigs,
#: snaplen, link type (https://wiki.wireshark.org/Development/LibpcapFileFormat).
_GLOBAL_HEADER = struct.Struct("<IHHiIII")
#: Per-packet header: seconds, microseconds, captured and original length.
_RECORD_HEADER = struct.Struct("<IIII")
_PCAP_MAGIC = 0xA1B2C3D4
_LINKTYPE_ETHERNET = 1

_CLIENT_MAC = b"\x02\x00\x00\x00\x00\x01"
_SERVER_MAC = b"\x02\x00\x00\x00\x00\x02"
_ETHERTYPE_IPV4 = b"\x08\x00"
_ETHERTYPE_IPV6 = b"\x86\xdd"
_IPPROTO_TCP = 6
_TTL = 64

# TCP flags (RFC 793 3.1).
_FIN = 0x01
_SYN = 0x02
_PSH = 0x08
_ACK = 0x10

#: Version/IHL, TOS, total length, identification, flags+fragment offset
#: (DF), TTL, protocol, checksum, source, destination (RFC 791 3.1).
_IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
#: Version/class/flow label, payload length, next header, hop limit,
#: source, destination (RFC 8200 3).
_IPV6_HEADER = struct.Struct("!IHBB16s16s")
#: Ports, sequence, acknowledgement, data offset, flags, window,
#: checksum, urgent pointer (RFC 793 3.1).
_TCP_HEADER = struct.Struct("!HHIIBBHHH")
#: The options of a SYN: MSS (kind 2), NOP, window scale (kind 3).
_SYN_OPTIONS = struct.Struct("!BBHBBBB")
_WINDOW = 0xFFFF
#: Window scale announced in the handshake: a 8 MiB receive window.
_WINDOW_SCALE = 7
#: The receiver acknowledges on its own once this many bytes are
#: outstanding, as a real TCP stack would, keeping far below the window.
_ACK_EVERY = 1 << 20
#: The server port written unless real ports are asked for: the endpoint
#: mapper's, which no Wireshark dissector claims. Wireshark finds DCE/RPC
#: on other ports only by its heuristic, which it tries after the
#: dissectors registered for either port: real listener ports are often
#: claimed (Exchange's 6001-6004 are X11's) and so are some ephemeral
#: client ports, and a classic pcap file cannot carry a "decode as" setting.
DCERPC_PORT = 135
#: The synthetic client ports: a range of the IANA dynamic ports that
#: Wireshark 4.0 leaves to heuristics.
CLIENT_PORTS = range(49152, 57000)
#: Initial sequence numbers of the client and the server.
_CLIENT_ISN = 0x01000000
_SERVER_ISN = 0x02000000

_REQUEST_HEADER = pdu.headerLength(PType.REQUEST)
_OBJECT_REQUEST_HEADER = pdu.headerLength(PType.REQUEST, PFC.OBJECT_UUID)
_RESPONSE_HEADER = pdu.headerLength(PType.RESPONSE)


def _checksum(*parts):
    """
    The Internet checksum (RFC 1071) of the concatenation of C{parts}.

    The one's complement sum does not depend on byte order if the result
    is swapped back (RFC 1071 2.(B)), so the 16-bit words are summed in
    the host's order with L{array.array}.

    @param parts: byte strings.
    @type parts: L{bytes}
    @return: the checksum, to be written big-endian.
    @rtype: L{int}
    """
    data = b"".join(parts)
    if len(data) & 1:
        data += b"\x00"
    total = sum(array.array("H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    total = ~total & 0xFFFF
    if sys.byteorder == "little":
        total = ((total & 0xFF) << 8) | (total >> 8)
    return total


def _endpoint(value):
    """
    Read an address as C{(ip, port)} or an object with C{host} and C{port}
    (such as L{twisted.internet.address.IPv4Address}).

    @return: the parsed address and the port.
    @rtype: L{tuple} of (L{ipaddress.IPv4Address} or
        L{ipaddress.IPv6Address}, L{int})
    @raise ValueError: not an IP address and a port in 0-65535.
    """
    if hasattr(value, "host") and hasattr(value, "port"):
        host, port = value.host, value.port
    else:
        host, port = value[0], value[1]
    address = ipaddress.ip_address(host)
    port = int(port)
    if not 0 <= port <= 0xFFFF:
        raise ValueError("port %d out of range" % (port,))
    return address, port


def _sameFamily(client, server):
    """
    Put both addresses in one family: an IPv4 address next to an IPv6 one
    becomes IPv4-mapped (RFC 4291 2.5.5.2).

    @return: C{(client, server)}.
    """
    if client.version == server.version:
        return client, server
    if client.version == 4:
        client = ipaddress.IPv6Address("::ffff:" + str(client))
    else:
        server = ipaddress.IPv6Address("::ffff:" + str(server))
    return client, server


class _Connection:
    """
    The synthetic TCP connection of one client association: it turns bytes
    sent by either side into link-layer frames with consistent sequence
    and acknowledgement numbers.

    @ivar contexts: the presentation contexts bound so far, context id to
        C{(abstract syntax, transfer syntax)}.
    @ivar assocGroupId: the association group of its bind_ack.
    @ivar tuple: C{(client ip, client port, server ip, server port)}.
    """

    def __init__(self, client, clientPort, server, serverPort, assocGroupId):
        """
        @param client: the client's address.
        @param clientPort: the client's port.
        @param server: the server's address, of the same family.
        @param serverPort: the server's port.
        @param assocGroupId: the association group to announce.
        """
        self.tuple = (client, clientPort, server, serverPort)
        self.contexts = {}
        self.assocGroupId = assocGroupId
        self._ports = {True: (clientPort, serverPort), False: (serverPort, clientPort)}
        self._ipv6 = client.version == 6
        if self._ipv6:
            self._ethertype = _ETHERTYPE_IPV6
        else:
            self._ethertype = _ETHERTYPE_IPV4
        self._addresses = {
            True: (client.packed, server.packed),
            False: (server.packed, client.packed),
        }
        self._macs = {True: _SERVER_MAC + _CLIENT_MAC, False: _CLIENT_MAC + _SERVER_MAC}
        # The next sequence number each side sends, and the highest
        # acknowledgement each side has sent.
        self._next = {True: _CLIENT_ISN, False: _SERVER_ISN}
        self._acked = {True: _SERVER_ISN, False: _CLIENT_ISN}
        self._ipId = {True: 0, False: 0}

    def handshake(self):
        """
        The three-way handshake (RFC 793 3.4): SYN, SYN/ACK, ACK, the first
        two with the MSS and window scale options.

        @rtype: L{list} of L{bytes}
        """
        options = _SYN_OPTIONS.pack(2, 4, MAX_SEGMENT, 1, 3, 3, _WINDOW_SCALE)
        frames = [self._frame(True, _SYN, b"", options)]
        self._next[True] += 1
        frames.append(self._frame(False, _SYN | _ACK, b"", options))
        self._next[False] += 1
        frames.append(self._frame(True, _ACK, b""))
        return frames

    def send(self, fromClient, data):
        """
        Data from one side, cut into segments of at most L{MAX_SEGMENT}
        bytes, PSH on the last; the other side acknowledges by itself
        whenever L{_ACK_EVERY} bytes are outstanding.

        @param fromClient: whether the client sends.
        @type fromClient: L{bool}
        @param data: the bytes, in stream order.
        @type data: L{bytes}
        @rtype: L{list} of L{bytes}
        """
        frames = []
        length = len(data)
        with memoryview(data) as view:
            for start in range(0, length, MAX_SEGMENT):
                chunk = bytes(view[start : start + MAX_SEGMENT])
                flags = _ACK
                if start + MAX_SEGMENT >= length:
                    flags |= _PSH
                frames.append(self._frame(fromClient, flags, chunk))
                self._next[fromClient] += len(chunk)
                if self._next[fromClient] - self._acked[not fromClient] >= _ACK_EVERY:
                    frames.append(self._frame(not fromClient, _ACK, b""))
        return frames

    def acknowledge(self, fromClient):
        """
        A pure ACK from one side, if it has anything new to acknowledge.

        @param fromClient: whether the client acknowledges.
        @type fromClient: L{bool}
        @rtype: L{list} of L{bytes}
        """
        if self._acked[fromClient] == self._next[not fromClient]:
            return []
        return [self._frame(fromClient, _ACK, b"")]

    def close(self):
        """
        The orderly release (RFC 793 3.5): the client's FIN/ACK, the
        server's FIN/ACK, the client's last ACK.

        @rtype: L{list} of L{bytes}
        """
        frames = [self._frame(True, _FIN | _ACK, b"")]
        self._next[True] += 1
        frames.append(self._frame(False, _FIN | _ACK, b""))
        self._next[False] += 1
        frames.append(self._frame(True, _ACK, b""))
        return frames

    def _frame(self, fromClient, flags, payload, options=b""):
        """
        One Ethernet frame carrying one TCP segment; acknowledges
        everything the other side sent so far when C{flags} has ACK.

        @rtype: L{bytes}
        """
        sourcePort, destinationPort = self._ports[fromClient]
        source, destination = self._addresses[fromClient]
        ack = 0
        if flags & _ACK:
            ack = self._next[not fromClient]
            self._acked[fromClient] = ack
        headerLength = _TCP_HEADER.size + len(options)
        tcpHeader = _TCP_HEADER.pack(
            sourcePort,
            destinationPort,
            self._next[fromClient] & 0xFFFFFFFF,
            ack & 0xFFFFFFFF,
            (headerLength // 4) << 4,
            flags,
            _WINDOW,
            0,
            0,
        )
        segmentLength = headerLength + len(payload)
        if self._ipv6:
            # RFC 8200 8.1: source, destination, upper-layer length,
            # three zeros and the next header.
            pseudo = source + destination + struct.pack("!IxxxB", segmentLength, _IPPROTO_TCP)
            ipHeader = _IPV6_HEADER.pack(
                6 << 28, segmentLength, _IPPROTO_TCP, _TTL, source, destination
            )
        else:
            # RFC 793 3.1: source, destination, zero, protocol, TCP length.
            pseudo = source + destination + struct.pack("!xBH", _IPPROTO_TCP, segmentLength)
            ipId = self._ipId[fromClient]
            self._ipId[fromClient] = (ipId + 1) & 0xFFFF
            header = _IPV4_HEADER.pack(
                0x45,
                0,
                20 + segmentLength,
                ipId,
                0x4000,
                _TTL,
                _IPPROTO_TCP,
                0,
                source,
                destination,
            )
            ipHeader = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
        checksum = _checksum(pseudo, tcpHeader, options, payload)
        tcpHeader = tcpHeader[:16] + struct.pack("!H", checksum) + tcpHeader[18:]
        return b"".join(
            (self._macs[fromClient], self._ethertype, ipHeader, tcpHeader, options, payload)
        )


def _fragments(build, stub, maxChunk):
    """
    Encode the fragments of one stub with their first/last flags and
    C{alloc_hint} the stub bytes left from the start of each fragment
    ([MS-RPCE] 2.2.2.9, C706 12.6.3.x: a hint of the remaining size).

    @param build: called with C{(chunk, flags, allocHint)}, returns a PDU.
    @param stub: the whole stub.
    @type stub: L{bytes}
    @param maxChunk: the most stub bytes per fragment.
    @type maxChunk: L{int}
    @return: the encoded fragments, joined.
    @rtype: L{bytes}
    @raise MalformedPDU: a field does not fit its wire width.
    """
    encoded = []
    remaining = len(stub)
    for chunk, flags in fragmentStub(stub, maxChunk):
        encoded.append(pdu.encode(build(bytes(chunk), flags, remaining)))
        remaining -= len(chunk)
    return b"".join(encoded)


def _stubBytes(stub, what):
    """
    Accept any bytes-like stub.

    @rtype: L{bytes}
    @raise MalformedPDU: C{stub} is not bytes-like.
    """
    try:
        return bytes(memoryview(stub))
    except TypeError:
        raise MalformedPDU(
            "%s stub must be bytes-like, not %s" % (what, type(stub).__name__)
        ) from None


def _objectUuid(value):
    """
    @param value: L{None}, a L{uuid.UUID} or its string form.
    @rtype: L{uuid.UUID} or L{None}
    @raise MalformedPDU: anything else.
    """
    if value is None or isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise MalformedPDU("bad object UUID %r" % (value,)) from None


def _callBursts(
    connection,
    syntax,
    transferSyntax,
    contextId,
    callId,
    opnum,
    requestStub,
    responseStub,
    faultStatus,
    objectUuid,
    serverPort,
):
    """
    Encode the PDUs of one call: a bind or alter_context and its
    acceptance when the context is new (or changed syntax), the request
    fragments, then the response fragments or a fault.

    @return: C{(fromClient, bytes)} pairs in wire order.
    @rtype: L{list} of L{tuple}
    @raise MalformedPDU: a field does not fit its wire width.
    """
    bursts = []
    bound = (syntax, transferSyntax)
    if connection.contexts.get(contextId) != bound:
        contexts = [pdu.PresentationContext(contextId, syntax, [transferSyntax])]
        results = [pdu.ContextResult(ContextResultCode.ACCEPTANCE, 0, transferSyntax)]
        if not connection.contexts:
            # C706 12.6.4.3/12.6.4.4: the first context comes with the bind.
            offer = pdu.Bind(
                maxXmitFrag=MAX_FRAGMENT,
                maxRecvFrag=MAX_FRAGMENT,
                contexts=contexts,
                callId=callId,
            )
            answer = pdu.BindAck(
                maxXmitFrag=MAX_FRAGMENT,
                maxRecvFrag=MAX_FRAGMENT,
                assocGroupId=connection.assocGroupId,
                secondaryAddress=str(serverPort).encode("ascii"),
                results=results,
                callId=callId,
            )
        else:
            # C706 12.6.4.1/12.6.4.2: later contexts join by alter_context.
            offer = pdu.AlterContext(
                maxXmitFrag=MAX_FRAGMENT,
                maxRecvFrag=MAX_FRAGMENT,
                assocGroupId=connection.assocGroupId,
                contexts=contexts,
                callId=callId,
            )
            answer = pdu.AlterContextResp(
                maxXmitFrag=MAX_FRAGMENT,
                maxRecvFrag=MAX_FRAGMENT,
                assocGroupId=connection.assocGroupId,
                results=results,
                callId=callId,
            )
        bursts.append((True, pdu.encode(offer)))
        bursts.append((False, pdu.encode(answer)))

    headerLength = _REQUEST_HEADER if objectUuid is None else _OBJECT_REQUEST_HEADER
    bursts.append(
        (
            True,
            _fragments(
                lambda chunk, flags, hint: pdu.Request(
                    allocHint=hint,
                    contextId=contextId,
                    opnum=opnum,
                    stub=chunk,
                    object=objectUuid,
                    callId=callId,
                    pfcFlags=flags,
                ),
                requestStub,
                maxStubPerFragment(MAX_FRAGMENT, headerLength, 0),
            ),
        )
    )
    if faultStatus is not None:
        fault = pdu.Fault(contextId=contextId, status=faultStatus, callId=callId)
        bursts.append((False, pdu.encode(fault)))
    elif responseStub is not None:
        bursts.append(
            (
                False,
                _fragments(
                    lambda chunk, flags, hint: pdu.Response(
                        allocHint=hint,
                        contextId=contextId,
                        stub=chunk,
                        callId=callId,
                        pfcFlags=flags,
                    ),
                    responseStub,
                    maxStubPerFragment(MAX_FRAGMENT, _RESPONSE_HEADER, 0),
                ),
            )
        )
    return bursts


class PcapWriter:
    """
    Write relayed calls as cleartext DCE/RPC over synthetic TCP/IP into a
    classic libpcap file (magic C{0xa1b2c3d4}, version 2.4, snaplen
    L{SNAPLEN}, C{LINKTYPE_ETHERNET} with locally administered MAC
    addresses), which Wireshark dissects as NSPI, RFR and MAPI.

    The file is created (or truncated) with mode 0600: it holds the
    decrypted stubs. Each public method appends whole packets and flushes,
    so the file is readable at any time. L{record}, L{closeConnection} and
    L{close} never raise: a call that cannot be written is logged and
    skipped, and after a write error the writer stops writing.

    Not thread-safe: use it from the reactor thread.
    """

    _log = Logger()

    def __init__(self, path, clock=time.time, realPorts=False):
        """
        @param path: the pcap file to write.
        @type path: L{str}
        @param clock: returns the current time in seconds since the epoch,
            for the packet timestamps.
        @type clock: callable returning L{float}
        @param realPorts: write the real TCP ports. By default every
            server gets L{DCERPC_PORT} and every connection a client port
            of its own from L{CLIENT_PORTS} (the addresses stay real), so
            that Wireshark picks its DCE/RPC dissector without a "decode
            as" setting.
        @type realPorts: L{bool}
        @raise ConfigError: the file cannot be created.
        """
        self.path = path
        self._clock = clock
        self._realPorts = realPorts
        self._nextClientPort = 0
        self._connections = {}
        self._tuples = set()
        self._assocGroups = 0
        self._lastMicros = 0
        self._broken = False
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as e:
            raise ConfigError(
                "cannot create pcap file %r: %s" % (path, e.strerror),
                option="dcerpc_mapiproxy:pcap",
            ) from None
        try:
            os.fchmod(fd, 0o600)
            self._file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        self._write([_GLOBAL_HEADER.pack(_PCAP_MAGIC, 2, 4, 0, 0, SNAPLEN, _LINKTYPE_ETHERNET)])

    def __repr__(self):
        return "<PcapWriter %r connections=%d>" % (self.path, len(self._connections))

    @property
    def closed(self):
        """
        Whether L{close} was called.

        @rtype: L{bool}
        """
        return self._file is None

    def record(
        self,
        connection,
        client,
        server,
        syntax,
        contextId,
        callId,
        opnum,
        requestStub,
        responseStub=None,
        faultStatus=None,
        objectUuid=None,
        transferSyntax=pdu.NDR_SYNTAX,
    ):
        """
        Write one call: on the first call of C{connection} a TCP handshake,
        on the first call of C{(connection, contextId)} a bind (or
        alter_context) for C{syntax} and its acceptance, then the request
        fragments from the client and the response fragments (or a fault)
        from the server ([MS-RPCE] 2.2.2.9 - 2.2.2.11, fragments of at most
        L{MAX_FRAGMENT} bytes, TCP segments of at most L{MAX_SEGMENT}
        bytes).

        Never raises: a call with a field that does not fit the wire (an
        opnum over 65535, a bad address...) is logged and skipped.

        @param connection: identifies one client association (any hashable
            key, e.g. C{id(association)}).
        @param client: the client's C{(ip, port)}, IPv4 or IPv6 (an object
            with C{host} and C{port} attributes works too).
        @param server: the server's C{(ip, port)}.
        @param syntax: the interface of the context.
        @type syntax: L{mapiproxy.dcerpc.pdu.SyntaxId}
        @param contextId: the client's presentation context id.
        @type contextId: L{int}
        @param callId: the call id.
        @type callId: L{int}
        @param opnum: the operation number.
        @type opnum: L{int}
        @param requestStub: the cleartext request stub.
        @type requestStub: bytes-like
        @param responseStub: the cleartext response stub, or L{None} when
            there is no response (then the server only acknowledges).
        @type responseStub: bytes-like or L{None}
        @param faultStatus: when not L{None}, a fault with this status is
            written instead of a response.
        @type faultStatus: L{int} or L{None}
        @param objectUuid: the request's object UUID, if any.
        @type objectUuid: L{uuid.UUID} or L{None}
        @param transferSyntax: the negotiated transfer syntax (NDR).
        @type transferSyntax: L{mapiproxy.dcerpc.pdu.SyntaxId}
        """
        if self._file is None or self._broken:
            return
        try:
            self._record(
                connection,
                client,
                server,
                syntax,
                contextId,
                callId,
                opnum,
                requestStub,
                responseStub,
                faultStatus,
                objectUuid,
                transferSyntax,
            )
        except Exception:
            self._log.failure(
                "pcap {path}: cannot record call {callId} opnum {opnum}",
                path=self.path,
                callId=callId,
                opnum=opnum,
            )

    def closeConnection(self, connection):
        """
        Write the orderly release of C{connection}'s TCP connection (FIN
        and ACK both ways) and forget it; nothing happens for a connection
        that has no call recorded. Never raises.

        @param connection: the key given to L{record}.
        """
        if self._file is None or self._broken:
            return
        try:
            state = self._connections.pop(connection, None)
            if state is None:
                return
            self._tuples.discard(state.tuple)
            self._writeFrames(state.close())
        except Exception:
            self._log.failure("pcap {path}: cannot close a connection", path=self.path)

    def close(self):
        """
        Close every open connection, then the file. Idempotent; never
        raises.
        """
        if self._file is None:
            return
        for connection in list(self._connections):
            self.closeConnection(connection)
        self._connections.clear()
        self._tuples.clear()
        fileObject, self._file = self._file, None
        try:
            fileObject.close()
        except OSError:
            self._log.failure("pcap {path}: cannot close the file", path=self.path)

    def _record(
        self,
        connection,
        client,
        server,
        syntax,
        contextId,
        callId,
        opnum,
        requestStub,
        responseStub,
        faultStatus,
        objectUuid,
        transferSyntax,
    ):
        """
        L{record} without the error boundary: everything is encoded before
        any state changes, so a call that fails leaves no trace.
        """
        requestStub = _stubBytes(requestStub, "request")
        if responseStub is not None:
            responseStub = _stubBytes(responseStub, "response")
        objectUuid = _objectUuid(objectUuid)
        state = self._connections.get(connection)
        frames = []
        if state is None:
            state = self._newConnection(client, server)
        bursts = _callBursts(
            state,
            syntax,
            transferSyntax,
            contextId,
            callId,
            opnum,
            requestStub,
            responseStub,
            faultStatus,
            objectUuid,
            state.tuple[3],
        )
        if connection not in self._connections:
            self._connections[connection] = state
            self._tuples.add(state.tuple)
            frames.extend(state.handshake())
        state.contexts[contextId] = (syntax, transferSyntax)
        for fromClient, data in bursts:
            frames.extend(state.send(fromClient, data))
        if responseStub is None and faultStatus is None:
            frames.extend(state.acknowledge(False))
        self._writeFrames(frames)

    def _newConnection(self, client, server):
        """
        The state of a new connection, with synthetic ports unless real
        ones were asked for. The client port is moved on while another open
        connection has the same addresses and ports, so that the two TCP
        streams stay apart.

        @rtype: L{_Connection}
        @raise ValueError: an address is not an IP address and port.
        """
        clientAddress, clientPort = _endpoint(client)
        serverAddress, serverPort = _endpoint(server)
        clientAddress, serverAddress = _sameFamily(clientAddress, serverAddress)
        if self._realPorts:
            ports = range(1, 0x10000)
            index = clientPort - 1
        else:
            ports = CLIENT_PORTS
            index = self._nextClientPort
            serverPort = DCERPC_PORT
        for _ in range(len(ports)):
            clientPort = ports[index % len(ports)]
            index += 1
            if (clientAddress, clientPort, serverAddress, serverPort) not in self._tuples:
                break
        if not self._realPorts:
            self._nextClientPort = index % len(ports)
        self._assocGroups += 1
        return _Connection(
            clientAddress,
            clientPort,
            serverAddress,
            serverPort,
            0x1000 + (self._assocGroups & 0xFFFFFF),
        )

    def _writeFrames(self, frames):
        """
        Stamp and write frames, strictly increasing in time by at least
        one microsecond.

        @param frames: link-layer frames.
        @type frames: L{list} of L{bytes}
        """
        micros = int(self._clock() * 1000000)
        micros = min(max(micros, self._lastMicros + 1, 0), 0xFFFFFFFF * 1000000)
        parts = []
        for frame in frames:
            seconds, fraction = divmod(micros, 1000000)
            seconds = min(seconds, 0xFFFFFFFF)
            length = len(frame)
            captured = min(length, SNAPLEN)
            parts.append(_RECORD_HEADER.pack(seconds, fraction, captured, length))
            parts.append(frame[:captured] if captured < length else frame)
            self._lastMicros = micros
            micros += 1
        self._write(parts)

    def _write(self, parts):
        """
        Append bytes and flush; after a failure, stop writing for good
        (logged once).

        @type parts: L{list} of L{bytes}
        """
        try:
            self._file.write(b"".join(parts))
            self._file.flush()
        except OSError:
            self._broken = True
            self._log.failure("pcap {path}: write failed, capture stopped", path=self.path)


class CaptureObserver:
    """
    The relay's observer that writes each finished call into a
    L{PcapWriter}, as the client saw it: its request, and the response it
    got (after any rewrite) or the fault.
    """

    def __init__(self, writer):
        self.writer = writer

    def callCompleted(self, rc):
        """
        Record one call.
        """
        call = rc.call
        association = call.session.association
        server = (association.localHost or "0.0.0.0", association.localPort or 0)
        responseStub = None
        if rc.faultStatus is None and rc.responseStub is not None:
            responseStub = rc.outgoingResponse()
        self.writer.record(
            id(association),
            association.peer,
            server,
            call.interface.syntax,
            call.contextId,
            call.callId,
            call.opnum,
            rc.requestStub,
            responseStub=responseStub,
            faultStatus=rc.faultStatus,
            objectUuid=call.object,
        )

    def sessionReleased(self, session):
        """
        The client's connection is gone: close its stream in the capture.
        """
        if not session.association.sessions:
            self.writer.closeConnection(id(session.association))

    def close(self):
        """
        Finish the file.
        """
        self.writer.close()
