# -*- test-case-name: tests.test_epmapper -*-
"""
The DCE/RPC endpoint mapper (C706 appendix O, [MS-RPCE] 2.2.1.2),
sans-I/O: protocol towers, the server side that answers
C{ept_lookup}/C{ept_map}/C{ept_lookup_handle_free} from a table of
registered endpoints, and the client side that builds and reads the stubs
of C{ept_map} and C{ept_lookup}.

Towers (C706 appendix L): a little-endian u16 floor count, then per floor a
u16 left-hand-side length, the LHS (a protocol identifier byte and its
data), a u16 right-hand-side length and the RHS. An C{ncacn_ip_tcp} tower
has five floors::

    1  0x0d interface UUID + u16 major  | u16 minor
    2  0x0d transfer syntax (NDR v2)    | u16 minor (0)
    3  0x0b connection-oriented RPC     | u16 minor (0)
    4  0x07 TCP                         | u16 port, big-endian
    5  0x09 IPv4                        | 4 address bytes

The stubs are NDR 2.0, little-endian, encoded here with C{struct}::

    ept_lookup(inquiry_type, [ptr] object, [ptr] interface_id, vers_option,
               [in,out] entry_handle, max_ents,
               [out] num_ents, [out,size_is(max_ents),length_is(*num_ents)]
               entries, [out] status)
    ept_map([ptr] object, [ptr] map_tower, [in,out] entry_handle, max_towers,
            [out] num_towers, [out,size_is(max_towers),length_is(*num_towers)]
            towers, [out] status)
    ept_lookup_handle_free([in,out] entry_handle, [out] status)

Behaviour chosen where implementations differ (each one checked against
Samba's C{srv_epmapper.c}/C{rpc_epmapper.c} and what Windows does):
  - C{ept_lookup} returns at most C{max_ents} entries per call. While more
    remain it returns a non-null context handle and status 0; the call that
    returns the last entries returns a null handle and status 0 (as Windows
    does; impacket's C{hept_lookup} relies on it). A lookup that matches
    nothing returns no entries, a null handle and C{EPT_S_NOT_REGISTERED}.
  - C{ept_map} answers towers for registered endpoints whose interface UUID
    and major version equal the requested ones and whose minor version is
    at least the requested one (C706 "compatible"; Samba ignores the minor
    version), for an C{ncacn_ip_tcp} request tower with the NDR transfer
    syntax. Nothing matching: no towers and C{EPT_S_NOT_REGISTERED}.
  - Endpoints registered on a wildcard address (C{0.0.0.0} or C{::}) are
    answered with the address the client connected to, as Windows and
    Samba's source3 endpoint mapper do (the Samba 4.17 AD DC answers
    C{0.0.0.0} as is). A tower has no IPv6 floor, so an IPv6 address is
    answered as C{0.0.0.0}, as Samba does; clients then use the address they
    already know.
  - C{ept_insert}, C{ept_delete}, C{ept_inq_object}, C{ept_mgmt_delete} and
    opnums past the interface fault with C{nca_s_op_rng_error}, as Samba
    answers remote callers.
  - C{ept_lookup_handle_free} forgets the handle and returns a null handle
    and status 0 (Windows; Samba echoes the handle).
  - A stub that does not decode faults with C{nca_s_fault_ndr}; a context
    handle this association never received faults with
    C{nca_s_fault_context_mismatch}.
"""

import ipaddress
import struct
import uuid
from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple, Optional, Tuple

from twisted.logger import Logger

from mapiproxy.dcerpc.constants import (
    NDR_SYNTAX_UUID,
    NDR_SYNTAX_VERSION,
    NULL_UUID,
    Status,
)
from mapiproxy.dcerpc.pdu import SyntaxId
from mapiproxy.errors import (
    ConfigError,
    DCERPCFault,
    EndpointNotRegistered,
    MalformedStub,
    UpstreamError,
)

_log = Logger()

#: The endpoint mapper interface, v3.0.
EPMAPPER_SYNTAX = SyntaxId(uuid.UUID("e1af8308-5d1f-11c9-91a4-08002b14a0fa"), 3, 0)
#: The well-known TCP port of the endpoint mapper.
EPMAPPER_PORT = 135
#: NDR 2.0, the transfer syntax floor of every tower we build.
NDR_TRANSFER_SYNTAX = SyntaxId(NDR_SYNTAX_UUID, NDR_SYNTAX_VERSION, 0)

#: "No more elements" / "not registered" ([MS-RPCE] 2.2.1.2.4 and 2.2.1.2.5).
EPT_S_NOT_REGISTERED = 0x16C9A0D6
#: Unsupported inquiry ([MS-RPCE]; the Win32 code Windows and Samba send).
EPT_S_CANT_PERFORM_OP = 0x000006D8

