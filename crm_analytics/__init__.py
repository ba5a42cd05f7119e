"""crm-analytics: batch ELT for chains of locations."""

__version__ = "0.1.0"
