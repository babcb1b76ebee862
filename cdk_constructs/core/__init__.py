"""What every domain builds on: functions, bundling, compliance, the table, DAX, WAF rules."""
