"""CloudFront's side: the Lambda@Edge redirect, the format function, real-time logs, the ACL."""
