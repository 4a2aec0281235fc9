# -*- test-case-name: tests.modules.test_stack -*-
"""
A base class for modules: every hook does nothing.
"""

from zope.interface import implementer

from mapiproxy.imapiproxy import IModule


@implementer(IModule)
class Module:
    """
    Subclass and override the hooks you need.
    """

    name = "module"
    description = ""
    endpoint = "exchange_emsmdb"

    def startModule(self, options):
        return None

    def rawRequest(self, call):
        return None

    def request(self, call):
        return None

    def dispatch(self, call):
        return None

    def response(self, call):
        return None

    def unbind(self, session):
        return None
