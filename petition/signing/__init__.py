"""Signing: the form, the thank-you page, and the links emailed to signers."""
