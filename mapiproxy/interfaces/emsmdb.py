# -*- test-case-name: tests.interfaces.test_emsmdb -*-
"""
Stub codec of EMSMDB (C{exchange_emsmdb}, a4f1db00-ca47-1067-b31f-00dd010662da
v0.81), the Exchange mailbox RPC interface of [MS-OXCRPC] 3.1.4.

Every one of the 15 opnums has a request and a response class; the five
placeholders (EcGetMoreRpc 3, EcRGetDCName 7, EcRNetGetDCName 8,
EcUnknown0xC, EcUnknown0xD) use L{OpaqueRequest}/L{OpaqueResponse}.
Parameter layouts are those of the [MS-OXCRPC] 6 IDL where it documents
the opnum (1, 4, 6, 10, 11, 14) and of OpenChange's C{exchange.idl} and
C{ndr_mapi.c} for the ones Microsoft reserved (0, 2, 5, 9); the encodings
match the ones grommunio's C{exch/emsmdb/emsmdb_ndr.cpp} sends to Outlook.

The payload buffers (C{rgbIn}, C{rgbOut}, C{rgbAuxIn}, C{rgbAuxOut}, the
XOR-obfuscated EcDoRpc blob) stay L{bytes} here: their framing
(RPC_HEADER_EXT, LZ77, XOR 0xA5, ROPs) is L{mapiproxy.mapi}'s business.
They are sliced in one piece, never byte by byte.

An array's length parameter that the IDL ties to it with C{size_is} (e.g.
C{cbIn} of C{rgbIn}) is checked on decode and is a read-only property
computed from the array afterwards, so that changing the array keeps the
stub consistent. IDL C{range()} limits are enforced on decode: C{cbIn},
C{pcbOut} up to L{BIG_RANGE}, the aux buffers up to L{SMALL_RANGE}.

Sans-I/O; no Twisted.
"""

from dataclasses import dataclass, field
from typing import Optional, Tuple

from mapiproxy.errors import NDRError
from mapiproxy.interfaces.base import (
    InterfaceCodec,
    OpaqueRequest,
    OpaqueResponse,
    Operation,
    Stub,
)
from mapiproxy.interfaces.ndr import NULL_REFERENT, ContextHandle, checkRange

__all__ = [
    "BIG_RANGE",
    "SMALL_RANGE",
    "NO_COMPRESSION",
    "NO_XOR_MAGIC",
    "CHAIN",
    "EcDoConnectRequest",
    "EcDoConnectResponse",
    "EcDoDisconnectRequest",
    "EcDoDisconnectResponse",
    "EcDoRpcRequest",
    "EcDoRpcResponse",
    "EcRRegisterPushNotificationRequest",
    "EcRRegisterPushNotificationResponse",
    "EcRUnregisterPushNotificationRequest",
    "EcRUnregisterPushNotificationResponse",
    "EcDummyRpcRequest",
    "EcDummyRpcResponse",
    "EcDoRpcExtRequest",
    "EcDoRpcExtResponse",
    "EcDoConnectExRequest",
    "EcDoConnectExResponse",
    "EcDoRpcExt2Request",
    "EcDoRpcExt2Response",
    "EcDoAsyncConnectExRequest",
    "EcDoAsyncConnectExResponse",
    "EMSMDB",
]

#: The IDL C{range(0x0, 0x40000)} of C{cbIn}/C{pcbOut} ([MS-OXCRPC] 3.1.4.2).
BIG_RANGE = 0x40000
#: The IDL C{range(0x0, 0x1008)} of C{cbAuxIn}/C{pcbAuxOut}
#: ([MS-OXCRPC] 3.1.4.1, 3.1.4.2).
SMALL_RANGE = 0x1008

#: C{pulFlags} of EcDoRpcExt2 ([MS-OXCRPC] 3.1.4.2): do not compress
#: C{rgbOut}.
NO_COMPRESSION = 0x00000001
#: Do not XOR-obfuscate C{rgbOut}.
NO_XOR_MAGIC = 0x00000002
#: The client accepts several chained RPC_HEADER_EXT in C{rgbOut}.
CHAIN = 0x00000004

