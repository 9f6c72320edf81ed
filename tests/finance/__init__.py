"""Tests of the pure financing module (grants/finance)."""
