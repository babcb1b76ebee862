"""The Lambda@Edge redirect function: a minimal bundle with its configuration written in.

Lambda@Edge differs from squrl's other functions (cdk_constructs/core/squrl_function.py) in ways the
shared construct cannot absorb: no environment variables, no X-Ray, no arm64, no layers, a role
that edgelambda.amazonaws.com assumes, a numbered version, and log groups that Lambda creates in
every region the function runs in. So it has its own construct, built on the same bundler types.

The bundle holds only the modules the handler imports (found by following its `shared.*`
imports), the generated `functions/edge_redirect/bundle_config.py`, and no third-party packages:
boto3 comes with the runtime; pydantic and Powertools are never imported on this path.
"""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cdk_constructs.core.bundling import REPO_ROOT, RUNTIME, FunctionAsset, materialize_asset
from cdk_constructs.core.compliance import acknowledge
from shared.contracts import names
from shared.contracts.names import CLOUDFRONT_REGION
from shared.redirect.edge_config import BUNDLE_PATH, EdgeBundleConfig, render_module

FUNCTION = "edge_redirect"
ARCHITECTURE = "x86_64"  # Lambda@Edge does not run arm64 functions.
# Origin-request functions may use up to 10 GB and 30 s. Memory buys CPU for boto3's import and
# TLS; 5 s covers the client's worst case (two attempts with backoff, see the handler).
MEMORY_MB = 512
TIMEOUT_SECONDS = 5
_BUNDLER_VERSION = "edge-1"


def _local_imports(path: Path) -> set[str]:
    """`shared.x` / `functions.x.y` modules imported anywhere in the file (nested imports too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.split(".")[0] in ("shared", "functions"))
    return found


def _module_file(module: str) -> Path | None:
    base = REPO_ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def bundle_sources() -> dict[str, Path]:
    """Relative path in the bundle -> source file: the handler and what it imports, transitively."""
    entry = REPO_ROOT / "functions" / FUNCTION / "handler.py"
    files: dict[str, Path] = {}
    pending = [entry]
    while pending:
        path = pending.pop()
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel in files:
            continue
        files[rel] = path
        for module in _local_imports(path):
            found = _module_file(module)
            if found is not None:
                pending.append(found)
    # Every package on the way needs its __init__.py to be importable.
    for rel in list(files):
        for parent in Path(rel).parents:
            init = REPO_ROOT / parent / "__init__.py"
            if parent != Path(".") and init.is_file():
                files.setdefault((parent / "__init__.py").as_posix(), init)
    return dict(sorted(files.items()))


def edge_asset(config: EdgeBundleConfig) -> FunctionAsset:
    """Assemble (or reuse) the bundle for one environment's configuration."""
    contents = {rel: path.read_bytes() for rel, path in bundle_sources().items()}
    contents[BUNDLE_PATH] = render_module(config).encode()
    sha = hashlib.sha256(_BUNDLER_VERSION.encode())
    for rel, data in sorted(contents.items()):
        sha.update(rel.encode() + b"\0" + len(data).to_bytes(8, "big") + data)
    asset_hash = sha.hexdigest()

    def fill(staging: Path) -> None:
        for rel, data in contents.items():
            destination = staging / rel
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(data)

    target = materialize_asset(FUNCTION, ARCHITECTURE, asset_hash, fill)
    return FunctionAsset(FUNCTION, ARCHITECTURE, target, asset_hash)


class EdgeRedirectFunction(Construct):
    """Exposes `.function`, `.function_name`, `.version` (what CloudFront associates) and
    `.asset`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env_name: str,
        bundle: EdgeBundleConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        function_name = names.function_name(env_name, FUNCTION)
        self.function_name = function_name
        self.asset = edge_asset(bundle)

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("lambda.amazonaws.com"),
                iam.ServicePrincipal("edgelambda.amazonaws.com"),
            ),
            description=f"squrl {env_name} edge redirect: read links, write its logs",
        )
        # Lambda@Edge logs to /aws/lambda/us-east-1.<name> in each region a copy runs in, and to
        # /aws/lambda/<name> in us-east-1 for test invocations.
        log_groups = [
            f"arn:{Aws.PARTITION}:logs:*:{Aws.ACCOUNT_ID}:log-group:/aws/lambda/{CLOUDFRONT_REGION}.{function_name}:*",
            f"arn:{Aws.PARTITION}:logs:{stack.region}:{Aws.ACCOUNT_ID}:log-group:/aws/lambda/{function_name}:*",
        ]
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=log_groups,
            )
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem"],
                resources=[
                    f"arn:{Aws.PARTITION}:dynamodb:{region}:{Aws.ACCOUNT_ID}:table/{bundle.table_name}"
                    for region in bundle.serving_regions
                ],
            )
        )
        acknowledge(
            self.role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:*:<AWS::AccountId>:"
            f"log-group:/aws/lambda/{CLOUDFRONT_REGION}.{function_name}:*]",
            "Lambda@Edge creates this function's log group in whichever region a copy runs, "
            "which follows viewer traffic; the name is fixed, only the region is open.",
        )
        for rel in (f"/aws/lambda/{function_name}:*",):
            acknowledge(
                self.role,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:{stack.region}:"
                f"<AWS::AccountId>:log-group:{rel}]",
                "Log streams inside the function's own log group get generated names.",
            )

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description="CloudFront origin request/response: GET/HEAD /{code} at the edge",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.X86_64,
            handler=self.asset.handler,
            code=self.asset.code(),
            memory_size=MEMORY_MB,
            timeout=Duration.seconds(TIMEOUT_SECONDS),
            role=self.role,
        )
        self.version = self.function.current_version
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "python3.13 is the newest Python runtime Lambda@Edge supports, and squrl's pinned "
            "runtime (the local server and tests run on 3.13).",
        )
