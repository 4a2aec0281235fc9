# -*- test-case-name: tests.modules.test_builtin -*-
"""
C{downgrade} (OpenChange's C{mpm_downgrade}): make Outlook fall back from
EcDoConnectEx/EcDoRpcExt2 to EcDoConnect/EcDoRpc.
"""

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault
from mapiproxy.modules.base import Module

ECDOCONNECT = 0x0
ECDOCONNECTEX = 0xA
#: The server version an Exchange 2000 server answers: the client then does
#: not retry EcDoConnectEx.
EXCHANGE_2000 = (0x0006, 0x1141, 0x0005)


class DowngradeModule(Module):
    """
    EcDoConnectEx is answered with nca_op_rng_error and never relayed;
    EcDoConnect's reply claims server version 6.0x1141.5.
    """

    name = "downgrade"
    description = "Downgrade EMSMDB protocol version EcDoConnect/EcDoRpc"
    endpoint = "exchange_emsmdb"

    def dispatch(self, call):
        if call.opnum == ECDOCONNECTEX:
            raise DCERPCFault(Status.NCA_S_OP_RNG_ERROR, "downgrade: EcDoConnectEx refused")
        return None

    def response(self, call):
        if call.opnum == ECDOCONNECT:
            call.response.rgwServerVersion = EXCHANGE_2000
            call.responseChanged()
