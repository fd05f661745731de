"""Sessions that outlive the hour: the credential server, renewal and IAM Identity Center
sign-in (DESIGN.md section 9)."""
