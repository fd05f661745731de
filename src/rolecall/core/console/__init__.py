"""The AWS console: federation sign-in URLs, the browser hand-off and the clipboard."""
