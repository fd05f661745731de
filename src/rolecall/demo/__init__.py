"""The demo world: STS and IAM on loopback (moto), a sign-in page, and a matching catalogue.

Needs the optional extra `rolecall[demo]` (moto's server); nothing else imports this package.
"""