_NULL_HANDLE = ContextHandle()
_VERSION = (0, 0, 0)


def _readVersion(reader):
    # uint16 rgwXxxVersion[3]: a fixed array, [C706] 14.3.3.1.
    return reader.u16Array(3)


def _writeVersion(writer, name, value):
    if len(value) != 3:
        raise NDRError("%s must have 3 elements, not %d" % (name, len(value)))
    writer.u16Array(value)


def _readStringPointer(reader, name):
    """
    Read an C{[out, string] uint8 **}: a top-level C{[ref]} pointer (no wire
    form) to a C{[unique]} pointer (a referent id) to a conformant varying
    string.

    @return: C{(text or None, referent id)}.
    """
    referent = reader.pointer()
    if referent == NULL_REFERENT:
        return None, NULL_REFERENT
    return reader.string(name=name), referent


def _writeStringPointer(writer, text, referent):
    if text is None:
        writer.pointer(NULL_REFERENT)
        return
    writer.pointer(referent or writer.nextReferentId())
    writer.string(text)


def _readSizedArray(reader, name, sizeName, limit):
    """
    Read a C{[in, size_is(cb)] uint8 rgb[]} and the u32 C{cb} that follows
    it; they must agree and fit C{range(0, limit)}.
    """
    data = reader.conformantArray(limit, name=name)
    size = reader.u32()
    if size != len(data):
        raise NDRError(
            "%s = %d but %s's max_count is %d" % (sizeName, size, name, len(data))
        )
    return data


def _readOutArray(reader, name, limit):
    """
    Read a C{[out, length_is(*pcb), size_is(*pcb)] uint8 rgb[]} and the u32
    C{*pcb} that follows it; max_count, actual_count and C{*pcb} must agree
    and fit C{range(0, limit)}.
    """
    maxCount, data = reader.conformantVaryingArray(limit, name=name)
    if maxCount != len(data):
        raise NDRError("%s max_count %d != actual_count %d" % (name, maxCount, len(data)))
    size = reader.u32()
    if size != len(data):
        raise NDRError("*pcb of %s = %d but the array has %d bytes" % (name, size, len(data)))
    return data


def _writeOutArray(writer, name, data, limit):
    if len(data) > limit:
        raise NDRError("%s of %d bytes exceeds the IDL range 0x%x" % (name, len(data), limit))
    writer.conformantVaryingArray(data)
    writer.u32(len(data))


# -- EcDoConnect (opnum 0) -----------------------------------------------------


@dataclass
class EcDoConnectRequest(Stub):
    """
    EcDoConnect [in] (opnum 0, [MS-OXCRPC] 3.1.4 "Opnum0Reserved"; layout of
    OpenChange C{exchange.idl}): the Exchange 2003 logon.

    @ivar szUserDN: the user's legacy DN.
    @ivar rgwClientVersion: the client version, three u16.
    @ivar pullTimeStamp: the [in,out] timestamp.
    """

    szUserDN: str = ""
    ulFlags: int = 0
    ulConMod: int = 0
    cbLimit: int = 0
    ulCpid: int = 0
    ulLcidString: int = 0
    ulLcidSort: int = 0
    ulIcxrLink: int = 0
    usFCanConvertCodePages: int = 0
    rgwClientVersion: Tuple[int, int, int] = _VERSION
    pullTimeStamp: int = 0

    @classmethod
    def _read(cls, r):
        return cls(
            r.string(name="szUserDN"),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u16(),
            _readVersion(r),
            r.u32(),
        )

    def _write(self, w):
        w.string(self.szUserDN)
        for value in (
            self.ulFlags,
            self.ulConMod,
            self.cbLimit,
            self.ulCpid,
            self.ulLcidString,
            self.ulLcidSort,
            self.ulIcxrLink,
        ):
            w.u32(value)
        w.u16(self.usFCanConvertCodePages)
        _writeVersion(w, "rgwClientVersion", self.rgwClientVersion)
        w.u32(self.pullTimeStamp)


