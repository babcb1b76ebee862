"""Reusable constructs: each applies squrl's defaults and exposes what stacks need."""
