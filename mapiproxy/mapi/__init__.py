"""mapiproxy.mapi."""
