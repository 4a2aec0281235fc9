from twisted.application.service import ServiceMaker

mapiproxy = ServiceMaker("mapiproxy", "mapiproxy.service", "A proxy for Microsoft Exchange RPC (OpenChange MAPIProxy in Python).", "mapiproxy")
