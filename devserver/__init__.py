"""squrl on a laptop: the real handlers behind an API Gateway look-alike, on embedded DynamoDB."""