@dataclass
class EcDoConnectResponse(Stub):
    """
    EcDoConnect [out] (opnum 0).

    @ivar handle: the new session context handle (CXH).
    @ivar picxr: the session index; OpenChange declares it u32 (Microsoft's
        u16 plus the zero pad before the next pointer takes the same bytes).
    @ivar szDNPrefix: the server's DN prefix, or L{None} for a NULL pointer.
    @ivar szDisplayName: the user's display name, or L{None}.
    @ivar rgwClientVersion: OpenChange's [in,out] client version (Microsoft
        names this output C{rgwBestVersion}).
    @ivar szDNPrefixReferent: the referent id the pointer had on the wire
        (re-sent on encode; 0 picks a fresh one).
    @ivar szDisplayNameReferent: likewise.
    """

    handle: ContextHandle = _NULL_HANDLE
    pcmsPollsMax: int = 0
    pcRetry: int = 0
    pcmsRetryDelay: int = 0
    picxr: int = 0
    szDNPrefix: Optional[str] = None
    szDisplayName: Optional[str] = None
    rgwServerVersion: Tuple[int, int, int] = _VERSION
    rgwClientVersion: Tuple[int, int, int] = _VERSION
    pullTimeStamp: int = 0
    result: int = 0
    szDNPrefixReferent: int = field(default=0, compare=False, repr=False)
    szDisplayNameReferent: int = field(default=0, compare=False, repr=False)

    @classmethod
    def _read(cls, r):
        handle = r.contextHandle()
        polls, retry, delay, icxr = r.u32(), r.u32(), r.u32(), r.u32()
        prefix, prefixRef = _readStringPointer(r, "szDNPrefix")
        name, nameRef = _readStringPointer(r, "szDisplayName")
        return cls(
            handle,
            polls,
            retry,
            delay,
            icxr,
            prefix,
            name,
            _readVersion(r),
            _readVersion(r),
            r.u32(),
            r.u32(),
            prefixRef,
            nameRef,
        )

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.pcmsPollsMax)
        w.u32(self.pcRetry)
        w.u32(self.pcmsRetryDelay)
        w.u32(self.picxr)
        _writeStringPointer(w, self.szDNPrefix, self.szDNPrefixReferent)
        _writeStringPointer(w, self.szDisplayName, self.szDisplayNameReferent)
        _writeVersion(w, "rgwServerVersion", self.rgwServerVersion)
        _writeVersion(w, "rgwClientVersion", self.rgwClientVersion)
        w.u32(self.pullTimeStamp)
        w.u32(self.result)


# -- EcDoDisconnect (opnum 1) --------------------------------------------------


@dataclass
class _HandleOnly(Stub):
    # A stub made of one context handle.
    handle: ContextHandle = _NULL_HANDLE

    @classmethod
    def _read(cls, r):
        return cls(r.contextHandle())

    def _write(self, w):
        w.contextHandle(self.handle)


@dataclass
class _HandleAndResult(Stub):
    # A stub made of one context handle and a MAPISTATUS.
    handle: ContextHandle = _NULL_HANDLE
    result: int = 0

    @classmethod
    def _read(cls, r):
        return cls(r.contextHandle(), r.u32())

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.result)


@dataclass
class EcDoDisconnectRequest(_HandleOnly):
    """
    EcDoDisconnect [in] ([MS-OXCRPC] 3.1.4.3).

    @ivar handle: the session context handle (CXH) to close.
    """


@dataclass
class EcDoDisconnectResponse(_HandleAndResult):
    """
    EcDoDisconnect [out]: the handle, all zeros once closed, and the result.
    """


# -- EcDoRpc (opnum 2) ---------------------------------------------------------


