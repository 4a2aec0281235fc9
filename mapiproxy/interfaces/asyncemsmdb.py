# -*- test-case-name: tests.interfaces.test_emsmdb -*-
"""
Stub codec of AsyncEMSMDB (C{exchange_async_emsmdb},
5261574a-4572-206e-b268-6b199213b4e4 v0.1), the notification-wait
interface of [MS-OXCRPC] 3.3.4. Its one operation, EcDoAsyncWaitEx, stays
pending on the server until a notification arrives for the session.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass

from mapiproxy.interfaces.base import InterfaceCodec, Operation, Stub
from mapiproxy.interfaces.ndr import ContextHandle

__all__ = [
    "NOTIFICATION_PENDING",
    "EcDoAsyncWaitExRequest",
    "EcDoAsyncWaitExResponse",
    "ASYNC_EMSMDB",
]

#: C{pulFlagsOut} of EcDoAsyncWaitEx: the session has a notification
#: waiting; the client should call EcDoRpcExt2 ([MS-OXCRPC] 3.3.4.1).
NOTIFICATION_PENDING = 0x00000001


@dataclass
class EcDoAsyncWaitExRequest(Stub):
    """
    EcDoAsyncWaitEx [in] ([MS-OXCRPC] 3.3.4.1).

    @ivar async_handle: the asynchronous context handle (ACXH) that
        EcDoAsyncConnectEx returned.
    @type async_handle: L{ContextHandle}
    @ivar ulFlagsIn: reserved, 0.
    @type ulFlagsIn: L{int}
    """

    async_handle: ContextHandle = ContextHandle()
    ulFlagsIn: int = 0

    @classmethod
    def _read(cls, r):
        return cls(r.contextHandle(), r.u32())

    def _write(self, w):
        w.contextHandle(self.async_handle)
        w.u32(self.ulFlagsIn)


@dataclass
class EcDoAsyncWaitExResponse(Stub):
    """
    EcDoAsyncWaitEx [out].

    @ivar pulFlagsOut: L{NOTIFICATION_PENDING} or 0.
    @type pulFlagsOut: L{int}
    @ivar result: the return value (u32).
    @type result: L{int}
    """

    pulFlagsOut: int = 0
    result: int = 0

    @classmethod
    def _read(cls, r):
        return cls(r.u32(), r.u32())

    def _write(self, w):
        w.u32(self.pulFlagsOut)
        w.u32(self.result)


#: The AsyncEMSMDB codec.
ASYNC_EMSMDB = InterfaceCodec(
    "exchange_async_emsmdb",
    [Operation(0, "EcDoAsyncWaitEx", EcDoAsyncWaitExRequest, EcDoAsyncWaitExResponse)],
)
