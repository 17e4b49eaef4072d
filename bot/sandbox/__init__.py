"""Attaché sandbox: the Discord emulation the tests and `attache sandbox` share."""
