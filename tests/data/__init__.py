"""Everything the tests read: Divolte's test vectors and fixtures (copies, see ``sync.py``) and our configurations."""
