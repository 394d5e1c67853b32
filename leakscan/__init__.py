"""leakscan: find leaked Stripe credentials."""

__version__ = "0.1.0"
