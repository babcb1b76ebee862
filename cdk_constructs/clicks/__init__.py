"""The click pipeline: the counting consumer, the data lake, regional click-line shipping."""
