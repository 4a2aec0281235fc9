# -*- test-case-name: tests.interfaces.test_codecs -*-
"""
Which stub codec decodes which interface: the Exchange interfaces have
one; any other relayed interface stays opaque bytes.
"""


def codecFor(name):
    """
    The L{mapiproxy.interfaces.base.InterfaceCodec} of an interface.

    @param name: the interface name (C{exchange_nsp}, ...).
    @return: the codec, or L{None} when the interface has none.
    """
    if name == "exchange_emsmdb":
        from mapiproxy.interfaces.emsmdb import EMSMDB

        return EMSMDB
    if name == "exchange_async_emsmdb":
        from mapiproxy.interfaces.asyncemsmdb import ASYNC_EMSMDB

        return ASYNC_EMSMDB
    if name == "exchange_ds_rfr":
        from mapiproxy.interfaces.rfr import RFR

        return RFR
    if name == "exchange_nsp":
        from mapiproxy.interfaces.nspi import CODEC

        return CODEC
    return None
