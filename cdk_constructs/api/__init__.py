"""The regional REST API and its web ACL."""
