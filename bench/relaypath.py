"""
Micro-benchmark of the proxy's per-call and per-fragment path, without
sockets: a L{ClientAssociation} and a L{ServerAssociation} (rpcecho) hand
bytes to each other in this process, so one call runs the four steps the
proxy runs per relayed call (server: unprotect the request, protect the
response; client: protect the request, unprotect the response).

Not a test: it prints the CPU time per call for a few stub sizes. With
C{--digest} it instead prints a SHA-256 of every byte exchanged, with the
randomness and the clock pinned, so that two source trees can be compared
for identical bytes on the wire. Usage::

    python3 bench/relaypath.py [--path TREE] [--seconds S] [--digest]
"""

import argparse
import hashlib
import os
import random
import sys
import time


def _parseArgs():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--path", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--seconds", type=float, default=1.5, help="most seconds per figure")
    parser.add_argument("--digest", action="store_true", help="print a digest of the wire bytes instead")
    parser.add_argument("--cut-through", action="store_true", help="time the proxy's cut-through path instead")
    return parser.parse_args()


def _pinRandomness():
    """
    Make the handshakes deterministic (before any import of the tree under
    test captures C{os.urandom} or C{time.time}).
    """
    rng = random.Random(1234)
    os.urandom = lambda n: bytes(rng.getrandbits(8) for _ in range(n))
    time.time = lambda: 1764000000.0


class _Parties:
    """
    What both harnesses need: an rpcecho server association, a sealing
    client association, and the code that hands bytes between them.
    """

    def __init__(self, tmp):
        from mapiproxy.auth.credentials import ServerIdentity
        from mapiproxy.auth.passdb import PassDB, addUser
        from mapiproxy.testing.echo import EchoInterface

        self.identity = ServerIdentity(netbiosName="PROXY1", workgroup="EXAMPLE", dnsDomain="example.com")
        path = os.path.join(tmp, "passdb")
        if not os.path.exists(path):
            addUser(path, "alice", "Passw0rd!")
        self.passdb = PassDB.fromFile(path, self.identity)
        self.echo = EchoInterface()

    def server(self):
        from mapiproxy.auth.security import makeAcceptor
        from mapiproxy.dcerpc.association import AssociationGroups, ServerAssociation, ServerSettings

        echo = self.echo
        return ServerAssociation(
            lambda syntax: echo if syntax.uuid == echo.syntax.uuid else None,
            lambda t: makeAcceptor(t, self.passdb, self.identity),
            AssociationGroups(),
            ServerSettings(),
            peer="bench",
            localPort=4242,
        )

    def client(self, authType, level):
        from mapiproxy.auth.credentials import Credentials
        from mapiproxy.auth.security import makeInitiator
        from mapiproxy.dcerpc.clientassociation import ClientAssociation

        return ClientAssociation(
            [self.echo.syntax],
            security=makeInitiator(authType, Credentials("alice", "Passw0rd!", "EXAMPLE")),
            authLevel=level,
        )

    @staticmethod
    def serve(server, data):
        """
        Feed a server association, answering binds and echoing calls.

        @return: what it sends back.
        """
        from mapiproxy.dcerpc.association import CallReceived, ContextsBound

        events = server.receiveData(data)
        while events:
            more = []
            for event in events:
                if isinstance(event, ContextsBound):
                    more.extend(server.completeBind())
                elif isinstance(event, CallReceived):
                    server.respond(event.call, event.call.stub)
            events = more
        return server.dataToSend()

    @staticmethod
    def handshake(client, toServer):
        client.start()
        for _ in range(10):
            data = client.dataToSend()
            if not data:
                break
            client.receiveData(toServer(data))
        assert client.ready, "handshake failed"


def _harness(tmp, authType, level):
    parties = _Parties(tmp)
    server = parties.server()
    wire = []

    def toServer(data):
        wire.append(data)
        out = parties.serve(server, data)
        wire.append(out)
        return out

    client = parties.client(authType, level)
    parties.handshake(client, toServer)

    def call(stub):
        client.request(1, stub)
        events = client.receiveData(toServer(client.dataToSend()))
        return events[0].stub

    return call, wire


