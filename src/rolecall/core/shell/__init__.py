"""Shell integration that runs on every prompt and every TAB: the prompt segment and the
`__complete` answers, each a fast path that imports only what it uses."""
