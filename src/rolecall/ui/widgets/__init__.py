"""Widgets of the rolecall TUI."""