OPNUM_INSERT = 0
OPNUM_DELETE = 1
OPNUM_LOOKUP = 2
OPNUM_MAP = 3
OPNUM_LOOKUP_HANDLE_FREE = 4
OPNUM_INQ_OBJECT = 5
OPNUM_MGMT_DELETE = 6

#: A null C{ept_lookup_handle_t} (context handle: u32 attributes + UUID).
NULL_HANDLE = b"\x00" * 20

#: The longest annotation ([string] char annotation[64], NUL included).
MAX_ANNOTATION = 63

#: Open lookup/map handles kept per association; the oldest goes first.
MAX_OPEN_HANDLES = 16

_SESSION_KEY = "epmapper.handles"


class FloorProtocol(IntEnum):
    """Protocol identifiers of tower floors (C706 appendix I)."""

    NCADG = 0x0A
    NCACN = 0x0B
    NCALRPC = 0x0C
    UUID = 0x0D
    TCP = 0x07
    UDP = 0x08
    IP = 0x09
    SMB = 0x0F
    NAMED_PIPE = 0x10
    NETBIOS = 0x11
    HTTP = 0x1F


class InquiryType(IntEnum):
    """C{inquiry_type} of C{ept_lookup} ([MS-RPCE] 2.2.1.2.4)."""

    ALL_ELTS = 0
    MATCH_BY_IF = 1
    MATCH_BY_OBJ = 2
    MATCH_BY_BOTH = 3


class VersOption(IntEnum):
    """C{vers_option} of C{ept_lookup} ([MS-RPCE] 2.2.1.2.4)."""

    ALL = 1
    COMPATIBLE = 2
    EXACT = 3
    MAJOR_ONLY = 4
    UPTO = 5


#: Transports by the protocols of floors 3 onwards (Samba's C{transports[]}).
_INQUIRY_TYPES = frozenset(InquiryType)
_VERS_OPTIONS = frozenset(VersOption)

_TRANSPORTS = {
    (FloorProtocol.NCACN, FloorProtocol.TCP, FloorProtocol.IP): "ncacn_ip_tcp",
    (FloorProtocol.NCACN, FloorProtocol.SMB, FloorProtocol.NETBIOS): "ncacn_np",
    (FloorProtocol.NCACN, FloorProtocol.HTTP, FloorProtocol.IP): "ncacn_http",
    (FloorProtocol.NCADG, FloorProtocol.UDP, FloorProtocol.IP): "ncadg_ip_udp",
    (FloorProtocol.NCALRPC, FloorProtocol.NAMED_PIPE): "ncalrpc",
}

_U16 = struct.Struct("<H")
_U16BE = struct.Struct(">H")
_U32 = struct.Struct("<I")


def _syntaxOf(syntax):
    """
    Normalise what callers pass as a syntax.

    @param syntax: a L{SyntaxId}, anything with C{uuid}, C{version} and
        C{versionMinor} attributes (an C{InterfaceInfo}), or a tuple
        C{(uuid, major[, minor])} whose UUID may be text.
    @rtype: L{SyntaxId}
    @raise ConfigError: C{syntax} is none of these.
    """
    if isinstance(syntax, SyntaxId):
        return syntax
    if hasattr(syntax, "uuid") and hasattr(syntax, "version"):
        return SyntaxId(syntax.uuid, syntax.version, getattr(syntax, "versionMinor", 0))
    try:
        if isinstance(syntax, tuple) and len(syntax) in (2, 3):
            interfaceUuid = syntax[0]
            if not isinstance(interfaceUuid, uuid.UUID):
                interfaceUuid = uuid.UUID(str(interfaceUuid))
            major = int(syntax[1])
            minor = int(syntax[2]) if len(syntax) == 3 else 0
            if 0 <= major <= 0xFFFF and 0 <= minor <= 0xFFFF:
                return SyntaxId(interfaceUuid, major, minor)
    except (TypeError, ValueError):
        pass
    raise ConfigError("not an interface syntax: %r" % (syntax,))


@dataclass(frozen=True)
class Floor:
    """
    One floor of a protocol tower (C706 appendix L).

    @ivar lhs: the left-hand side: a protocol identifier byte, then its data.
    @ivar rhs: the right-hand side (related or addressing data).
    """

    lhs: bytes
    rhs: bytes

    @property
    def protocol(self):
        """
        The protocol identifier (first LHS byte), or L{None} for an empty LHS.

        @rtype: L{int} or L{None}
        """
        return self.lhs[0] if self.lhs else None

    @classmethod
    def forSyntax(cls, syntax):
        """
        Build an interface or transfer syntax floor.

        @param syntax: the syntax (see L{_syntaxOf} for accepted forms).
        @rtype: L{Floor}
        """
        syntax = _syntaxOf(syntax)
        return cls(
            bytes([FloorProtocol.UUID]) + syntax.uuid.bytes_le + _U16.pack(syntax.version),
            _U16.pack(syntax.versionMinor),
        )

    @property
    def syntax(self):
        """
        The syntax of a UUID floor.

        @return: the syntax, or L{None} when this is not a well-formed UUID
            floor.
        @rtype: L{SyntaxId} or L{None}
        """
        if self.protocol != FloorProtocol.UUID or len(self.lhs) != 19 or len(self.rhs) != 2:
            return None
        return SyntaxId(
            uuid.UUID(bytes_le=bytes(self.lhs[1:17])),
            _U16.unpack_from(self.lhs, 17)[0],
            _U16.unpack(self.rhs)[0],
        )

    def encode(self):
        """
        Encode this floor.

        @rtype: L{bytes}
        """
        return _U16.pack(len(self.lhs)) + self.lhs + _U16.pack(len(self.rhs)) + self.rhs