@dataclass
class EcDoRpcRequest(Stub):
    """
    EcDoRpc [in] (opnum 2, "Opnum2Reserved"; OpenChange C{ndr_pull_EcDoRpc}):
    C{size} and C{offset} are followed by a u32 byte count and the
    XOR-0xA5-obfuscated ROP request blob, kept here as it is on the wire.
    (OpenChange's custom NDR does not tie C{size} to the blob length, so
    neither do we.)

    @ivar mapi_request: the obfuscated blob (see
        L{mapiproxy.mapi.extbuf.decodeEcDoRpcBlob}).
    @ivar length: the [in,out] ROP buffer size (RopSize).
    @ivar max_data: the largest response the client accepts.
    """

    handle: ContextHandle = _NULL_HANDLE
    size: int = 0
    offset: int = 0
    mapi_request: bytes = b""
    length: int = 0
    max_data: int = 0

    @classmethod
    def _read(cls, r):
        handle, size, offset = r.contextHandle(), r.u32(), r.u32()
        blob = r.raw(r.u32())
        return cls(handle, size, offset, blob, r.u16(), r.u16())

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.size)
        w.u32(self.offset)
        w.u32(len(self.mapi_request))
        w.raw(self.mapi_request)
        w.u16(self.length)
        w.u16(self.max_data)


@dataclass
class EcDoRpcResponse(Stub):
    """
    EcDoRpc [out]: the handle, C{size}, C{offset}, the obfuscated ROP
    response blob, C{length} and the result.
    """

    handle: ContextHandle = _NULL_HANDLE
    size: int = 0
    offset: int = 0
    mapi_response: bytes = b""
    length: int = 0
    result: int = 0

    @classmethod
    def _read(cls, r):
        handle, size, offset = r.contextHandle(), r.u32(), r.u32()
        blob = r.raw(r.u32())
        return cls(handle, size, offset, blob, r.u16(), r.u32())

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.size)
        w.u32(self.offset)
        w.u32(len(self.mapi_response))
        w.raw(self.mapi_response)
        w.u16(self.length)
        w.u32(self.result)


# -- EcRRegisterPushNotification (opnum 4) -------------------------------------


@dataclass
class EcRRegisterPushNotificationRequest(Stub):
    """
    EcRRegisterPushNotification [in] ([MS-OXCRPC] 3.1.4.5).

    @ivar rgbContext: the opaque context sent back with each notification
        (C{cbContext}, a u16, is its length).
    @ivar rgbCallbackAddress: a SOCKADDR where UDP notifications go
        (C{cbCallbackAddress}, a u16, is its length).
    """

    handle: ContextHandle = _NULL_HANDLE
    iRpc: int = 0
    rgbContext: bytes = b""
    grbitAdviseBits: int = 0
    rgbCallbackAddress: bytes = b""

    @property
    def cbContext(self):
        """
        The length of L{rgbContext}.

        @rtype: L{int}
        """
        return len(self.rgbContext)

    @property
    def cbCallbackAddress(self):
        """
        The length of L{rgbCallbackAddress}.

        @rtype: L{int}
        """
        return len(self.rgbCallbackAddress)

    @classmethod
    def _read(cls, r):
        handle, iRpc = r.contextHandle(), r.u32()
        context = r.conformantArray(0xFFFF, name="rgbContext")
        if r.u16() != len(context):
            raise NDRError("cbContext disagrees with rgbContext's max_count")
        bits = r.u32()
        address = r.conformantArray(0xFFFF, name="rgbCallbackAddress")
        if r.u16() != len(address):
            raise NDRError("cbCallbackAddress disagrees with rgbCallbackAddress's max_count")
        return cls(handle, iRpc, context, bits, address)

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.iRpc)
        w.conformantArray(self.rgbContext)
        w.u16(len(self.rgbContext))
        w.u32(self.grbitAdviseBits)
        w.conformantArray(self.rgbCallbackAddress)
        w.u16(len(self.rgbCallbackAddress))


@dataclass
class EcRRegisterPushNotificationResponse(Stub):
    """
    EcRRegisterPushNotification [out]: the handle, the notification handle
    and the result.
    """

    handle: ContextHandle = _NULL_HANDLE
    hNotification: int = 0
    result: int = 0

    @classmethod
    def _read(cls, r):
        return cls(r.contextHandle(), r.u32(), r.u32())

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.hNotification)
        w.u32(self.result)


# -- EcRUnregisterPushNotification (opnum 5) -----------------------------------


