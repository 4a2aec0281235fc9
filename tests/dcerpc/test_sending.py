"""
L{DirectWriter} and L{noDelay}, on real loopback sockets: bytes leave at
once while nothing waits in the transport, keep their order when the
socket is full, and the writer goes back to sending directly once the
transport has drained.
"""

import socket

from twisted.internet import reactor
from twisted.internet.defer import Deferred, inlineCallbacks
from twisted.internet.protocol import Protocol, ServerFactory
from twisted.internet.threads import deferToThread
from twisted.internet.testing import StringTransport
from twisted.trial.unittest import SynchronousTestCase, TestCase

from mapiproxy.dcerpc.sending import DirectWriter, noDelay


class _Accepted(Protocol):
    def connectionMade(self):
        self.factory.accepted.callback(self)


class _Factory(ServerFactory):
    protocol = _Accepted

    def __init__(self):
        self.accepted = Deferred()


class InMemoryTests(SynchronousTestCase):
    def test_plainTransport(self):
        """
        A transport without a socket gets every write through C{write}.
        """
        transport = StringTransport()
        writer = DirectWriter(transport)
        writer.write(b"abc")
        writer.write(b"def")
        self.assertEqual(transport.value(), b"abcdef")
        self.assertFalse(writer.buffering)

    def test_noDelayWithoutTCP(self):
        """
        noDelay leaves a transport without TCP options alone.
        """
        noDelay(object())


class SocketTests(TestCase):
    timeout = 60

    @inlineCallbacks
    def setUp(self):
        factory = _Factory()
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        self.peer = socket.socket()
        self.peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.peer.connect(("127.0.0.1", port.getHost().port))
        self.addCleanup(self.peer.close)
        self.proto = yield factory.accepted
        self.addCleanup(self.proto.transport.abortConnection)
        self.writer = DirectWriter(self.proto.transport)

    def test_sentAtOnce(self):
        """
        A write is on the wire before the reactor runs again.
        """
        self.writer.write(b"hello")
        self.peer.settimeout(5)
        self.assertEqual(self.peer.recv(100), b"hello")
        self.assertFalse(self.writer.buffering)

    def test_noDelay(self):
        """
        noDelay sets TCP_NODELAY on the socket.
        """
        sock = self.proto.transport.getHandle()
        self.assertEqual(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), 0)
        noDelay(self.proto.transport)
        self.assertNotEqual(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), 0)

    @inlineCallbacks
    def test_fullSocketKeepsOrder(self):
        """
        When the socket takes only part of a write, the rest and every later
        write queue in the transport, in order; once it has drained, writes
        go out directly again.
        """
        chunks = [bytes([i]) * (1 << 20) for i in range(1, 9)]
        for chunk in chunks:
            self.writer.write(chunk)
        self.assertTrue(self.writer.buffering)
        expected = b"".join(chunks)

        def readAll():
            self.peer.settimeout(30)
            got = bytearray()
            while len(got) < len(expected):
                data = self.peer.recv(1 << 16)
                if not data:
                    break
                got += data
            return bytes(got)

        got = yield deferToThread(readAll)
        self.assertEqual(len(got), len(expected))
        self.assertTrue(got == expected, "bytes reordered or lost")
        for _ in range(100):
            if not self.writer.buffering:
                break
            d = Deferred()
            reactor.callLater(0.01, d.callback, None)
            yield d
        self.assertFalse(self.writer.buffering)
        self.writer.write(b"direct again")
        self.peer.settimeout(5)
        self.assertEqual(self.peer.recv(100), b"direct again")

    @inlineCallbacks
    def test_closing(self):
        """
        After loseConnection, writes go to the transport, which sends what
        it holds and closes.
        """
        self.writer.write(b"before")
        self.proto.transport.loseConnection()
        self.writer.write(b"after")

        def readAll():
            self.peer.settimeout(10)
            got = b""
            while True:
                data = self.peer.recv(100)
                if not data:
                    return got
                got += data

        got = yield deferToThread(readAll)
        self.assertEqual(got, b"beforeafter")