@dataclass(frozen=True)
class Tower:
    """
    A protocol tower: the floors that name an interface and where it is
    served (C706 appendix L, [MS-RPCE] 2.2.1.1.x).

    @ivar floors: the floors, in order (floor 1 first).
    """

    floors: Tuple[Floor, ...]

    @classmethod
    def fromEndpoint(cls, syntax, host, port, transferSyntax=NDR_TRANSFER_SYNTAX):
        """
        Build the five-floor C{ncacn_ip_tcp} tower of an endpoint.

        @param syntax: the interface.
        @param host: an IPv4 address (anything else is written C{0.0.0.0},
            as Samba does: towers have no IPv6 floor).
        @type host: L{str}
        @param port: the TCP port.
        @type port: L{int}
        @param transferSyntax: the transfer syntax floor.
        @rtype: L{Tower}
        """
        try:
            address = ipaddress.IPv4Address(host).packed
        except ValueError:
            address = b"\x00" * 4
        return cls(
            (
                Floor.forSyntax(syntax),
                Floor.forSyntax(transferSyntax),
                Floor(bytes([FloorProtocol.NCACN]), _U16.pack(0)),
                Floor(bytes([FloorProtocol.TCP]), _U16BE.pack(port)),
                Floor(bytes([FloorProtocol.IP]), address),
            )
        )

    @classmethod
    def decode(cls, data):
        """
        Decode a tower octet string.

        @param data: the C{tower_octet_string}.
        @type data: L{bytes}
        @rtype: L{Tower}
        @raise MalformedStub: the floors overrun the data or bytes are left.
        """
        data = bytes(data)
        if len(data) < 2:
            raise MalformedStub("tower of %d bytes has no floor count" % (len(data),))
        (count,) = _U16.unpack_from(data, 0)
        offset = 2
        floors = []
        for index in range(count):
            sides = []
            for side in ("LHS", "RHS"):
                if offset + 2 > len(data):
                    raise MalformedStub("tower floor %d: truncated %s length" % (index + 1, side))
                (length,) = _U16.unpack_from(data, offset)
                offset += 2
                if offset + length > len(data):
                    raise MalformedStub("tower floor %d: %s overruns the tower" % (index + 1, side))
                sides.append(data[offset : offset + length])
                offset += length
            floors.append(Floor(*sides))
        if offset != len(data):
            raise MalformedStub("%d bytes after the last tower floor" % (len(data) - offset,))
        return cls(tuple(floors))

    def encode(self):
        """
        Encode this tower as a C{tower_octet_string}.

        @rtype: L{bytes}
        """
        return _U16.pack(len(self.floors)) + b"".join(f.encode() for f in self.floors)

    @property
    def syntax(self):
        """
        The interface of floor 1.

        @rtype: L{SyntaxId} or L{None}
        """
        return self.floors[0].syntax if self.floors else None

    @property
    def transferSyntax(self):
        """
        The transfer syntax of floor 2.

        @rtype: L{SyntaxId} or L{None}
        """
        return self.floors[1].syntax if len(self.floors) > 1 else None

    @property
    def transport(self):
        """
        The transport the floors from 3 on describe, as a binding string
        transport name (C{"ncacn_ip_tcp"}, C{"ncacn_np"}, ...).

        @rtype: L{str} or L{None}
        """
        return _TRANSPORTS.get(tuple(f.protocol for f in self.floors[2:]))

    def _floor(self, *protocols):
        for floor in self.floors[2:]:
            if floor.protocol in protocols:
                return floor
        return None

    @property
    def port(self):
        """
        The port of a TCP, UDP or HTTP floor.

        @rtype: L{int} or L{None}
        """
        floor = self._floor(FloorProtocol.TCP, FloorProtocol.UDP, FloorProtocol.HTTP)
        if floor is None or len(floor.rhs) != 2:
            return None
        return _U16BE.unpack(floor.rhs)[0]

    @property
    def host(self):
        """
        The address of an IP floor (dotted quad) or the name of a NetBIOS
        floor.

        @rtype: L{str} or L{None}
        """
        floor = self._floor(FloorProtocol.IP)
        if floor is not None:
            if len(floor.rhs) != 4:
                return None
            return str(ipaddress.IPv4Address(bytes(floor.rhs)))
        floor = self._floor(FloorProtocol.NETBIOS)
        if floor is not None:
            return floor.rhs.split(b"\x00", 1)[0].decode("ascii", "replace")
        return None


