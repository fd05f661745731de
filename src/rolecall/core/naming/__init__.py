"""Session names: templates, their rendering and sanitising, and the assumed-role ARN that
CloudTrail will record."""
