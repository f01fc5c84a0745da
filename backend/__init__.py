"""Cloud back-end of E-Flux Local: accounts, cards, sessions, billing and the portal."""
