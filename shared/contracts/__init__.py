"""What the runtime, the infrastructure and the local server must agree on, written once.

Table definition and item layout (`table`), code shape (`codes`), link states (`link_state`),
resource names (`names`), metric names (`metrics`), the route table (`routes`), the headers and
statuses of the redirect paths (`http`), how click lines are marked (`clicks`) and the edge's
real-time log fields (`edge_log_fields`). Standard library only, importable from anywhere:
Lambda handlers, CDK constructs and the local server.
"""
