from mapiproxy_stamp import StampFactory

stamp = StampFactory()
