"""What the tests share: image builders, the server rigs (stdio, HTTP, in-process) and small client helpers.

Tests import from here, never from one another.
"""
