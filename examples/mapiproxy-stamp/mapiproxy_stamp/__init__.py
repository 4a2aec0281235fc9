"""
The C{stamp} module: prefixes every display name in NSPI answers (the
address book Outlook shows) with C{mpm_stamp:prefix}, so that a user can
see at a glance that the proxy is in the path.
"""

from twisted.logger import Logger
from twisted.plugin import IPlugin
from zope.interface import implementer

from mapiproxy.imapiproxy import IModuleFactory
from mapiproxy.modules.base import Module

PR_DISPLAY_NAME = 0x3001001E


class StampModule(Module):
    """
    On exchange_nsp: NspiGetProps and NspiQueryRows replies get their
    PR_DISPLAY_NAME (8-bit or Unicode) prefixed.
    """

    name = "stamp"
    description = "Stamp address book display names"
    endpoint = "exchange_nsp"
    _log = Logger()

    def startModule(self, options):
        self.prefix = options.getString("prefix", "[mapiproxy] ")
        self._log.info("mpm_stamp: prefix {prefix!r}", prefix=self.prefix)

    def response(self, call):
        if call.opnum not in (3, 9) or call.response.ppRows is None:
            return
        from mapiproxy.interfaces.nspi_types import rewriteStrings

        count = rewriteStrings(call.response.ppRows, PR_DISPLAY_NAME, self._stamp)
        if count:
            call.responseChanged()

    def _stamp(self, name):
        return name if name.startswith(self.prefix) else self.prefix + name


@implementer(IPlugin, IModuleFactory)
class StampFactory:
    """
    The plugin that makes L{StampModule}s.
    """

    name = "stamp"
    description = StampModule.description

    def makeModule(self):
        return StampModule()
