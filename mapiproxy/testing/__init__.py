"""
Test services and helpers shipped with mapiproxy (used by its tests, its
benchmarks and by users who want to try the engine without Exchange).
"""
