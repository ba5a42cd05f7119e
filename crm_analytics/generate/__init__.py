"""Deterministic, realistic sample extracts for the landing folder (`crm-analytics generate`)."""

from .generator import generate
from .summary import EntityCount, GenerateSummary

__all__ = ["EntityCount", "GenerateSummary", "generate"]
