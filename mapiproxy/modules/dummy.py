# -*- test-case-name: tests.modules.test_builtin -*-
"""
C{dummy}: the example module (OpenChange's C{mpm_dummy}), logging each
call it sees.
"""

from twisted.logger import Logger

from mapiproxy.modules.base import Module


class DummyModule(Module):
    """
    Logs every hook; C{mpm_dummy:test} is logged at start-up.
    """

    name = "dummy"
    description = "dummy MAPIPROXY module"
    endpoint = "exchange_emsmdb"
    _log = Logger(namespace="mapiproxy.modules.dummy")

    def startModule(self, options):
        test = options.getString("test", None)
        if test is not None:
            self._log.info("mpm_dummy: test = {test}", test=test)

    def _seen(self, hook, call):
        self._log.info(
            "mpm_dummy: {hook} {interface} {operation} (call {callId})",
            hook=hook,
            interface=call.interfaceName,
            operation=call.opnumName,
            callId=call.call.callId,
        )

    def rawRequest(self, call):
        self._seen("ndr_pull", call)

    def request(self, call):
        self._seen("pull", call)

    def dispatch(self, call):
        self._seen("dispatch", call)

    def response(self, call):
        self._seen("push", call)

    def unbind(self, session):
        self._log.info("mpm_dummy: unbind context {contextId}", contextId=session.contextId)
