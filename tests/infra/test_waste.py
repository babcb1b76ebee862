"""Nothing is built that nothing reads, and every stream keeps records for the same time."""

from __future__ import annotations

import json

import pytest

from tests.infra.helpers import join, resources

pytestmark = [pytest.mark.xdist_group("synth"), pytest.mark.infra]

STREAM_RETENTION_HOURS = 24  # Kinesis's minimum: user agents are kept no longer than needed


def _stream_readers(templates) -> set[str]:
    """Every stream (or table) name an event source mapping or a Firehose delivery stream reads."""
    read: set[str] = set()
    for template in templates:
        sources = [
            m["Properties"]["EventSourceArn"]
            for m in resources(template, "AWS::Lambda::EventSourceMapping").values()
        ] + [
            d["Properties"]["KinesisStreamSourceConfiguration"]["KinesisStreamARN"]
            for d in resources(template, "AWS::KinesisFirehose::DeliveryStream").values()
            if "KinesisStreamSourceConfiguration" in d["Properties"]
        ]
        for source in sources:
            if isinstance(source, dict) and "Fn::GetAtt" in source:
                # A Kinesis stream by its Name; a table's stream (the invalidator) by its table.
                props = template["Resources"][source["Fn::GetAtt"][0]]["Properties"]
                read.add(props.get("Name") or props["TableName"])
            else:
                read.add(join(source).rsplit(":stream/", 1)[-1])
    return read


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
def test_every_stream_has_a_reader_in_its_environment(synth, env):
    templates = [t for name, t in synth.templates.items() if name.startswith(f"squrl-{env}-")]
    streams = {
        s["Properties"]["Name"]
        for template in templates
        for s in resources(template, "AWS::Kinesis::Stream").values()
    }
    assert streams <= _stream_readers(templates), env


def test_dev_has_no_stream_without_analytics(synth):
    assert synth.config.environments["dev"].analytics.enabled is False
    for name, template in synth.templates.items():
        if name.startswith("squrl-dev-"):
            assert not resources(template, "AWS::Kinesis::Stream"), name
            assert not resources(template, "AWS::CloudFront::RealtimeLogConfig"), name
            for distribution in resources(template, "AWS::CloudFront::Distribution").values():
                behaviour = distribution["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]
                assert "RealtimeLogConfigArn" not in behaviour


def test_every_stream_keeps_records_for_the_minimum(synth):
    found = 0
    for name, template in synth.templates.items():
        for stream in resources(template, "AWS::Kinesis::Stream").values():
            assert stream["Properties"]["RetentionPeriodHours"] == STREAM_RETENTION_HOURS, name
            found += 1
    assert found == 4  # click stream and edge request stream, in staging and prod


def test_every_log_group_squrl_creates_has_a_retention(synth):
    for name, template in synth.templates.items():
        for logical_id, group in resources(template, "AWS::Logs::LogGroup").items():
            assert "RetentionInDays" in group["Properties"], (name, logical_id, json.dumps(group))
