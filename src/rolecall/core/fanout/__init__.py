"""Many roles at once (`rolecall each`, and the TUI's "run across the marked roles").

`batch` plans every target first and assumes the hops they share once, in the caller's
thread (where an MFA code can be asked for); `children` then runs one command per target,
a few at a time, each with its target's environment. Neither prints nor prompts: lines,
questions and results go through callbacks and return values.
"""
