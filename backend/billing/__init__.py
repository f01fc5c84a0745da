"""The billing domain: every money and contract rule of the E-Flux terms, without I/O.

Pure functions over frozen dataclasses; amounts are integer euro cents (exact `Fraction`
inside, rounded once), dates are `date`, timestamps timezone-aware. The storage, the API and the
`eflux-backend invoice --month` command wrap `invoicer.run_month`. See docs/billing.md.
"""