class _Reader:
    """
    Bounds-checked reading of a little-endian NDR 2.0 stub; alignment is
    relative to the stub start ([MS-RPCE] 2.2.5, C706 14).
    """

    def __init__(self, data):
        self._data = bytes(data)
        self._offset = 0

    def _take(self, count, what):
        if count < 0 or self._offset + count > len(self._data):
            raise MalformedStub(
                "stub too short for %s at offset %d (%d bytes)"
                % (what, self._offset, len(self._data))
            )
        value = self._data[self._offset : self._offset + count]
        self._offset += count
        return value

    def align(self, boundary):
        self._take(-self._offset % boundary, "alignment padding")

    def u16(self, what):
        self.align(2)
        return _U16.unpack(self._take(2, what))[0]

    def u32(self, what):
        self.align(4)
        return _U32.unpack(self._take(4, what))[0]

    def uuid(self, what):
        self.align(4)
        return uuid.UUID(bytes_le=self._take(16, what))

    def handle(self):
        self.align(4)
        return self._take(20, "context handle")

    def octets(self, count, what):
        return self._take(count, what)


class _Writer:
    """Little-endian NDR 2.0 writing with zero padding."""

    def __init__(self):
        self._parts = []
        self._length = 0

    def _put(self, data):
        self._parts.append(data)
        self._length += len(data)

    def align(self, boundary):
        pad = -self._length % boundary
        if pad:
            self._put(b"\x00" * pad)

    def u16(self, value):
        self.align(2)
        self._put(_U16.pack(value))

    def u32(self, value):
        self.align(4)
        self._put(_U32.pack(value))

    def uuid(self, value):
        self.align(4)
        self._put(value.bytes_le)

    def handle(self, value):
        self.align(4)
        self._put(bytes(value))

    def octets(self, data):
        self._put(bytes(data))

    def tower(self, octets):
        """Write a C{twr_t}: conformance, C{tower_length}, the octets."""
        self.u32(len(octets))
        self.u32(len(octets))
        self.octets(octets)

    def getvalue(self):
        return b"".join(self._parts)


def _readTower(reader):
    """
    Read a C{twr_t} (the pointee of a C{twr_p_t}): a conformant structure,
    so the array's conformance comes first, then C{tower_length}, then the
    octets (C706 14.3.7.1).

    @rtype: L{bytes}
    @raise MalformedStub: the conformance and C{tower_length} disagree or the
        octets overrun the stub.
    """
    maxCount = reader.u32("tower conformance")
    length = reader.u32("tower_length")
    if maxCount != length:
        raise MalformedStub("tower conformance %d != tower_length %d" % (maxCount, length))
    return reader.octets(length, "tower octets")


def _ipv4For(host, localHost):
    """
    The IPv4 address to put in a tower for an endpoint registered on
    C{host}, when the client connected to C{localHost}.

    @rtype: L{str}
    """
    candidate = host if host not in ("0.0.0.0", "::", "") else (localHost or "")
    try:
        address = ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return "0.0.0.0"
    if address.version == 6:
        mapped = address.ipv4_mapped
        return str(mapped) if mapped is not None else "0.0.0.0"
    return str(address)


@dataclass(frozen=True)
class EndpointEntry:
    """
    One endpoint registered with the mapper.

    @ivar syntax: the interface served.
    @ivar port: the TCP port it is served on.
    @ivar host: the address it is served on (C{0.0.0.0}/C{::}: all).
    @ivar annotation: a short ASCII description (at most 63 characters).
    @ivar object: the object UUID (nil for none).
    """

    syntax: SyntaxId
    port: int
    host: str = "0.0.0.0"
    annotation: str = ""
    object: uuid.UUID = NULL_UUID

    def towerFor(self, localHost):
        """
        The tower that tells a client connected to C{localHost} where this
        endpoint is.

        @rtype: L{Tower}
        """
        return Tower.fromEndpoint(self.syntax, _ipv4For(self.host, localHost), self.port)


def _versionMatches(option, wanted, registered):
    """
    Apply an C{ept_lookup} C{vers_option} ([MS-RPCE] 2.2.1.2.4).

    @param wanted: the requested C{(major, minor)}.
    @param registered: the registered C{(major, minor)}.
    @return: whether the entry matches.
    @rtype: L{bool}
    """
    if option == VersOption.COMPATIBLE:
        return registered[0] == wanted[0] and registered[1] >= wanted[1]
    if option == VersOption.EXACT:
        return registered == wanted
    if option == VersOption.MAJOR_ONLY:
        return registered[0] == wanted[0]
    if option == VersOption.UPTO:
        return registered <= wanted
    return True


