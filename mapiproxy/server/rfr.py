# -*- test-case-name: tests.server.test_rfr -*-
"""
The lab Exchange's referral server: C{exchange_ds_rfr} ([MS-OXABREF]),
which tells a client the NSPI server to use (RfrGetNewDSA) and the DNS name
of its mailbox server (RfrGetFQDNFromServerDN). Both are this server.
"""

from twisted.logger import Logger
from zope.interface import implementer

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault, NDRError
from mapiproxy.imapiproxy import IRPCInterface
from mapiproxy.interfaces import rfr as R
from mapiproxy.interfaces.registry import lookupByName
from mapiproxy.server.directory import ErrorCode

__all__ = ["RfrServer"]


@implementer(IRPCInterface)
class RfrServer:
    """
    C{exchange_ds_rfr} for one organisation.

    @ivar serverDN: the legacy DN of the mailbox server.
    @ivar serverFQDN: the DNS name both calls answer.
    """

    name = "exchange_ds_rfr"
    requireAuthentication = True
    _log = Logger()

    def __init__(self, serverDN, serverFQDN):
        """
        @param serverDN: the server's legacy DN
            (L{mapiproxy.server.store.Organization.serverDN}).
        @param serverFQDN: the name to answer.
        """
        self.serverDN = serverDN
        self.serverFQDN = serverFQDN
        self.syntax = lookupByName(self.name).syntaxId

    @classmethod
    def fromDirectory(cls, directory):
        """
        The referral server of a L{mapiproxy.server.directory.Directory}.

        @rtype: L{RfrServer}
        """
        return cls(directory.organization.serverDN, directory.serverFQDN)

    def contextBound(self, session):
        """
        RFR keeps no per-client state.
        """
        return None

    def contextReleased(self, session):
        """
        RFR keeps no per-client state.
        """
        return None

    def handleCall(self, call):
        """
        Decode, answer, encode.

        @raise DCERPCFault: C{nca_s_op_rng_error} for an opnum past 1,
            C{nca_s_fault_ndr} for a stub that does not decode.
        """
        operation = R.RFR.operation(call.opnum)
        try:
            request = operation.request.decode(call.stub)
        except NDRError as e:
            raise DCERPCFault(Status.FAULT_NDR, "%s: %s" % (operation.name, e)) from None
        return getattr(self, "rfr_" + operation.name[len("Rfr"):])(request).encode()

    def rfr_GetNewDSA(self, request):
        """
        RfrGetNewDSA ([MS-OXABREF] 3.1.4.1): the NSPI server is this one.
        The two C{[in, out, unique]} pointers keep the presence the client
        gave them; C{ppszUnused} comes back NULL. Without a C{ppszServer}
        to fill in, the answer is C{InvalidParameter}.
        """
        if not request.ppszServerPresent:
            return R.RfrGetNewDSAResponse(
                ppszUnused=None,
                ppszUnusedPresent=request.ppszUnusedPresent,
                ppszServer=None,
                ppszServerPresent=False,
                result=ErrorCode.InvalidParameter,
            )
        return R.RfrGetNewDSAResponse(
            ppszUnused=None,
            ppszUnusedPresent=request.ppszUnusedPresent,
            ppszServer=self.serverFQDN,
            ppszServerPresent=True,
            result=ErrorCode.Success,
        )

    def rfr_GetFQDNFromServerDN(self, request):
        """
        RfrGetFQDNFromServerDN ([MS-OXABREF] 3.1.4.2): the FQDN for the DN
        of this server or of a database on it (case-insensitive);
        C{NotFound} and a NULL name for any other DN.
        """
        dn = request.szMailboxServerDN.strip().rstrip("/").lower()
        ours = self.serverDN.lower()
        if dn == ours or dn.startswith(ours + "/cn="):
            return R.RfrGetFQDNFromServerDNResponse(ppszServerFQDN=self.serverFQDN, result=ErrorCode.Success)
        self._log.debug("RfrGetFQDNFromServerDN: unknown server {dn!r}", dn=request.szMailboxServerDN)
        return R.RfrGetFQDNFromServerDNResponse(ppszServerFQDN=None, result=ErrorCode.NotFound)
