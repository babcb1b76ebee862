"""squrl's cost model (`make cost`, docs/cost.md).

It reads a synthesized cloud assembly (every environment's templates) and prices what the
templates hold with the committed price table (docs/prices.toml) and the assumptions stated in
`assumptions.py`: the cost at rest of each environment and region, and the marginal cost of
1M redirects on each path, 1M creates and 1M counted clicks. Its output feeds `make preflight`'s
budget check and the budget default (squrl_config/cost_at_rest.json) and the tables README.md,
docs/deploy.md and docs/cost.md quote.
"""