class EndpointMapper:
    """
    The server side of the endpoint mapper: a table of registered endpoints
    and the answers to C{ept_lookup}, C{ept_map} and
    C{ept_lookup_handle_free}.

    The RPC server calls L{handleCall} with the (unsealed) request stub of a
    call on the L{EPMAPPER_SYNTAX} interface and sends back the bytes it
    returns, or a fault with the status of the L{DCERPCFault} it raises.
    """

    def __init__(self):
        self._entries = []

    @property
    def entries(self):
        """
        The registered endpoints, in registration order.

        @rtype: L{tuple} of L{EndpointEntry}
        """
        return tuple(self._entries)

    def register(self, syntax, port, host="0.0.0.0", annotation="", object=NULL_UUID):
        """
        Register an endpoint; registering the same one again replaces it.

        @param syntax: the interface (a L{SyntaxId}, an C{InterfaceInfo} or
            a C{(uuid, major, minor)} tuple).
        @param port: the TCP port.
        @type port: L{int}
        @param host: the IP address listened on; C{0.0.0.0} or C{::} for all.
        @type host: L{str}
        @param annotation: a short ASCII description (e.g. the interface
            name), at most 63 characters.
        @type annotation: L{str}
        @param object: the object UUID served, nil for none.
        @type object: L{uuid.UUID}
        @return: the entry.
        @rtype: L{EndpointEntry}
        @raise ConfigError: a parameter is out of range.
        """
        syntax = _syntaxOf(syntax)
        if not isinstance(port, int) or not 0 < port <= 0xFFFF:
            raise ConfigError("endpoint port must be 1-65535, not %r" % (port,))
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except (AttributeError, ValueError):
            raise ConfigError("endpoint host must be an IP address, not %r" % (host,)) from None
        if not (
            isinstance(annotation, str)
            and annotation.isascii()
            and len(annotation) <= MAX_ANNOTATION
        ):
            raise ConfigError(
                "endpoint annotation must be ASCII, at most %d characters" % (MAX_ANNOTATION,)
            )
        if not isinstance(object, uuid.UUID):
            raise ConfigError("endpoint object must be a UUID, not %r" % (object,))
        entry = EndpointEntry(syntax, port, host, annotation, object)
        self.unregister(syntax, port=port, host=host, object=object)
        self._entries.append(entry)
        return entry

    def unregister(self, syntax, port=None, host=None, object=None):
        """
        Remove registered endpoints of an interface.

        @param syntax: the interface (as for L{register}).
        @param port: only the endpoints on this port (L{None}: any).
        @param host: only the endpoints on this address (L{None}: any).
        @param object: only the endpoints with this object (L{None}: any).
        @return: how many entries were removed.
        @rtype: L{int}
        """
        syntax = _syntaxOf(syntax)

        def matches(entry):
            return (
                entry.syntax == syntax
                and (port is None or entry.port == port)
                and (host is None or entry.host == host)
                and (object is None or entry.object == object)
            )

        before = len(self._entries)
        self._entries = [entry for entry in self._entries if not matches(entry)]
        return before - len(self._entries)

    def handleCall(self, opnum, stub, session, localHost):
        """
        Answer one call on the endpoint mapper interface.

        @param opnum: the operation number.
        @type opnum: L{int}
        @param stub: the request stub (already unsealed).
        @type stub: L{bytes}
        @param session: a dict the caller keeps for the association; the
            mapper keeps its lookup context handles in it.
        @type session: L{dict}
        @param localHost: the address the client connected to.
        @type localHost: L{str}
        @return: the response stub.
        @rtype: L{bytes}
        @raise DCERPCFault: with C{nca_s_op_rng_error} for an operation we do
            not serve, C{nca_s_fault_ndr} for a stub that does not decode,
            C{nca_s_fault_context_mismatch} for an unknown context handle.
        """
        handler = {
            OPNUM_LOOKUP: self._lookup,
            OPNUM_MAP: self._map,
            OPNUM_LOOKUP_HANDLE_FREE: self._lookupHandleFree,
        }.get(opnum)
        if handler is None:
            raise DCERPCFault(Status.NCA_S_OP_RNG_ERROR)
        try:
            return handler(_Reader(stub), session, localHost)
        except MalformedStub as e:
            _log.debug("epmapper opnum {opnum}: bad stub: {why}", opnum=opnum, why=str(e))
            raise DCERPCFault(Status.FAULT_NDR, "bad epmapper stub: %s" % (e,)) from None

    # -- context handles ----------------------------------------------------

    def _handles(self, session):
        return session.setdefault(_SESSION_KEY, {})

    def _openHandle(self, session, kind, remaining):
        """
        Keep the entries still to be returned and make a handle for them.

        @return: the 20-byte context handle.
        """
        handles = self._handles(session)
        while len(handles) >= MAX_OPEN_HANDLES:
            del handles[next(iter(handles))]
        handle = b"\x00\x00\x00\x00" + uuid.uuid4().bytes
        handles[handle] = (kind, remaining)
        return handle

    def _resume(self, session, kind, handle):
        """
        Take the entries kept for C{handle}.

        @raise DCERPCFault: the handle is not one we gave this association
            for this kind of call.
        """
        found = self._handles(session).pop(bytes(handle), None)
        if found is None or found[0] != kind:
            raise DCERPCFault(Status.NCA_S_FAULT_CONTEXT_MISMATCH, "unknown epmapper handle")
        return found[1]

    def _page(self, session, kind, pending, limit):
        """
        Split C{pending} into what this call returns and what a handle keeps.

        @return: C{(batch, handle)}: the handle is null when nothing remains.
        """
        batch, rest = pending[:limit], pending[limit:]
        if rest and batch:
            return batch, self._openHandle(session, kind, rest)
        return batch, NULL_HANDLE

    # -- ept_lookup ---------------------------------------------------------

    def _lookupMatches(self, inquiry, objectUuid, interface, versOption):
        """
        Select the entries an C{ept_lookup} inquiry asks for.

        @return: the entries, or L{None} for an inquiry we cannot perform
            (unknown inquiry type or version option, missing interface).
        """
        if inquiry not in _INQUIRY_TYPES:
            return None
        byInterface = inquiry in (InquiryType.MATCH_BY_IF, InquiryType.MATCH_BY_BOTH)
        byObject = inquiry in (InquiryType.MATCH_BY_OBJ, InquiryType.MATCH_BY_BOTH)
        if byInterface and (interface is None or versOption not in _VERS_OPTIONS):
            return None
        selected = []
        for entry in self._entries:
            if byInterface:
                registered = (entry.syntax.version, entry.syntax.versionMinor)
                if entry.syntax.uuid != interface[0]:
                    continue
                if not _versionMatches(versOption, interface[1:], registered):
                    continue
            if byObject and entry.object != (objectUuid or NULL_UUID):
                continue
            selected.append(entry)
        return selected

    def _lookup(self, reader, session, localHost):
        """
        C{ept_lookup} (opnum 2, [MS-RPCE] 2.2.1.2.4).
        """
        inquiry = reader.u32("inquiry_type")
        objectUuid = reader.uuid("object") if reader.u32("object pointer") else None
        interface = None
        if reader.u32("interface_id pointer"):
            interfaceUuid = reader.uuid("interface_id uuid")
            interface = (interfaceUuid, reader.u16("vers_major"), reader.u16("vers_minor"))
        versOption = reader.u32("vers_option")
        handle = reader.handle()
        maxEntries = reader.u32("max_ents")

        status = 0
        if handle != NULL_HANDLE:
            pending = self._resume(session, "lookup", handle)
        elif session.pop("lookupFinished", False):
            # The previous enumeration on this association ended with a null
            # handle and status 0 (which impacket's hept_lookup needs); a
            # client that loops until "no more entries" (Samba's rpcclient)
            # calls once more with that null handle: tell it the list is over.
            pending, status = [], EPT_S_NOT_REGISTERED
        else:
            selected = self._lookupMatches(inquiry, objectUuid, interface, versOption)
            if selected is None:
                pending, status = [], EPT_S_CANT_PERFORM_OP
            else:
                pending = [
                    (entry.object, entry.towerFor(localHost).encode(), entry.annotation)
                    for entry in selected
                ]
        batch, outHandle = self._page(session, "lookup", pending, maxEntries)
        if not batch and status == 0:
            status = EPT_S_NOT_REGISTERED
        if batch and outHandle == NULL_HANDLE:
            session["lookupFinished"] = True
        _log.debug(
            "ept_lookup inquiry={inquiry} -> {count} entries, status {status:#x}",
            inquiry=inquiry,
            count=len(batch),
            status=status,
        )
        return _encodeLookupResponse(outHandle, maxEntries, batch, status)

    # -- ept_map ------------------------------------------------------------

    def _mapMatches(self, objectUuid, tower, localHost):
        """
        Select the towers an C{ept_map} request tower asks for.

        @return: encoded towers (possibly none).
        """
        if len(tower.floors) < 3 or tower.transferSyntax != NDR_TRANSFER_SYNTAX:
            return []
        if tower.transport != "ncacn_ip_tcp":
            return []
        wanted = tower.syntax
        if wanted is None:
            return []
        candidates = [
            entry
            for entry in self._entries
            if entry.syntax.uuid == wanted.uuid
            and entry.syntax.version == wanted.version
            and entry.syntax.versionMinor >= wanted.versionMinor
        ]
        if objectUuid is not None and objectUuid != NULL_UUID:
            exact = [entry for entry in candidates if entry.object == objectUuid]
            candidates = exact or [entry for entry in candidates if entry.object == NULL_UUID]
        return [entry.towerFor(localHost).encode() for entry in candidates]

    def _map(self, reader, session, localHost):
        """
        C{ept_map} (opnum 3, [MS-RPCE] 2.2.1.2.5).
        """
        objectUuid = reader.uuid("object") if reader.u32("object pointer") else None
        towerOctets = _readTower(reader) if reader.u32("map_tower pointer") else None
        handle = reader.handle()
        maxTowers = reader.u32("max_towers")

        if handle != NULL_HANDLE:
            pending = self._resume(session, "map", handle)
            wanted = None
        elif towerOctets is None:
            pending, wanted = [], None
        else:
            tower = Tower.decode(towerOctets)
            wanted = tower.syntax
            pending = self._mapMatches(objectUuid, tower, localHost)
        batch, outHandle = self._page(session, "map", pending, maxTowers)
        status = 0 if batch else EPT_S_NOT_REGISTERED
        _log.debug(
            "ept_map {syntax} -> {count} towers, status {status:#x}",
            syntax=str(wanted.uuid) if wanted is not None else "-",
            count=len(batch),
            status=status,
        )
        return _encodeMapResponse(outHandle, maxTowers, batch, status)

    # -- ept_lookup_handle_free --------------------------------------------

    def _lookupHandleFree(self, reader, session, localHost):
        """
        C{ept_lookup_handle_free} (opnum 4, [MS-RPCE] 2.2.1.2.6): forget the
        handle (unknown handles are not an error) and answer a null one.
        """
        handle = reader.handle()
        self._handles(session).pop(handle, None)
        writer = _Writer()
        writer.handle(NULL_HANDLE)
        writer.u32(0)
        return writer.getvalue()