@dataclass
class EcRUnregisterPushNotificationRequest(Stub):
    """
    EcRUnregisterPushNotification [in] (opnum 5, reserved by Microsoft;
    OpenChange's guess of two u32).
    """

    handle: ContextHandle = _NULL_HANDLE
    unknown: Tuple[int, int] = (0, 0)

    @classmethod
    def _read(cls, r):
        return cls(r.contextHandle(), r.u32Array(2))

    def _write(self, w):
        w.contextHandle(self.handle)
        if len(self.unknown) != 2:
            raise NDRError("unknown must have 2 elements, not %d" % (len(self.unknown),))
        w.u32Array(self.unknown)


@dataclass
class EcRUnregisterPushNotificationResponse(_HandleAndResult):
    """
    EcRUnregisterPushNotification [out]: the handle and the result.
    """


# -- EcDummyRpc (opnum 6) ------------------------------------------------------


@dataclass
class EcDummyRpcRequest(Stub):
    """
    EcDummyRpc [in] ([MS-OXCRPC] 3.1.4.6): no parameters, an empty stub.
    """

    @classmethod
    def _read(cls, r):
        return cls()

    def _write(self, w):
        pass


@dataclass
class EcDummyRpcResponse(Stub):
    """
    EcDummyRpc [out]: the result only.
    """

    result: int = 0

    @classmethod
    def _read(cls, r):
        return cls(r.u32())

    def _write(self, w):
        w.u32(self.result)


# -- EcDoRpcExt (opnum 9) ------------------------------------------------------


@dataclass
class EcDoRpcExtRequest(Stub):
    """
    EcDoRpcExt [in] (opnum 9, reserved by Microsoft; OpenChange
    C{exchange.idl}).

    @ivar rgbIn: the request buffer (C{cbIn} is its length).
    @ivar pcbOut: the largest C{rgbOut} the client accepts.
    @ivar Reserved0: the [in,out] reserved array (C{Reserved1} is its
        length).
    """

    handle: ContextHandle = _NULL_HANDLE
    pulFlags: int = 0
    rgbIn: bytes = b""
    pcbOut: int = 0
    Reserved0: bytes = b""

    @property
    def cbIn(self):
        """
        The length of L{rgbIn}.

        @rtype: L{int}
        """
        return len(self.rgbIn)

    @property
    def Reserved1(self):
        """
        The length of L{Reserved0}.

        @rtype: L{int}
        """
        return len(self.Reserved0)

    @classmethod
    def _read(cls, r):
        handle, flags = r.contextHandle(), r.u32()
        rgbIn = _readSizedArray(r, "rgbIn", "cbIn", BIG_RANGE)
        pcbOut = checkRange("pcbOut", r.u32(), 0, BIG_RANGE)
        reserved = _readOutArray(r, "Reserved0", None)
        return cls(handle, flags, rgbIn, pcbOut, reserved)

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.pulFlags)
        w.conformantArray(self.rgbIn)
        w.u32(len(self.rgbIn))
        w.u32(self.pcbOut)
        w.conformantVaryingArray(self.Reserved0)
        w.u32(len(self.Reserved0))


@dataclass
class EcDoRpcExtResponse(Stub):
    """
    EcDoRpcExt [out].

    @ivar rgbOut: the response buffer (C{pcbOut} is its length).
    @ivar Reserved0: the reserved array (C{Reserved1} is its length).
    """

    handle: ContextHandle = _NULL_HANDLE
    pulFlags: int = 0
    rgbOut: bytes = b""
    Reserved0: bytes = b""
    pulTransTime: int = 0
    result: int = 0

    @property
    def pcbOut(self):
        """
        The length of L{rgbOut}.

        @rtype: L{int}
        """
        return len(self.rgbOut)

    @property
    def Reserved1(self):
        """
        The length of L{Reserved0}.

        @rtype: L{int}
        """
        return len(self.Reserved0)

    @classmethod
    def _read(cls, r):
        handle, flags = r.contextHandle(), r.u32()
        rgbOut = _readOutArray(r, "rgbOut", BIG_RANGE)
        reserved = _readOutArray(r, "Reserved0", None)
        return cls(handle, flags, rgbOut, reserved, r.u32(), r.u32())

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.pulFlags)
        _writeOutArray(w, "rgbOut", self.rgbOut, BIG_RANGE)
        w.conformantVaryingArray(self.Reserved0)
        w.u32(len(self.Reserved0))
        w.u32(self.pulTransTime)
        w.u32(self.result)


