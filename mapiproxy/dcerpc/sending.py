# -*- test-case-name: tests.dcerpc.test_sending -*-
"""
Sending a PDU the moment it is ready.

Twisted's socket transports buffer every C{write} until the reactor's next
turn reports the socket writable: one more trip through the event loop,
and two more C{epoll_ctl} calls, for every write. A relay writes once per
read on each leg, so that cost comes twice per relayed call.
L{DirectWriter} sends at once on the transport's socket while nothing of
ours waits in the transport's buffer, and hands over to the transport's
own buffering (and back) when the socket does not take everything, so
that bytes never overtake each other. Only public Twisted interfaces are
used: L{ISystemHandle.getHandle} for the socket, and the transport as an
L{IConsumer} of a pull producer to learn when its buffer has drained.
"""

from twisted.internet.abstract import FileDescriptor
from twisted.internet.interfaces import IPullProducer, ISystemHandle
from zope.interface import implementer


@implementer(IPullProducer)
class DirectWriter:
    """
    Writes to one transport, straight to its socket when it can.

    On anything but a socket-backed Twisted transport (TLS, in-memory
    transports in tests) every write goes to C{transport.write}.

    @ivar buffering: whether the transport holds bytes of ours, so that
        the next write must queue behind them.
    """

    def __init__(self, transport):
        self._transport = transport
        self._socket = None
        if isinstance(transport, FileDescriptor) and ISystemHandle.providedBy(transport):
            handle = transport.getHandle()
            if hasattr(handle, "send"):
                self._socket = handle
        self.buffering = False
        self._registering = False

    def write(self, data):
        """
        Send C{data} now, or queue it behind what the transport holds.
        """
        transport = self._transport
        if self.buffering or self._socket is None or not transport.connected or transport.disconnecting:
            transport.write(data)
            return
        try:
            sent = self._socket.send(data)
        except BlockingIOError:
            sent = 0
        except OSError:
            # The transport meets the same error on its next send and
            # closes the connection as it always does.
            transport.write(data)
            return
        if sent < len(data):
            transport.write(data[sent:])
            self._startBuffering()

    def _startBuffering(self):
        """
        Let the transport send the rest; it calls L{resumeProducing} when
        its buffer is empty again.
        """
        self.buffering = True
        self._registering = True
        try:
            self._transport.registerProducer(self, False)
        finally:
            self._registering = False

    def resumeProducing(self):
        """
        The transport's buffer is empty: send directly again.
        """
        if self._registering:
            # registerProducer's first call, before anything was sent.
            return
        self.buffering = False
        self._transport.unregisterProducer()

    def stopProducing(self):
        """
        The connection is gone: whatever comes now goes to the transport,
        which drops it.
        """
        self.buffering = True


def noDelay(transport):
    """
    Turn Nagle's algorithm off on a TCP transport (as Samba does): each
    write is a whole request or answer, and nothing is gained by holding
    its last segment back until the peer acknowledges the previous one.
    """
    setTcpNoDelay = getattr(transport, "setTcpNoDelay", None)
    if setTcpNoDelay is not None:
        try:
            setTcpNoDelay(True)
        except OSError:
            pass