def _encodeAnnotation(writer, annotation):
    """
    Write C{[string] char annotation[64]}: offset, actual count (NUL
    included), the characters.
    """
    text = annotation.encode("ascii", "replace")[:MAX_ANNOTATION] + b"\x00"
    writer.u32(0)
    writer.u32(len(text))
    writer.octets(text)


def _encodeLookupResponse(handle, maxEntries, entries, status):
    """
    Encode the out parameters of C{ept_lookup}.

    @param entries: C{(object, towerOctets, annotation)} triples.
    @rtype: L{bytes}
    """
    writer = _Writer()
    writer.handle(handle)
    writer.u32(len(entries))
    writer.u32(maxEntries)
    writer.u32(0)
    writer.u32(len(entries))
    for index, (objectUuid, _, annotation) in enumerate(entries):
        writer.uuid(objectUuid)
        writer.u32(0x00020000 + 4 * index)
        _encodeAnnotation(writer, annotation)
    for _, towerOctets, _ in entries:
        writer.tower(towerOctets)
    writer.u32(status)
    return writer.getvalue()


def _encodeMapResponse(handle, maxTowers, towers, status):
    """
    Encode the out parameters of C{ept_map}.

    @param towers: encoded towers.
    @rtype: L{bytes}
    """
    writer = _Writer()
    writer.handle(handle)
    writer.u32(len(towers))
    writer.u32(maxTowers)
    writer.u32(0)
    writer.u32(len(towers))
    for index in range(len(towers)):
        writer.u32(0x00020000 + 4 * index)
    for towerOctets in towers:
        writer.tower(towerOctets)
    writer.u32(status)
    return writer.getvalue()


