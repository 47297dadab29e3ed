"""REST endpoints of deployment monitoring (one module per seam)."""
