"""
Tests for L{mapiproxy.client}.
"""
