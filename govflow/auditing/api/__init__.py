"""REST endpoints of third-party auditing: one module per seam (certification,
assignment, findings), one thin view per action."""
