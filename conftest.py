"""The docs are tests too: README.md's and docs/'s Python blocks (tests/docs/doc_pages.py).

Here, at the root, so that `pytest README.md docs/` finds them as well as a
plain `pytest` (whose testpaths name them).
"""

pytest_plugins = ["tests.docs.doc_pages"]