# -- EcDoConnectEx (opnum 10) --------------------------------------------------


@dataclass
class EcDoConnectExRequest(Stub):
    """
    EcDoConnectEx [in] ([MS-OXCRPC] 3.1.4.1): the logon of current clients.

    @ivar szUserDN: the user's legacy DN.
    @ivar rgwClientVersion: the client version, three u16.
    @ivar pulTimeStamp: the [in,out] timestamp.
    @ivar rgbAuxIn: the auxiliary input buffer, RPC_HEADER_EXT + AUX blocks
        (C{cbAuxIn} is its length, at most L{SMALL_RANGE}).
    @ivar pcbAuxOut: the largest C{rgbAuxOut} the client accepts.
    """

    szUserDN: str = ""
    ulFlags: int = 0
    ulConMod: int = 0
    cbLimit: int = 0
    ulCpid: int = 0
    ulLcidString: int = 0
    ulLcidSort: int = 0
    ulIcxrLink: int = 0
    usFCanConvertCodePages: int = 0
    rgwClientVersion: Tuple[int, int, int] = _VERSION
    pulTimeStamp: int = 0
    rgbAuxIn: bytes = b""
    pcbAuxOut: int = 0

    @property
    def cbAuxIn(self):
        """
        The length of L{rgbAuxIn}.

        @rtype: L{int}
        """
        return len(self.rgbAuxIn)

    @classmethod
    def _read(cls, r):
        return cls(
            r.string(name="szUserDN"),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u32(),
            r.u16(),
            _readVersion(r),
            r.u32(),
            _readSizedArray(r, "rgbAuxIn", "cbAuxIn", SMALL_RANGE),
            checkRange("pcbAuxOut", r.u32(), 0, SMALL_RANGE),
        )

    def _write(self, w):
        w.string(self.szUserDN)
        for value in (
            self.ulFlags,
            self.ulConMod,
            self.cbLimit,
            self.ulCpid,
            self.ulLcidString,
            self.ulLcidSort,
            self.ulIcxrLink,
        ):
            w.u32(value)
        w.u16(self.usFCanConvertCodePages)
        _writeVersion(w, "rgwClientVersion", self.rgwClientVersion)
        w.u32(self.pulTimeStamp)
        w.conformantArray(self.rgbAuxIn)
        w.u32(len(self.rgbAuxIn))
        w.u32(self.pcbAuxOut)


