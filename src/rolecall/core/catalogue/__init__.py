"""The catalogue: the model (accounts, roles, search), the loader (parse and validate with
file:line, using the value rules and the key-line scanner), and the store (loading through the
parsed-catalogue cache that makes a warm load cost milliseconds).

Import the submodules directly; this package imports nothing, so the fast paths pay for only
what they use.
"""
