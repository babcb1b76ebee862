"""squrl's stacks: each wires constructs from cdk_constructs/ for one environment and region."""
