# -*- test-case-name: tests.test_calls -*-
"""
A call as the relay sees it: the original stub bytes, decoded only when
someone asks, and re-encoded only when someone changed the decoded value.
"""

from mapiproxy.errors import MapiProxyError

_UNDECODED = object()


class RelayedCall:
    """
    One relayed call.

    @ivar call: the engine's L{mapiproxy.dcerpc.association.Call}.
    @ivar interfaceName: e.g. C{exchange_nsp}.
    @ivar codec: the interface's stub codec, or L{None} (opaque).
    @ivar requestStub: the request stub as the client sent it.
    @ivar responseStub: the response stub as the upstream sent it (or as a
        hook answered it), once known.
    @ivar faultStatus: the fault status when the call failed with a fault.
    @ivar error: a one-line reason when the call failed otherwise.
    @ivar started: when the call arrived (clock seconds).
    @ivar finished: when it was answered.
    @ivar notes: free-form scratch space for hooks, per call.
    """

    def __init__(self, call, interfaceName, codec, clock):
        self.call = call
        self.interfaceName = interfaceName
        self.codec = codec
        self._clock = clock
        self.started = clock()
        self.finished = None
        self.requestStub = call.stub
        self.responseStub = None
        self.faultStatus = None
        self.error = None
        self.notes = {}
        self.localReply = None
        self.answeredLocally = False
        self._request = _UNDECODED
        self._response = _UNDECODED
        self._requestChanged = False
        self._responseChanged = False

    def relayAgain(self, stub=None):
        """
        Send the request (or C{stub}) upstream once more, before answering
        the client (OpenChange's C{ahead}); set by the relay.

        @return: a L{Deferred} firing with the upstream's response stub.
        """
        raise NotImplementedError("not a relayed call")

    @property
    def opnum(self):
        """
        The operation number.
        """
        return self.call.opnum

    @property
    def opnumName(self):
        """
        The operation's name (C{"opnum N"} when unknown).
        """
        if self.codec is not None and self.opnum in self.codec.operations:
            return self.codec.operations[self.opnum].name
        info = getattr(self.call.interface, "info", None)
        if info is not None:
            return info.opnumName(self.opnum)
        return "opnum %d" % (self.opnum,)

    @property
    def session(self):
        """
        The client's presentation-context session.
        """
        return self.call.session

    # -- the request -------------------------------------------------------------

    @property
    def request(self):
        """
        The decoded request (decoded on first use).

        @raise mapiproxy.errors.MapiProxyError: no codec, or the stub does
            not decode.
        """
        if self._request is _UNDECODED:
            if self.codec is None:
                raise MapiProxyError("%s has no stub codec" % (self.interfaceName,))
            self._request = self.codec.decodeRequest(self.opnum, self.requestStub)
        return self._request

    @property
    def requestDecoded(self):
        """
        True when someone decoded the request.
        """
        return self._request is not _UNDECODED

    def requestChanged(self):
        """
        Say that the decoded request was changed in place: it is re-encoded
        before it goes upstream.
        """
        self._requestChanged = True

    def outgoingRequest(self):
        """
        The request stub to send upstream: the original bytes unless the
        decoded request was changed.
        """
        if self._requestChanged:
            return self._request.encode()
        return self.requestStub

    # -- the response ------------------------------------------------------------

    @property
    def response(self):
        """
        The decoded response (decoded on first use).

        @raise mapiproxy.errors.MapiProxyError: no response yet, no codec, or
            the stub does not decode.
        """
        if self._response is _UNDECODED:
            if self.responseStub is None:
                raise MapiProxyError("no response yet")
            if self.codec is None:
                raise MapiProxyError("%s has no stub codec" % (self.interfaceName,))
            self._response = self.codec.decodeResponse(self.opnum, self.responseStub)
        return self._response

    @property
    def responseDecoded(self):
        """
        True when someone decoded the response.
        """
        return self._response is not _UNDECODED

    def answer(self, response):
        """
        Use C{response} (a decoded response object) as the answer, instead
        of anything from upstream; it is encoded for the client.
        """
        self.responseStub = b""
        self._response = response
        self._responseChanged = True

    def responseChanged(self):
        """
        Say that the decoded response was changed in place.
        """
        self._responseChanged = True

    def outgoingResponse(self):
        """
        The response stub to send to the client.
        """
        if self._responseChanged:
            return self._response.encode()
        return self.responseStub

    def finish(self):
        """
        Record the end of the call.
        """
        self.finished = self._clock()

    @property
    def latency(self):
        """
        Seconds from arrival to answer (L{None} while running).
        """
        if self.finished is None:
            return None
        return self.finished - self.started
