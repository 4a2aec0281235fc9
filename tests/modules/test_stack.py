"""
The module stack through a real relay: order, endpoint filtering, Deferred
hooks, local answers, failures as faults for one call, unbind once.
"""

import struct

from twisted.internet import reactor
from twisted.internet.defer import inlineCallbacks
from twisted.internet.task import deferLater
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault
from mapiproxy.imapiproxy import IModule
from mapiproxy.modules import LocalReply
from mapiproxy.modules.base import Module
from mapiproxy.service import MapiProxyService
from tests.relaysupport import EchoUpstream, proxyConfig
from tests.test_relay import connectClient


class Recorder(Module):
    """
    Appends (name, hook, opnum) to a shared list; optionally slow (a
    Deferred), failing, or answering locally.
    """

    def __init__(self, name, seen, endpoint="any", slow=False, failOn=None, answer=None):
        self.name = name
        self.seen = seen
        self.endpoint = endpoint
        self.slow = slow
        self.failOn = failOn
        self.answer = answer

    def _hook(self, hook, call):
        self.seen.append((self.name, hook, call.opnum))
        if self.failOn == (hook, call.opnum):
            raise RuntimeError("boom")
        if self.slow:
            return deferLater(reactor, 0.01, lambda: None)

    def rawRequest(self, call):
        return self._hook("rawRequest", call)

    def request(self, call):
        return self._hook("request", call)

    def dispatch(self, call):
        result = self._hook("dispatch", call)
        if self.answer is not None and call.opnum == 0:
            return LocalReply(stub=self.answer)
        return result

    def response(self, call):
        return self._hook("response", call)

    def unbind(self, session):
        self.seen.append((self.name, "unbind", session.contextId))


class StackTests(TestCase):
    """
    Modules around the echo relay.
    """

    timeout = 60

    def _start(self, modules):
        self.upstream = EchoUpstream(self)
        config = proxyConfig(self, "ncacn_ip_tcp:127.0.0.1[%d,seal]" % (self.upstream.port,))
        service = MapiProxyService(config, reactor)
        for interface in service.interfaces:
            interface.modules = [m for m in modules if m.endpoint in ("any", interface.name)]
        service.startService()
        self.addCleanup(service.stopService)
        return service

    @inlineCallbacks
    def test_orderAndEndpoints(self):
        """
        Hooks run in config order for requests and responses alike; a module
        for another endpoint never runs; Deferred hooks are waited for.
        """
        seen = []
        modules = [Recorder("a", seen, slow=True), Recorder("b", seen, endpoint="exchange_nsp"), Recorder("c", seen)]
        for m in modules:
            verifyObject(IModule, m)
        service = self._start(modules)
        proto = yield connectClient(service)
        answer = yield proto.call(0, struct.pack("<I", 1))
        self.assertEqual(answer, struct.pack("<I", 2))
        self.assertEqual(
            seen,
            [(n, h, 0) for h in ("rawRequest", "request", "dispatch", "response") for n in ("a", "c")],
        )
        proto.disconnect()
        yield deferLater(reactor, 0.2, lambda: None)
        self.assertEqual([s for s in seen if s[1] == "unbind"], [("a", "unbind", 0), ("c", "unbind", 0)])

    @inlineCallbacks
    def test_localAnswer(self):
        """
        A LocalReply answers without relaying; the response hooks still run.
        """
        seen = []
        service = self._start([Recorder("a", seen, answer=struct.pack("<I", 99)), Recorder("b", seen)])
        proto = yield connectClient(service)
        self.addCleanup(proto.disconnect)
        answer = yield proto.call(0, struct.pack("<I", 1))
        self.assertEqual(answer, struct.pack("<I", 99))
        self.assertEqual(self.upstream.echo.calls, [])
        self.assertIn(("b", "dispatch", 0), seen)
        self.assertIn(("b", "response", 0), seen)

    @inlineCallbacks
    def test_failureFaultsOneCall(self):
        """
        A hook that raises faults that call only, logged once; the next
        call goes through.
        """
        seen = []
        service = self._start([Recorder("a", seen, failOn=("request", 0))])
        proto = yield connectClient(service)
        self.addCleanup(proto.disconnect)
        fault = yield self.assertFailure(proto.call(0, struct.pack("<I", 1)), DCERPCFault)
        self.assertEqual(fault.status, Status.NCA_S_FAULT_UNSPEC)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)
        answer = yield proto.call(1, struct.pack("<II", 2, 2) + b"hi")
        self.assertEqual(answer, struct.pack("<I", 2) + b"hi")
        self.assertEqual([op for op, size in self.upstream.echo.calls], [1])
