"""REST endpoints of the rollout (one module per seam)."""
