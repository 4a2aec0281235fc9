# -*- test-case-name: tests.client -*-
"""
C{mapiproxy-client}: an Outlook-like MAPI client over Exchange RPC
(ncacn_ip_tcp), built on mapiproxy's DCE/RPC engine and codecs.

L{mapiproxy.client.session} holds the protocol logic (profile creation
over RFR/NSPI, the EMSMDB session, the ROP helpers), as Deferred-returning
functions that take the reactor; L{mapiproxy.client.cli} parses the command
line and formats what they return.
"""
