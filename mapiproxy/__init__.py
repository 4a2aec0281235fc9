"""
mapiproxy: a pure-Python, Twisted-based proxy for Microsoft Exchange RPC
(EMSMDB, AsyncEMSMDB, NSPI, RFR over ncacn_ip_tcp), a re-implementation of
OpenChange's MAPIProxy.
"""

__version__ = "0.1.0"
