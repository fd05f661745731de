"""The Textual terminal UI. Only `rolecall.cli` imports it; `rolecall.core` never does."""
