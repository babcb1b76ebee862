"""What every squrl stack shares: its name, account, region, description and tags."""

from __future__ import annotations

from typing import Any, ClassVar

from aws_cdk import Environment, Stack, Tags
from constructs import Construct

from shared.contracts import names
from squrl_config import EnvironmentConfig


class SqurlStack(Stack):
    """A stack of one environment in one region, named `squrl-{env}-{ROLE}-{region}`.

    Subclasses set ROLE; `description` follows "squrl {env} " in the stack's description.
    Other keyword arguments go to `Stack` unchanged.
    """

    ROLE: ClassVar[str]

    def __init__(
        self,
        scope: Construct,
        *,
        config: EnvironmentConfig,
        region: str,
        description: str,
        **stack_options: Any,
    ) -> None:
        super().__init__(
            scope,
            names.stack_name(config.name, self.ROLE, region),
            env=Environment(account=config.account, region=region),
            description=f"squrl {config.name} {description}",
            **stack_options,
        )
        self.config = config
        Tags.of(self).add("squrl:environment", config.name)
        Tags.of(self).add("squrl:service", names.PREFIX)
