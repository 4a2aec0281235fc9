"""mapiproxy.interfaces."""
