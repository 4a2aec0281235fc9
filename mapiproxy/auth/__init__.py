"""
Authentication for DCE/RPC: NTLMSSP (auth_type 10) and SPNEGO wrapping NTLM
(auth_type 9), for both the acceptor (client-facing) and the initiator
(upstream) roles. This package knows no PDU framing: it turns tokens into
security contexts that sign and seal byte ranges.
"""
