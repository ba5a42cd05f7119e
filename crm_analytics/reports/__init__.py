"""Report queries over the published marts: one module per report (R1-R5)."""