def _cutThroughHarness(tmp):
    """
    The proxy's cut-through path: a client association, the proxy's server
    and client associations (forwarding fragment by fragment, as the relay
    does), and an upstream rpcecho server association, in this process.

    @return: C{(directCall, relayedCall, proxyRequest, proxyResponse,
        client, upstreamServer, state)}: a call straight to the upstream, a
        call through the proxy's associations, the proxy's steps for the
        bytes of a request and for the bytes of a response (for timing),
        the client and upstream associations, and the forwarder's state
        (C{state["callId"]}: the client call being answered).
    """
    from mapiproxy.dcerpc.constants import AuthLevel, AuthType

    parties = _Parties(tmp)
    serve = parties.serve

    def connected(server):
        client = parties.client(AuthType.NTLM, AuthLevel.PRIVACY)
        parties.handshake(client, lambda data: serve(server, data))
        return client

    upstream = parties.server()
    direct = connected(upstream)
    proxyServer = parties.server()
    client = connected(proxyServer)
    upstreamServer = parties.server()
    proxyClient = connected(upstreamServer)
    state = {}

    class Forwarder:
        # What the relay's UpstreamLink does, without its bookkeeping.
        def forwardRequest(self, session, callId, opnum, buf, dataStart, dataEnd, pfcFlags):
            if pfcFlags & 1:
                state["id"] = proxyClient.newCallId()
            proxyClient.forwardRequest(state["id"], 0, buf, dataStart, dataEnd, pfcFlags)

        def fragmentsDone(self):
            pass

        def responseFragment(self, callId, buf, dataStart, dataEnd, pfcFlags):
            proxyServer.forwardResponse(state["callId"], buf, dataStart, dataEnd, pfcFlags)

        def responsesDone(self):
            pass

    forwarder = Forwarder()
    proxyServer.forwardContext(0, proxyClient.signatureSize, forwarder)
    proxyClient.forwarder = forwarder

    def directCall(stub):
        direct.request(1, stub)
        return direct.receiveData(serve(upstream, direct.dataToSend()))[0].stub

    def proxyRequest(data):
        proxyServer.receiveData(data)
        return proxyClient.dataToSend()

    def proxyResponse(data):
        proxyClient.receiveData(data)
        return proxyServer.dataToSend()

    def relayedCall(stub):
        state["callId"] = client.request(1, stub)
        fromUpstream = serve(upstreamServer, proxyRequest(client.dataToSend()))
        events = client.receiveData(proxyResponse(fromUpstream))
        return events[0].stub

    return directCall, relayedCall, proxyRequest, proxyResponse, client, upstreamServer, state


def _timeCutThrough(tmp, seconds):
    directCall, relayedCall, proxyRequest, proxyResponse, client, upstreamServer, state = _cutThroughHarness(tmp)
    print("cut-through path (proxy's server + client associations only), CPU per relayed call:")
    for size in (28, 300, 65536, 1 << 20):
        stub = os.urandom(size)
        assert relayedCall(stub) == stub and directCall(stub) == stub
        spent = 0.0
        calls = 0
        start = time.process_time()
        while calls < 20000 and time.process_time() - start < seconds * 2:
            state["callId"] = client.request(1, stub)
            data = client.dataToSend()
            t0 = time.process_time()
            toUpstream = proxyRequest(data)
            spent += time.process_time() - t0
            fromUpstream = upstreamServer.receiveData(toUpstream)
            upstreamServer.respond(fromUpstream[0].call, stub)
            back = upstreamServer.dataToSend()
            t0 = time.process_time()
            out = proxyResponse(back)
            spent += time.process_time() - t0
            client.receiveData(out)
            calls += 1
        perCall = spent / calls
        extra = ""
        if size >= 65536:
            extra = "  (%.1f MB/s each way per CPU-second)" % (size / perCall / 1e6,)
        print("  %8d bytes: %9.1f us%s" % (size, perCall * 1e6, extra))


def _digest(tmp):
    from mapiproxy.dcerpc.constants import AuthLevel, AuthType

    total = hashlib.sha256()
    for authType in (AuthType.NTLM, AuthType.SPNEGO):
        for level in (AuthLevel.INTEGRITY, AuthLevel.PRIVACY):
            call, wire = _harness(tmp, authType, level)
            for size in (0, 1, 28, 300, 5000, 5799, 65536, 300000):
                stub = bytes(i & 0xFF for i in range(size))
                assert call(stub) == stub
            total.update(b"".join(wire))
            print("%-7s level %d: %d bytes, sha256 %s" % (authType.name, level, sum(map(len, wire)), hashlib.sha256(b"".join(wire)).hexdigest()[:16]))
    print("all: %s" % (total.hexdigest(),))


def _time(tmp, seconds):
    from mapiproxy.dcerpc.constants import AuthLevel, AuthType

    call, _ = _harness(tmp, AuthType.NTLM, AuthLevel.PRIVACY)
    print("sealed NTLM, client+server associations in one process, CPU per call:")
    for size in (28, 300, 65536, 1 << 20):
        stub = os.urandom(size)
        calls = 0
        start = time.process_time()
        while calls < 20000 and time.process_time() - start < seconds:
            call(stub)
            calls += 1
        perCall = (time.process_time() - start) / calls
        extra = ""
        if size >= 65536:
            extra = "  (%.1f MB/s each way per CPU-second)" % (size / perCall / 1e6,)
        print("  %8d bytes: %9.1f us%s" % (size, perCall * 1e6, extra))


def main():
    options = _parseArgs()
    if options.digest:
        _pinRandomness()
    sys.path.insert(0, os.path.abspath(options.path))
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        if options.digest:
            _digest(tmp)
        elif options.cut_through:
            _timeCutThrough(tmp, options.seconds)
        else:
            _time(tmp, options.seconds)


if __name__ == "__main__":
    main()
