# -*- test-case-name: tests.test_endpoints -*-
"""
The endpoint mapper on the network: L{EndpointMapperInterface} serves a
L{mapiproxy.epmapper.EndpointMapper} through the RPC engine, and
L{resolvePort} asks a remote endpoint mapper which port serves an interface.
"""

from twisted.internet.defer import inlineCallbacks
from zope.interface import implementer

from mapiproxy import epmapper
from mapiproxy.dcerpc.client import connectRPC
from mapiproxy.imapiproxy import IRPCInterface

EPMAPPER_PORT = 135


@implementer(IRPCInterface)
class EndpointMapperInterface:
    """
    The C{epmapper} interface (e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0):
    open to clients that did not authenticate, as on Windows and Samba.

    @ivar mapper: the L{epmapper.EndpointMapper} holding the registrations.
    """

    name = "epmapper"
    requireAuthentication = False

    def __init__(self, mapper=None):
        self.mapper = mapper if mapper is not None else epmapper.EndpointMapper()
        self.syntax = epmapper.EPMAPPER_SYNTAX

    def contextBound(self, session):
        return None

    def contextReleased(self, session):
        session.state.pop("epmapper", None)

    def handleCall(self, call):
        state = call.session.state.setdefault("epmapper", {})
        host = call.session.association.localHost or "0.0.0.0"
        return self.mapper.handleCall(call.opnum, call.stub, state, host)


@inlineCallbacks
def resolvePort(reactor, host, syntax, port=EPMAPPER_PORT, timeout=10):
    """
    Ask the endpoint mapper on C{host} which TCP port serves C{syntax}
    (an unauthenticated bind, one C{ept_map}, as Windows clients do).

    @param syntax: the interface's L{SyntaxId}.
    @return: a L{Deferred} firing with the port, or failing with
        L{mapiproxy.errors.EndpointNotRegistered} /
        L{mapiproxy.errors.UpstreamError}.
    """
    proto = yield connectRPC(reactor, host, port, [epmapper.EPMAPPER_SYNTAX], security=None, timeout=timeout)
    try:
        stub = yield proto.call(3, epmapper.buildMapRequest(syntax))
    finally:
        proto.disconnect()
    answers = epmapper.parseMapResponse(stub)
    return answers[0][1]
