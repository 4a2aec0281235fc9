"""mapiproxy.modules."""