@dataclass
class EcDoConnectExResponse(Stub):
    """
    EcDoConnectEx [out] ([MS-OXCRPC] 3.1.4.1).

    @ivar handle: the new session context handle (CXH).
    @ivar picxr: the session index, a u16 ([MS-OXCRPC]; OpenChange's u32
        occupies the same four bytes when its high half is zero).
    @ivar szDNPrefix: the server's DN prefix, or L{None} for NULL.
    @ivar szDisplayName: the user's display name, or L{None}.
    @ivar rgbAuxOut: the auxiliary output buffer (C{pcbAuxOut} is its
        length).
    @ivar szDNPrefixReferent: the referent id the pointer had on the wire
        (0 picks a fresh one on encode).
    @ivar szDisplayNameReferent: likewise.
    """

    handle: ContextHandle = _NULL_HANDLE
    pcmsPollsMax: int = 0
    pcRetry: int = 0
    pcmsRetryDelay: int = 0
    picxr: int = 0
    szDNPrefix: Optional[str] = None
    szDisplayName: Optional[str] = None
    rgwServerVersion: Tuple[int, int, int] = _VERSION
    rgwBestVersion: Tuple[int, int, int] = _VERSION
    pulTimeStamp: int = 0
    rgbAuxOut: bytes = b""
    result: int = 0
    szDNPrefixReferent: int = field(default=0, compare=False, repr=False)
    szDisplayNameReferent: int = field(default=0, compare=False, repr=False)

    @property
    def pcbAuxOut(self):
        """
        The length of L{rgbAuxOut}.

        @rtype: L{int}
        """
        return len(self.rgbAuxOut)

    @classmethod
    def _read(cls, r):
        handle = r.contextHandle()
        polls, retry, delay, icxr = r.u32(), r.u32(), r.u32(), r.u16()
        prefix, prefixRef = _readStringPointer(r, "szDNPrefix")
        name, nameRef = _readStringPointer(r, "szDisplayName")
        return cls(
            handle,
            polls,
            retry,
            delay,
            icxr,
            prefix,
            name,
            _readVersion(r),
            _readVersion(r),
            r.u32(),
            _readOutArray(r, "rgbAuxOut", SMALL_RANGE),
            r.u32(),
            prefixRef,
            nameRef,
        )

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.pcmsPollsMax)
        w.u32(self.pcRetry)
        w.u32(self.pcmsRetryDelay)
        w.u16(self.picxr)
        _writeStringPointer(w, self.szDNPrefix, self.szDNPrefixReferent)
        _writeStringPointer(w, self.szDisplayName, self.szDisplayNameReferent)
        _writeVersion(w, "rgwServerVersion", self.rgwServerVersion)
        _writeVersion(w, "rgwBestVersion", self.rgwBestVersion)
        w.u32(self.pulTimeStamp)
        _writeOutArray(w, "rgbAuxOut", self.rgbAuxOut, SMALL_RANGE)
        w.u32(self.result)


# -- EcDoRpcExt2 (opnum 11) ----------------------------------------------------


@dataclass
class EcDoRpcExt2Request(Stub):
    """
    EcDoRpcExt2 [in] ([MS-OXCRPC] 3.1.4.2): one batch of ROPs.

    @ivar pulFlags: L{NO_COMPRESSION}, L{NO_XOR_MAGIC}, L{CHAIN}.
    @ivar rgbIn: the request buffer, RPC_HEADER_EXT + payload (C{cbIn} is
        its length, at most L{BIG_RANGE}).
    @ivar pcbOut: the largest C{rgbOut} the client accepts (at most
        L{BIG_RANGE}).
    @ivar rgbAuxIn: the auxiliary input buffer (C{cbAuxIn} is its length,
        at most L{SMALL_RANGE}).
    @ivar pcbAuxOut: the largest C{rgbAuxOut} the client accepts (at most
        L{SMALL_RANGE}).
    """

    handle: ContextHandle = _NULL_HANDLE
    pulFlags: int = 0
    rgbIn: bytes = b""
    pcbOut: int = 0
    rgbAuxIn: bytes = b""
    pcbAuxOut: int = 0

    @property
    def cbIn(self):
        """
        The length of L{rgbIn}.

        @rtype: L{int}
        """
        return len(self.rgbIn)

    @property
    def cbAuxIn(self):
        """
        The length of L{rgbAuxIn}.

        @rtype: L{int}
        """
        return len(self.rgbAuxIn)

    @classmethod
    def _read(cls, r):
        return cls(
            r.contextHandle(),
            r.u32(),
            _readSizedArray(r, "rgbIn", "cbIn", BIG_RANGE),
            checkRange("pcbOut", r.u32(), 0, BIG_RANGE),
            _readSizedArray(r, "rgbAuxIn", "cbAuxIn", SMALL_RANGE),
            checkRange("pcbAuxOut", r.u32(), 0, SMALL_RANGE),
        )

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.pulFlags)
        w.conformantArray(self.rgbIn)
        w.u32(len(self.rgbIn))
        w.u32(self.pcbOut)
        w.conformantArray(self.rgbAuxIn)
        w.u32(len(self.rgbAuxIn))
        w.u32(self.pcbAuxOut)


