"""`--verify`: which keys may be checked and what an answer means (`policy.py`), and the HTTP client
(`client.py`), the only code that talks to Stripe."""
