# -*- test-case-name: tests.interfaces.test_emsmdb -*-
"""
What every interface stub codec shares: the L{Stub} base of request and
response classes, the L{Operation} table entry, the L{OpaqueRequest} /
L{OpaqueResponse} pair for opnums whose parameters are not modelled, and
L{InterfaceCodec}, which dispatches on opnum.

A request or response class is a dataclass named after the operation
(C{EcDoConnectExRequest}) whose fields carry the IDL parameter names
(C{szUserDN}, C{rgbAuxIn}, C{result}, ...). C{Cls.decode(stub)} parses
one whole NDR20 stub and C{obj.encode()} writes it back; for any stub an
NDR encoder with zeroed padding produced (Windows, Samba, our own),
C{Cls.decode(stub).encode() == stub}.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, NDRError
from mapiproxy.interfaces.ndr import NDRReader, NDRWriter

__all__ = [
    "Stub",
    "Operation",
    "OpaqueRequest",
    "OpaqueResponse",
    "InterfaceCodec",
]


class Stub:
    """
    Mixin of request and response dataclasses: C{decode}/C{encode} on top
    of the subclass's C{_read(reader)} (a classmethod returning the
    instance) and C{_write(writer)}.
    """

    @classmethod
    def decode(cls, stub):
        """
        Parse one whole stub.

        @param stub: the stub bytes of the request or response PDU(s).
        @type stub: L{bytes}-like
        @rtype: an instance of C{cls}
        @raise mapiproxy.errors.NDRError: the stub does not decode, breaks
            an IDL range, or has bytes left over.
        """
        reader = NDRReader(stub)
        value = cls._read(reader)
        reader.finish()
        return value

    def encode(self):
        """
        Marshal this value.

        @return: the stub bytes.
        @rtype: L{bytes}
        @raise mapiproxy.errors.NDRError: a field does not fit its wire
            type.
        """
        writer = NDRWriter()
        self._write(writer)
        return writer.getvalue()

    @classmethod
    def _read(cls, reader):
        raise NotImplementedError()

    def _write(self, writer):
        raise NotImplementedError()


class _Opaque(Stub):
    """
    Stub bytes kept as they are, for an operation whose parameters are not
    modelled.
    """

    @classmethod
    def decode(cls, stub):
        """
        Keep the stub as it is.

        @type stub: L{bytes}-like
        """
        return cls(bytes(stub))

    def encode(self):
        """
        @return: the stub bytes as decoded.
        @rtype: L{bytes}
        """
        return bytes(self.stub)


@dataclass
class OpaqueRequest(_Opaque):
    """
    The request of an operation whose parameters are not modelled (a
    placeholder opnum such as EcGetMoreRpc): the stub bytes, as they are.

    @ivar stub: the stub bytes.
    @type stub: L{bytes}
    """

    stub: bytes = b""


@dataclass
class OpaqueResponse(_Opaque):
    """
    The response of an operation whose parameters are not modelled.

    @ivar stub: the stub bytes.
    @type stub: L{bytes}
    """

    stub: bytes = b""


@dataclass(frozen=True)
class Operation:
    """
    One entry of an interface's opnum table.

    @ivar opnum: the operation number.
    @type opnum: L{int}
    @ivar name: the operation name, e.g. C{"EcDoRpcExt2"}.
    @type name: L{str}
    @ivar request: the request class (C{decode(stub)} classmethod,
        C{encode()} method).
    @type request: L{type}
    @ivar response: the response class.
    @type response: L{type}
    """

    opnum: int
    name: str
    request: type
    response: type


class InterfaceCodec:
    """
    The stub codec of one RPC interface: finds the request or response
    class of an opnum and runs it.

    @ivar name: the interface's NDR table name, e.g. C{"exchange_emsmdb"}.
    @type name: L{str}
    @ivar operations: the operations, by opnum.
    @type operations: L{dict} of L{int} to L{Operation}
    """

    def __init__(self, name, operations):
        """
        @param name: the interface's NDR table name.
        @type name: L{str}
        @param operations: the operations (any iterable of L{Operation}).
        """
        self.name = name
        self.operations = {op.opnum: op for op in operations}

    def __repr__(self):
        return "<InterfaceCodec %s: %d operations>" % (self.name, len(self.operations))

    def operation(self, opnum):
        """
        Look an operation up.

        @type opnum: L{int}
        @rtype: L{Operation}
        @raise DCERPCFault: with C{nca_s_op_rng_error}, which is what a
            server answers for an opnum its interface does not have
            ([C706] 12.6.4.7).
        """
        try:
            return self.operations[opnum]
        except KeyError:
            raise DCERPCFault(
                Status.NCA_S_OP_RNG_ERROR,
                "%s has no opnum %r" % (self.name, opnum),
            ) from None

    def opnumName(self, opnum):
        """
        Name an operation.

        @type opnum: L{int}
        @return: e.g. C{"EcDoConnectEx"}, or C{"opnum 42"} when unknown.
        @rtype: L{str}
        """
        op = self.operations.get(opnum)
        return op.name if op is not None else "opnum %d" % (opnum,)

    def decodeRequest(self, opnum, stub):
        """
        Decode the stub of a request.

        @type opnum: L{int}
        @type stub: L{bytes}
        @return: an instance of the operation's request class.
        @raise DCERPCFault: unknown opnum.
        @raise mapiproxy.errors.NDRError: the stub does not decode.
        """
        return self.operation(opnum).request.decode(stub)

    def decodeResponse(self, opnum, stub):
        """
        Decode the stub of a response.

        @type opnum: L{int}
        @type stub: L{bytes}
        @return: an instance of the operation's response class.
        @raise DCERPCFault: unknown opnum.
        @raise mapiproxy.errors.NDRError: the stub does not decode.
        """
        return self.operation(opnum).response.decode(stub)

    def encodeRequest(self, opnum, value):
        """
        Encode a request.

        @type opnum: L{int}
        @param value: an instance of the operation's request class.
        @rtype: L{bytes}
        @raise DCERPCFault: unknown opnum.
        @raise mapiproxy.errors.NDRError: C{value} is of another class, or a
            field does not fit its wire type.
        """
        return self._encode(self.operation(opnum).request, value)

    def encodeResponse(self, opnum, value):
        """
        Encode a response.

        @type opnum: L{int}
        @param value: an instance of the operation's response class.
        @rtype: L{bytes}
        @raise DCERPCFault: unknown opnum.
        @raise mapiproxy.errors.NDRError: C{value} is of another class, or a
            field does not fit its wire type.
        """
        return self._encode(self.operation(opnum).response, value)

    def _encode(self, cls, value):
        if not isinstance(value, cls):
            raise NDRError(
                "%s expects a %s, not a %s" % (self.name, cls.__name__, type(value).__name__)
            )
        return value.encode()