# -- client side ------------------------------------------------------------


class LookupEntry(NamedTuple):
    """
    One entry of an C{ept_lookup} answer.

    @ivar syntax: the interface of the tower (L{None} if floor 1 is not an
        interface floor).
    @ivar annotation: the annotation text.
    @ivar host: the tower's IP address or NetBIOS name, if any.
    @ivar port: the tower's TCP/UDP/HTTP port, if any.
    @ivar objectUuid: the entry's object UUID.
    """

    syntax: Optional[SyntaxId]
    annotation: str
    host: Optional[str]
    port: Optional[int]
    objectUuid: uuid.UUID


def buildMapRequest(syntax, objectUuid=NULL_UUID, maxTowers=4):
    """
    Build the C{ept_map} request stub a Windows or impacket client sends to
    find the TCP port of an interface: a non-null object pointer, the
    five-floor C{ncacn_ip_tcp} tower with port 0 and address 0.0.0.0, a null
    handle.

    @param syntax: the interface (a L{SyntaxId}, an C{InterfaceInfo} or a
        C{(uuid, major, minor)} tuple).
    @param objectUuid: the object UUID (nil for none).
    @type objectUuid: L{uuid.UUID}
    @param maxTowers: how many towers the answer may carry.
    @type maxTowers: L{int}
    @rtype: L{bytes}
    """
    writer = _Writer()
    writer.u32(1)
    writer.uuid(objectUuid)
    writer.u32(2)
    writer.tower(Tower.fromEndpoint(_syntaxOf(syntax), "0.0.0.0", 0).encode())
    writer.handle(NULL_HANDLE)
    writer.u32(maxTowers)
    return writer.getvalue()


