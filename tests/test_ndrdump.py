"""
Print mode's formatting: ROPs by name, hex from the first ROP that does not
decode, hex dumps with offsets.
"""

from twisted.trial.unittest import SynchronousTestCase

from mapiproxy import ndrdump
from mapiproxy.mapi import extbuf, rops
from mapiproxy.mapi.rops.logon import LogonRequest
from mapiproxy.mapi.rops.notify import ReleaseRequest


class _State:
    side = "request"
    requests = None
    requestHandles = None
    buffers = 0

    def __init__(self):
        self.context = rops.RopContext()


class RopPrintingTests(SynchronousTestCase):
    """
    ROP lists as print mode shows them.
    """

    def test_namesAndFields(self):
        """
        Each ROP is printed with its name, id and fields.
        """
        ropBytes = rops.encodeRequests(
            [LogonRequest(logonId=0, inputHandleIndex=0, logonFlags=1, openFlags=0x01000000, storeState=0, essdn="/o=Org/cn=alice"), ReleaseRequest(inputHandleIndex=0)],
            rops.RopContext(),
        )
        lines = ndrdump._ropLines(extbuf.RopBuffer(rops=ropBytes, handles=[0xFFFFFFFF]), 1, _State())
        text = "\n".join(lines)
        self.assertIn("RopLogon (0xfe)", text)
        self.assertIn("essdn: '/o=Org/cn=alice'", text)
        self.assertIn("RopRelease (0x01)", text)

    def test_corruptTailAsHex(self):
        """
        After the ROPs that decode, the rest is shown as hex from that offset.
        """
        good = rops.encodeRequests([ReleaseRequest(inputHandleIndex=0)], rops.RopContext())
        ropBytes = good + bytes([0xFE, 0x00, 0x00, 0x01])  # a RopLogon cut short
        lines = ndrdump._ropLines(extbuf.RopBuffer(rops=ropBytes, handles=[1]), 1, _State())
        text = "\n".join(lines)
        self.assertIn("RopRelease (0x01)", text)
        self.assertIn("RopLogon (0xfe): does not decode", text)
        self.assertIn("0000  fe 00 00 01", text)

    def test_hexdump(self):
        """
        16 bytes a line with offsets and ASCII; long data is cut and counted.
        """
        self.assertEqual(ndrdump.hexdump(b"ABC"), ["0000  41 42 43" + " " * 39 + "  ABC"])
        lines = ndrdump.hexdump(bytes(100), limit=32)
        self.assertEqual(len(lines), 3)
        self.assertEqual(lines[-1], "... 68 more bytes")
