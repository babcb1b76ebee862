"""The redirect: `GET /{code}` answered on the regional path and at the edge.

`answer` (what the spec says the response is), `core` (the Redirector both paths use), `client`
(their one DynamoDB client: the lean reader, or DAX where on), `dynamodb` (the standard-library
SigV4 GetItem reader both paths use instead of boto3), `edge` (CloudFront's event shapes),
`edge_cache`, `edge_config` and `edge_regions` (the edge function's memory, bundle configuration
and nearest replica). The hot path: standard library only (boto3 only for DAX, imported where
DAX is on).
"""