def _readResponseHead(reader, what):
    """
    Read the handle, the element count and the conformant-varying array
    header of an C{ept_lookup}/C{ept_map} answer.

    @return: C{(handle, count)}.
    """
    handle = reader.handle()
    count = reader.u32("num_%s" % (what,))
    maxCount = reader.u32("%s max_count" % (what,))
    offset = reader.u32("%s offset" % (what,))
    actual = reader.u32("%s actual_count" % (what,))
    if offset != 0 or actual != count or actual > maxCount:
        raise MalformedStub(
            "%s array: num %d, max %d, offset %d, actual %d"
            % (what, count, maxCount, offset, actual)
        )
    return handle, count


def _raiseForStatus(status, what):
    if status == EPT_S_NOT_REGISTERED:
        raise EndpointNotRegistered("%s: endpoint not registered" % (what,))
    raise UpstreamError("%s failed with status 0x%08x" % (what, status))


def parseMapResponse(stub):
    """
    Read an C{ept_map} answer.

    @param stub: the response stub.
    @type stub: L{bytes}
    @return: C{(host, port)} of each C{ncacn_ip_tcp} tower, in order. The
        host is the tower's address as given; C{0.0.0.0} means "the address
        you asked".
    @rtype: L{list} of C{(str, int)}
    @raise EndpointNotRegistered: the mapper knows no endpoint (status
        C{EPT_S_NOT_REGISTERED}, no towers, or no TCP tower).
    @raise UpstreamError: any other non-zero status.
    @raise MalformedStub: the stub does not decode.
    """
    reader = _Reader(stub)
    _, count = _readResponseHead(reader, "towers")
    present = [reader.u32("tower pointer") != 0 for _ in range(count)]
    towers = [Tower.decode(_readTower(reader)) for isPresent in present if isPresent]
    status = reader.u32("status")
    if status != 0:
        _raiseForStatus(status, "ept_map")
    result = [
        (tower.host, tower.port)
        for tower in towers
        if tower.transport == "ncacn_ip_tcp" and tower.port is not None
    ]
    if not result:
        raise EndpointNotRegistered("ept_map: no ncacn_ip_tcp tower in the answer")
    return result


def buildLookupRequest(maxEntries=500, handle=None):
    """
    Build the C{ept_lookup} request stub that lists every endpoint, as
    impacket's C{hept_lookup} and Windows' C{RpcMgmtEpEltInqNext} send it
    (inquiry C{RPC_C_EP_ALL_ELTS}, null object and interface pointers,
    C{RPC_C_VERS_ALL}).

    @param maxEntries: how many entries one answer may carry.
    @type maxEntries: L{int}
    @param handle: the context handle of the previous answer to continue
        from, or L{None} to start.
    @type handle: L{bytes} or L{None}
    @rtype: L{bytes}
    """
    writer = _Writer()
    writer.u32(InquiryType.ALL_ELTS)
    writer.u32(0)
    writer.u32(0)
    writer.u32(VersOption.ALL)
    writer.handle(NULL_HANDLE if handle is None else handle)
    writer.u32(maxEntries)
    return writer.getvalue()


def parseLookupResponse(stub):
    """
    Read an C{ept_lookup} answer.

    @param stub: the response stub.
    @type stub: L{bytes}
    @return: C{(handle, entries, status)}: the 20-byte context handle
        (L{NULL_HANDLE} when the enumeration is over), the L{LookupEntry}s,
        and the status (0, or e.g. L{EPT_S_NOT_REGISTERED}: no more entries).
    @raise MalformedStub: the stub does not decode.
    """
    reader = _Reader(stub)
    handle, count = _readResponseHead(reader, "entries")
    heads = []
    for _ in range(count):
        objectUuid = reader.uuid("entry object")
        hasTower = reader.u32("entry tower pointer") != 0
        offset = reader.u32("annotation offset")
        length = reader.u32("annotation length")
        if offset != 0 or length > MAX_ANNOTATION + 1:
            raise MalformedStub("annotation offset %d, length %d" % (offset, length))
        text = reader.octets(length, "annotation")
        annotation = text.split(b"\x00", 1)[0].decode("ascii", "replace")
        heads.append((objectUuid, hasTower, annotation))
    entries = []
    for objectUuid, hasTower, annotation in heads:
        tower = Tower.decode(_readTower(reader)) if hasTower else Tower(())
        entries.append(LookupEntry(tower.syntax, annotation, tower.host, tower.port, objectUuid))
    status = reader.u32("status")
    return handle, entries, status
