# -*- test-case-name: tests.dcerpc.test_endtoend -*-
"""
Samba's C{rpcecho} test interface (librpc/idl/echo.idl), served by our
engine: a real interface that real clients (smbtorture's C{rpc.echo} suite,
impacket with raw stubs) can call, with stubs of any size.
"""

import struct
import uuid

from zope.interface import implementer

from mapiproxy.dcerpc.constants import Status
from mapiproxy.errors import DCERPCFault
from mapiproxy.imapiproxy import IRPCInterface

ECHO_UUID = uuid.UUID("60a15ec5-4de8-11d7-a637-005056a20182")
ECHO_VERSION = (1, 0)

OPNUMS = (
    "echo_AddOne",
    "echo_EchoData",
    "echo_SinkData",
    "echo_SourceData",
    "echo_TestCall",
    "echo_TestCall2",
    "echo_TestSleep",
    "echo_TestEnum",
    "echo_TestSurrounding",
    "echo_TestDoublePointer",
)

_U32 = struct.Struct("<I")


def sourceData(length):
    """
    The bytes C{echo_SourceData} returns: C{i & 0xff} for every position.
    """
    pattern = bytes(range(256))
    return (pattern * (length // 256 + 1))[:length]


@implementer(IRPCInterface)
class EchoInterface:
    """
    rpcecho: AddOne, EchoData, SinkData, SourceData, TestCall and
    TestSleep; the other opnums answer nca_op_rng_error.

    @ivar sunk: the total of bytes received by C{echo_SinkData}.
    """

    name = "rpcecho"
    requireAuthentication = True

    def __init__(self, reactor=None, requireAuthentication=True):
        from mapiproxy.dcerpc.pdu import SyntaxId

        self.syntax = SyntaxId(ECHO_UUID, *ECHO_VERSION)
        self.requireAuthentication = requireAuthentication
        self._reactor = reactor
        self.sunk = 0
        self.calls = []

    def contextBound(self, session):
        return None

    def contextReleased(self, session):
        # A client that went away does not get its sleeping calls answered.
        for d in session.state.pop("sleeping", set()).copy():
            d.cancel()

    def handleCall(self, call):
        self.calls.append((call.opnum, len(call.stub)))
        handler = getattr(self, "op_%d" % (call.opnum,), None)
        if handler is None:
            raise DCERPCFault(Status.NCA_S_OP_RNG_ERROR)
        try:
            result = handler(call.stub)
        except (struct.error, IndexError, ValueError) as e:
            raise DCERPCFault(Status.FAULT_NDR, "bad rpcecho stub: %s" % (e,))
        if not isinstance(result, bytes):
            sleeping = call.session.state.setdefault("sleeping", set())
            sleeping.add(result)
            result.addBoth(lambda r: (sleeping.discard(result), r)[1])
        return result

    def op_0(self, stub):
        (value,) = _U32.unpack_from(stub, 0)
        return _U32.pack((value + 1) & 0xFFFFFFFF)

    def op_1(self, stub):
        length, maxCount = struct.unpack_from("<II", stub, 0)
        data = stub[8 : 8 + length]
        if maxCount != length or len(data) != length:
            raise ValueError("size_is mismatch")
        return _U32.pack(length) + data

    def op_2(self, stub):
        length, maxCount = struct.unpack_from("<II", stub, 0)
        if maxCount != length or len(stub) < 8 + length:
            raise ValueError("size_is mismatch")
        self.sunk += length
        return b""

    def op_3(self, stub):
        (length,) = _U32.unpack_from(stub, 0)
        if length > 64 * 1024 * 1024:
            raise DCERPCFault(Status.NCA_S_FAULT_REMOTE_NO_MEMORY)
        return _U32.pack(length) + sourceData(length)

    def op_4(self, stub):
        # [in,string,charset(UTF16)] uint16 *s1 (a top-level ref pointer: the
        # string follows at once) -> [out,string,charset(UTF16)] uint16 **s2:
        # a referent id, then the same string.
        maxCount, offset, actual = struct.unpack_from("<III", stub, 0)
        text = stub[12 : 12 + actual * 2]
        if len(text) != actual * 2 or offset != 0 or actual > maxCount:
            raise ValueError("bad string")
        return struct.pack("<IIII", 0x00020000, actual, 0, actual) + text

    def op_5(self, stub):
        # echo_TestCall2: [in] uint16 level -> [out,switch_is(level),ref]
        # echo_Info *info (the u16 discriminant, then the arm), NTSTATUS.
        (level,) = struct.unpack_from("<H", stub, 0)
        arm = _INFO_ARMS.get(level)
        if arm is None:
            return struct.pack("<HxxI", level, 0xC0000003)  # NT_STATUS_INVALID_INFO_CLASS
        return struct.pack("<H", level) + arm + b"\x00\x00\x00\x00"

    def op_6(self, stub):
        # echo_TestSleep: answer after the requested seconds without blocking
        # the reactor (other calls on the association go on meanwhile).
        (seconds,) = _U32.unpack_from(stub, 0)
        answer = _U32.pack(seconds)
        if self._reactor is None or seconds == 0:
            return answer
        from twisted.internet.task import deferLater

        return deferLater(self._reactor, min(seconds, 30), lambda: answer)


# Arms of the echo_Info union for echo_TestCall2, each already aligned after
# the u16 discriminant as NDR lays it out (values as Samba's server sends).
_INFO_ARMS = {
    1: struct.pack("<B", 10) + b"\x00",
    2: struct.pack("<H", 20),
    3: b"\x00\x00" + struct.pack("<I", 30),
    4: b"\x00" * 6 + struct.pack("<Q", 40),
    5: b"\x00" * 6 + struct.pack("<B7xQ", 50, 60),
    6: struct.pack("<BB", 70, 80),
    7: b"\x00" * 6 + struct.pack("<B7xQ", 80, 90),
}
