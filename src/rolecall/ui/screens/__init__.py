"""Screens of the rolecall TUI."""
