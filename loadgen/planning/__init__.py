"""`loadgen plan`: from measured runs or a sweep and a target load, each model's quota to request
and its monthly bill by every way Bedrock sells it (docs/plan.md)."""
