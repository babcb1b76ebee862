"""Dashboards, alarms and what they page, the budget and the end-to-end canary."""