@dataclass
class EcDoRpcExt2Response(Stub):
    """
    EcDoRpcExt2 [out] ([MS-OXCRPC] 3.1.4.2).

    @ivar rgbOut: the response buffer, one or more RPC_HEADER_EXT + payload
        (C{pcbOut} is its length; max_count = actual_count = C{*pcbOut} on
        the wire).
    @ivar rgbAuxOut: the auxiliary output buffer (C{pcbAuxOut} is its
        length).
    @ivar pulTransTime: the server's processing time, in milliseconds.
    """

    handle: ContextHandle = _NULL_HANDLE
    pulFlags: int = 0
    rgbOut: bytes = b""
    rgbAuxOut: bytes = b""
    pulTransTime: int = 0
    result: int = 0

    @property
    def pcbOut(self):
        """
        The length of L{rgbOut}.

        @rtype: L{int}
        """
        return len(self.rgbOut)

    @property
    def pcbAuxOut(self):
        """
        The length of L{rgbAuxOut}.

        @rtype: L{int}
        """
        return len(self.rgbAuxOut)

    @classmethod
    def _read(cls, r):
        return cls(
            r.contextHandle(),
            r.u32(),
            _readOutArray(r, "rgbOut", BIG_RANGE),
            _readOutArray(r, "rgbAuxOut", SMALL_RANGE),
            r.u32(),
            r.u32(),
        )

    def _write(self, w):
        w.contextHandle(self.handle)
        w.u32(self.pulFlags)
        _writeOutArray(w, "rgbOut", self.rgbOut, BIG_RANGE)
        _writeOutArray(w, "rgbAuxOut", self.rgbAuxOut, SMALL_RANGE)
        w.u32(self.pulTransTime)
        w.u32(self.result)


# -- EcDoAsyncConnectEx (opnum 14) ---------------------------------------------


@dataclass
class EcDoAsyncConnectExRequest(_HandleOnly):
    """
    EcDoAsyncConnectEx [in] ([MS-OXCRPC] 3.1.4.4): the session handle (CXH).
    """


@dataclass
class EcDoAsyncConnectExResponse(Stub):
    """
    EcDoAsyncConnectEx [out]: the asynchronous context handle (ACXH) for
    AsyncEMSMDB, and the result.
    """

    async_handle: ContextHandle = _NULL_HANDLE
    result: int = 0

    @classmethod
    def _read(cls, r):
        return cls(r.contextHandle(), r.u32())

    def _write(self, w):
        w.contextHandle(self.async_handle)
        w.u32(self.result)


#: The EMSMDB codec, every opnum of [MS-OXCRPC] 3.1.4 / OpenChange.
EMSMDB = InterfaceCodec(
    "exchange_emsmdb",
    [
        Operation(0, "EcDoConnect", EcDoConnectRequest, EcDoConnectResponse),
        Operation(1, "EcDoDisconnect", EcDoDisconnectRequest, EcDoDisconnectResponse),
        Operation(2, "EcDoRpc", EcDoRpcRequest, EcDoRpcResponse),
        Operation(3, "EcGetMoreRpc", OpaqueRequest, OpaqueResponse),
        Operation(
            4,
            "EcRRegisterPushNotification",
            EcRRegisterPushNotificationRequest,
            EcRRegisterPushNotificationResponse,
        ),
        Operation(
            5,
            "EcRUnregisterPushNotification",
            EcRUnregisterPushNotificationRequest,
            EcRUnregisterPushNotificationResponse,
        ),
        Operation(6, "EcDummyRpc", EcDummyRpcRequest, EcDummyRpcResponse),
        Operation(7, "EcRGetDCName", OpaqueRequest, OpaqueResponse),
        Operation(8, "EcRNetGetDCName", OpaqueRequest, OpaqueResponse),
        Operation(9, "EcDoRpcExt", EcDoRpcExtRequest, EcDoRpcExtResponse),
        Operation(10, "EcDoConnectEx", EcDoConnectExRequest, EcDoConnectExResponse),
        Operation(11, "EcDoRpcExt2", EcDoRpcExt2Request, EcDoRpcExt2Response),
        Operation(12, "EcUnknown0xC", OpaqueRequest, OpaqueResponse),
        Operation(13, "EcUnknown0xD", OpaqueRequest, OpaqueResponse),
        Operation(
            14, "EcDoAsyncConnectEx", EcDoAsyncConnectExRequest, EcDoAsyncConnectExResponse
        ),
    ],
)
